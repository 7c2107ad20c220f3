-- The requests in the latest register export on or before as-of, with their
-- deadlines: the policy's own target (received + N days, calendar days), and
-- the legal one month (add_months with the month-end clamp) and extended three
-- months, each shown unrolled and rolled forward to the next working day
-- (params.calendar: weekends, public holidays, extra non-working days). A
-- request is judged by its closed date, or at as-of while open. Requests whose
-- received date cannot be read are left to the quality checks.
with requests as (
    select * from staging.stg_register__requests
),

latest as (
    select * from marts.int_latest_exports
),

calendar as (
    select * from params.calendar
),

run as (
    select * from params.run
),

current_requests as (
    select requests.*
    from requests
    inner join latest
        on latest.source = 'register.requests' and requests.exported_at = latest.exported_at
),

deadlines as (
    select
        current_requests.*,
        current_requests.received_on + run.dsar_policy_target_days as policy_due_on,
        add_months(current_requests.received_on, run.dsar_legal_deadline_months) as legal_due_unrolled_on,
        add_months(current_requests.received_on, run.dsar_extended_deadline_months) as extended_due_unrolled_on,
        coalesce(current_requests.closed_on, run.as_of) as judged_on,
        current_requests.closed_on is null as is_open,
        date_diff('day', current_requests.received_on, coalesce(current_requests.closed_on, run.as_of))
            > run.dsar_policy_target_days as is_past_policy_target
    from current_requests
    cross join run
    where current_requests.received_on is not null
        and current_requests.received_on <= run.as_of
),

rolled as (
    select
        deadlines.file_id,
        deadlines.record_no,
        min(case when legal.day >= deadlines.legal_due_unrolled_on then legal.day end) as legal_due_on,
        min(case when legal.day >= deadlines.extended_due_unrolled_on then legal.day end) as extended_due_on
    from deadlines
    inner join calendar as legal
        on legal.is_working_day and legal.day >= deadlines.legal_due_unrolled_on
    group by deadlines.file_id, deadlines.record_no
),

final as (
    select
        deadlines.request_id,
        deadlines.received_on,
        deadlines.email,
        deadlines.email_key,
        deadlines.crm_id,
        deadlines.crm_key,
        deadlines.request_type,
        deadlines.request_type_label,
        deadlines.identity_verified_on,
        deadlines.extension_notified_on,
        deadlines.answered_on,
        deadlines.closed_on,
        deadlines.outcome,
        deadlines.fee_sek,
        deadlines.is_open,
        deadlines.judged_on,
        deadlines.policy_due_on,
        deadlines.legal_due_unrolled_on,
        rolled.legal_due_on,
        deadlines.extended_due_unrolled_on,
        rolled.extended_due_on,
        deadlines.extension_notified_on is not null
            and deadlines.extension_notified_on <= rolled.legal_due_on as has_valid_extension,
        case when deadlines.extension_notified_on is not null
                  and deadlines.extension_notified_on <= rolled.legal_due_on
             then rolled.extended_due_on else rolled.legal_due_on end as applicable_due_on,
        deadlines.judged_on > case when deadlines.extension_notified_on is not null
                                        and deadlines.extension_notified_on <= rolled.legal_due_on
                                   then rolled.extended_due_on else rolled.legal_due_on end as is_overdue,
        deadlines.is_past_policy_target,
        date_diff('day', deadlines.received_on, deadlines.judged_on) as days_elapsed,
        deadlines.request_type = 'access' and coalesce(deadlines.fee_sek, 0) = 0 as is_free_access,
        deadlines.exported_at,
        deadlines.file_id,
        deadlines.record_no,
        deadlines.line_no
    from deadlines
    inner join rolled
        on deadlines.file_id = rolled.file_id and deadlines.record_no = rolled.record_no
)

select * from final
