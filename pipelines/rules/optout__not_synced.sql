-- optout.not_synced: an address opted out in the CRM (flag set on a record in
-- the population) that is still in the e-mail tool's subscribed audience; or
-- an address unsubscribed in the e-mail tool whose CRM record in the
-- population is not opted out. One finding per address; the source is the
-- system still out of step (where the fix is needed).
with records as (
    select * from marts.dim_crm_records
),

members as (
    select * from staging.stg_mailchimp__members
),

latest as (
    select * from marts.int_latest_exports
),

current_members as (
    select members.*
    from members
    inner join latest
        on latest.source = 'mailchimp.' || members.member_status and members.exported_at = latest.exported_at
    where members.email_key is not null
),

crm_not_in_tool as (
    select distinct
        records.email_key,
        'mailchimp.subscribed' as source,
        'crm_not_in_tool' as kind
    from records
    inner join current_members
        on current_members.email_key = records.email_key and current_members.member_status = 'subscribed'
    where records.has_opted_out_of_email
),

tool_not_in_crm as (
    select distinct
        records.email_key,
        records.source,
        'tool_not_in_crm' as kind
    from records
    inner join current_members
        on current_members.email_key = records.email_key and current_members.member_status = 'unsubscribed'
    where not coalesce(records.has_opted_out_of_email, false)
),

both_ways as (
    select * from crm_not_in_tool
    union all
    select * from tool_not_in_crm
),

final as (
    select
        'optout.not_synced' as rule,
        email_key as record_id,
        email_key as email,
        min(source) as source,
        case when min(kind) <> max(kind) then 'rule.optout.not_synced.both_ways'
             else 'rule.optout.not_synced.' || min(kind) end as detail_id,
        cast(null as date) as first_date,
        cast(null as date) as second_date,
        cast(null as date) as third_date,
        cast(null as date) as fourth_date,
        cast(null as bigint) as first_number,
        cast(null as bigint) as second_number,
        cast(null as varchar) as first_text,
        cast(null as varchar) as second_text,
        cast(null as varchar) as reason,
        cast(null as timestamp) as first_time,
        1 as count
    from both_ways
    group by email_key
)

select * from final
