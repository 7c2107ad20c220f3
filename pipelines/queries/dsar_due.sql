-- Open requests at the built as-of with the days left to each deadline
-- (negative: overdue), nearest deadline first.
with run as (
    select * from params.run
)

select
    r.request_id, r.request_type, r.received_on, r.identity_verified_on, r.extension_notified_on,
    r.policy_due_on, date_diff('day', run.as_of, r.policy_due_on) as days_to_policy_target,
    r.legal_due_on, date_diff('day', run.as_of, r.legal_due_on) as days_to_legal_deadline,
    case when r.has_valid_extension then r.extended_due_on end as extended_due_on,
    case when r.has_valid_extension then date_diff('day', run.as_of, r.extended_due_on) end
        as days_to_extended_deadline,
    r.applicable_due_on, date_diff('day', run.as_of, r.applicable_due_on) as days_left, r.is_overdue
from marts.fct_dsar_requests r
cross join run
where r.is_open
order by days_left, r.request_id
