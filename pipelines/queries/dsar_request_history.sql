-- One request as each register export recorded it, oldest first.
select exported_at, request_id, request_type_label, received_text, identity_verified_text,
    extension_notified_text, answered_text, closed_text, outcome_label, fee_text, handler
from staging.stg_register__requests
where request_id = $request_id
order by exported_at
