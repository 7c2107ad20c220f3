-- Rows of the latest request register export (on or before the built as-of)
-- with a date cell that could not be read, and which cells: such a cell counts
-- as empty (a request without a readable received date is left out of
-- marts.fct_dsar_requests altogether).
select r.request_id, r.received_on,
    r.received_text is not null and r.received_on is null as is_received_unreadable,
    r.identity_verified_text is not null and r.identity_verified_on is null as is_identity_verified_unreadable,
    r.extension_notified_text is not null and r.extension_notified_on is null as is_extension_notified_unreadable,
    r.answered_text is not null and r.answered_on is null as is_answered_unreadable,
    r.closed_text is not null and r.closed_on is null as is_closed_unreadable
from staging.stg_register__requests r
inner join marts.int_latest_exports l on l.source = 'register.requests' and r.exported_at = l.exported_at
where r.has_unreadable_date
order by r.record_no
