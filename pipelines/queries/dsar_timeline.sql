-- Requests with their dates and deadlines for the timeline; $year, $request_type
-- and $status ('open', 'closed', 'overdue') filter when not NULL.
select
    request_id, request_type, request_type_label, email_key, received_on, identity_verified_on,
    extension_notified_on, answered_on, closed_on, outcome, fee_sek, is_open, judged_on, days_elapsed,
    policy_due_on, legal_due_unrolled_on, legal_due_on, extended_due_unrolled_on, extended_due_on,
    has_valid_extension, applicable_due_on, is_overdue, is_past_policy_target
from marts.fct_dsar_requests
where ($year is null or year(received_on) = $year)
    and ($request_type is null or request_type = $request_type)
    and ($status is null
         or ($status = 'open' and is_open)
         or ($status = 'closed' and not is_open)
         or ($status = 'overdue' and is_overdue))
order by received_on, request_id
