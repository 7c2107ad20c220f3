-- Evidence of an active sales dialogue with a CRM record, one row per dated
-- piece of evidence: closed, non-deleted Tasks that are not mass e-mails;
-- non-deleted Events; and, for Contacts, Opportunities linked through a
-- non-deleted OpportunityContactRole (last activity, creation, and close when
-- closed). Each object is taken from its latest export on or before as-of,
-- and nothing dated after the day that export was taken counts (it was
-- planned, not held). Not evidence: the record's own LastActivityDate.
with tasks as (
    select * from staging.stg_salesforce__tasks
),

events as (
    select * from staging.stg_salesforce__events
),

opportunities as (
    select * from staging.stg_salesforce__opportunities
),

contact_roles as (
    select * from staging.stg_salesforce__opportunity_contact_roles
),

latest as (
    select * from marts.int_latest_exports
),

non_dialogue_subtypes as (
    select value from params.value_lists where list_name = 'non_dialogue_task_subtypes'
),

task_evidence as (
    select
        tasks.who_key as record_key,
        'task' as evidence_type,
        tasks.task_id as evidence_id,
        tasks.activity_on
    from tasks
    inner join latest
        on latest.source = 'salesforce.task' and tasks.exported_at = latest.exported_at
    where tasks.is_closed
        and not tasks.is_deleted
        and tasks.activity_on <= latest.exported_on
        and coalesce(tasks.task_subtype, '') not in (select value from non_dialogue_subtypes)
),

event_evidence as (
    select
        events.who_key as record_key,
        'event' as evidence_type,
        events.event_id as evidence_id,
        events.activity_on
    from events
    inner join latest
        on latest.source = 'salesforce.event' and events.exported_at = latest.exported_at
    where not events.is_deleted
        and events.activity_on <= latest.exported_on
),

current_roles as (
    select contact_roles.*
    from contact_roles
    inner join latest
        on latest.source = 'salesforce.opportunitycontactrole' and contact_roles.exported_at = latest.exported_at
    where not contact_roles.is_deleted
),

current_opportunities as (
    select opportunities.*, latest.exported_on as export_on
    from opportunities
    inner join latest
        on latest.source = 'salesforce.opportunity' and opportunities.exported_at = latest.exported_at
    where not opportunities.is_deleted
),

opportunity_dates as (
    select opportunity_key, opportunity_id, export_on, last_activity_on as activity_on from current_opportunities
    union all
    select opportunity_key, opportunity_id, export_on, created_on as activity_on from current_opportunities
    union all
    select opportunity_key, opportunity_id, export_on, close_on as activity_on from current_opportunities
    where is_closed
),

opportunity_evidence as (
    select
        current_roles.contact_key as record_key,
        'opportunity' as evidence_type,
        opportunity_dates.opportunity_id as evidence_id,
        opportunity_dates.activity_on
    from current_roles
    inner join opportunity_dates
        on current_roles.opportunity_key = opportunity_dates.opportunity_key
    where opportunity_dates.activity_on <= opportunity_dates.export_on
),

final as (
    select * from task_evidence where record_key is not null and activity_on is not null
    union all
    select * from event_evidence where record_key is not null and activity_on is not null
    union all
    select * from opportunity_evidence where record_key is not null and activity_on is not null
)

select * from final
