-- Shared SQL helpers, created by `insyn build` in the warehouse (so analysts
-- can use them too). Each has a Python twin in src/insyn/text.py; tests check
-- that both agree. On Spark these become SQL functions of the same name.

-- All Unicode white space (str.isspace() in Python), non-breaking spaces included.
create or replace macro trim_ws(s) as
    regexp_replace(s, '^[\s\x{000B}\x{001C}-\x{001F}\x{0085}\x{00A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+|[\s\x{000B}\x{001C}-\x{001F}\x{0085}\x{00A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+$', '', 'g');

-- Inner white space collapsed to one space, trimmed, lower-cased (LeadSource keys).
create or replace macro squish_ws(s) as
    lower(trim_ws(regexp_replace(s, '[\s\x{000B}\x{001C}-\x{001F}\x{0085}\x{00A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+', ' ', 'g')));

-- Text as delivered, or NULL when blank.
create or replace macro blank_to_null(s) as nullif(trim_ws(s), '');

-- The e-mail identity: trimmed, lower-cased; blank means no e-mail.
create or replace macro email_key(s) as nullif(lower(trim_ws(s)), '');

-- The case-sensitive 15-character form of a Salesforce id (18 -> 15).
create or replace macro sfid15(s) as nullif(left(trim_ws(s), 15), '');

-- Salesforce and export booleans: true/false, 1/0, yes/no; anything else NULL.
create or replace macro to_bool(s) as
    case when lower(trim_ws(s)) in ('true', '1', 'yes', 'y') then true
         when lower(trim_ws(s)) in ('false', '0', 'no', 'n') then false end;

-- A date cell (YYYY-MM-DD, or an ISO date-time's date); NULL when unreadable.
create or replace macro to_date(s) as try_cast(left(trim_ws(s), 10) as date);

-- An amount with a decimal comma and space or non-breaking-space thousands: '1 250,00'.
create or replace macro to_amount(s) as
    try_cast(
        case when strpos(regexp_replace(s, '[\s\x{00A0}\x{202F}]', '', 'g'), ',') > 0
             then replace(replace(regexp_replace(s, '[\s\x{00A0}\x{202F}]', '', 'g'), '.', ''), ',', '.')
             else regexp_replace(s, '[\s\x{00A0}\x{202F}]', '', 'g') end
        as decimal(14, 2));

-- Calendar months with the month-end clamp: 31 Jan + 1 month = 28/29 Feb (Spark's add_months).
create or replace macro add_months(d, n) as cast(cast(d as date) + to_months(cast(n as integer)) as date);
