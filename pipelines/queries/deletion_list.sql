-- Records due for deletion now (retention.inactive_company_initiated), ready
-- for a Salesforce bulk delete: the CRM id as exported, its object, and why
-- (detail in English; detail_id and the facts give it in any language).
select f.record_id as crm_id,
    case f.source when 'salesforce.contact' then 'Contact' when 'salesforce.lead' then 'Lead' end as sobject,
    f.email, r.created_on, f.detail,
    f.detail_id, f.first_date, f.second_date, f.third_date, f.fourth_date, f.first_number, f.second_number,
    f.first_text, f.second_text, f.reason, f.first_time
from audit.current_findings f
left join marts.dim_crm_records r on r.record_id = f.record_id and r.source = f.source
where f.rule = 'retention.inactive_company_initiated'
order by sobject, crm_id
