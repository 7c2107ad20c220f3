-- Company-initiated records not yet flagged whose retention period ends within
-- $days days of the built as-of (today included), if nothing new happens.
select record_id, source, email_key, created_on, last_dialogue_on, due_on, days_left
from marts.fct_retention_clock
where days_left >= 0 and days_left <= $days
order by due_on, record_id
