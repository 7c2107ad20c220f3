-- Requests received in calendar year $year (the latest register export on or
-- before the built as-of), with the deadline that applies to each and whether
-- it was kept, judged by the closed date as the dsar.* rules judge it:
-- deadline_status 'missed' (closed after the applicable deadline, or open past
-- it at as-of), 'pending' (open, deadline not reached) or 'met'; policy_status
-- likewise for the policy's own target (params.run.dsar_policy_target_days).
-- The applicable deadline is the extended one when the extension was told in
-- time (has_valid_extension), else the legal one, both rolled to a working day.
with judged as (
    select * from marts.fct_dsar_requests
    where year(received_on) = $year
),

final as (
    select
        request_id, request_type, request_type_label, received_on, identity_verified_on,
        extension_notified_on, answered_on, closed_on, outcome, is_open, judged_on, days_elapsed,
        case when not is_open then days_elapsed end as days_to_close,
        policy_due_on, legal_due_unrolled_on, legal_due_on, extended_due_unrolled_on, extended_due_on,
        extension_notified_on is not null as has_extension_notice, has_valid_extension, applicable_due_on,
        case when is_overdue then 'missed' when is_open then 'pending' else 'met' end as deadline_status,
        case when is_past_policy_target then 'missed' when is_open then 'pending' else 'met' end as policy_status
    from judged
)

select * from final
order by received_on, request_id
