-- When each address opted out of marketing, from every source: an
-- unsubscribe in the e-mail tool's latest audience export (UNSUB_TIME); an
-- ESP unsubscribe or spam report; an ESP group unsubscribe, which lasts until
-- a later group resubscribe from the address; and the CRM opt-out flag on a
-- current Contact, dated by its field history (a flag without history has no
-- time and is only in dim_crm_records). One row per opt-out; ended_at is
-- NULL while it lasts.
with members as (
    select * from staging.stg_mailchimp__members
),

events as (
    select * from staging.stg_esp__events
),

history as (
    select * from staging.stg_salesforce__contact_history
),

crm_records as (
    select * from marts.dim_crm_records
),

latest as (
    select * from marts.int_latest_exports
),

run as (
    select * from params.run
),

lists as (
    select * from params.value_lists
),

dated_events as (
    select events.*
    from events
    cross join run
    where events.occurred_on <= run.as_of and events.email_key is not null
),

audience_unsubscribes as (
    select
        members.email_key,
        'mailchimp.unsubscribed' as optout_source,
        members.euid as evidence_id,
        members.unsubscribed_at as started_at,
        cast(null as timestamp) as ended_at
    from members
    inner join latest
        on latest.source = 'mailchimp.unsubscribed' and members.exported_at = latest.exported_at
    where members.member_status = 'unsubscribed'
        and members.unsubscribed_at is not null
        and members.email_key is not null
),

esp_unsubscribes as (
    select
        email_key,
        'esp.' || event_type as optout_source,
        event_id as evidence_id,
        occurred_at as started_at,
        cast(null as timestamp) as ended_at
    from dated_events
    where event_type in (select value from lists where list_name = 'optout_events')
),

group_unsubscribes as (
    select * from dated_events
    where event_type in (select value from lists where list_name = 'group_optout_events')
),

group_resubscribes as (
    select * from dated_events
    where event_type in (select value from lists where list_name = 'group_resubscribe_events')
),

esp_group_unsubscribes as (
    select
        group_unsubscribes.email_key,
        'esp.' || group_unsubscribes.event_type as optout_source,
        group_unsubscribes.event_id as evidence_id,
        group_unsubscribes.occurred_at as started_at,
        min(group_resubscribes.occurred_at) as ended_at
    from group_unsubscribes
    left join group_resubscribes
        on group_resubscribes.email_key = group_unsubscribes.email_key
        and group_resubscribes.occurred_at > group_unsubscribes.occurred_at
    group by
        group_unsubscribes.email_key, group_unsubscribes.event_type,
        group_unsubscribes.event_id, group_unsubscribes.occurred_at
),

optout_history as (
    select history.contact_key, max(history.changed_at) as changed_at
    from history
    inner join latest
        on latest.source = 'salesforce.contacthistory' and history.exported_at = latest.exported_at
    cross join run
    where not history.is_deleted
        and lower(history.field_name) = lower(run.optout_history_field)
        and lower(trim_ws(history.new_value)) in (select value from lists where list_name = 'optout_history_true_values')
    group by history.contact_key
),

crm_optouts as (
    select
        crm_records.email_key,
        'salesforce.contact' as optout_source,
        crm_records.record_id as evidence_id,
        optout_history.changed_at as started_at,
        cast(null as timestamp) as ended_at
    from crm_records
    inner join optout_history
        on crm_records.record_key = optout_history.contact_key
    where crm_records.source = 'salesforce.contact'
        and crm_records.has_opted_out_of_email
        and crm_records.email_key is not null
),

final as (
    select * from audience_unsubscribes
    union all
    select * from esp_unsubscribes
    union all
    select * from esp_group_unsubscribes
    union all
    select * from crm_optouts
)

select * from final
