-- Everything held about one address ($email, normalised by the caller's
-- email_key), one row per place it appears.
with wanted as (
    select email_key($email) as email_key
)

select 'CRM' as area, r.source, r.record_id, r.first_name || ' ' || coalesce(r.last_name, '') as detail,
    cast(r.created_on as varchar) as on_date
from marts.dim_crm_records r, wanted where r.email_key = wanted.email_key
union all
select 'e-mail tool', 'mailchimp.' || m.member_status, m.euid, coalesce(m.unsubscribe_reason, m.tags, ''),
    cast(cast(m.exported_at as date) as varchar)
from staging.stg_mailchimp__members m
inner join marts.int_latest_exports l on l.source = 'mailchimp.' || m.member_status and m.exported_at = l.exported_at,
    wanted
where m.email_key = wanted.email_key
union all
select 'e-mail events', 'esp.events', cast(count(*) as varchar), string_agg(distinct e.event_type, ', ' order by e.event_type),
    cast(max(e.occurred_on) as varchar)
from staging.stg_esp__events e, wanted where e.email_key = wanted.email_key
having count(*) > 0
union all
select 'requests', 'register.requests', q.request_id, q.request_type || coalesce(' / ' || q.outcome, ''),
    cast(q.received_on as varchar)
from marts.fct_dsar_requests q, wanted where q.email_key = wanted.email_key
union all
select 'findings', f.rule, f.record_id, f.detail, null
from audit.current_findings f, wanted where f.email = wanted.email_key
