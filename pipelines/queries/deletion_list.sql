-- Records due for deletion now (retention.inactive_company_initiated), ready
-- for a Salesforce bulk delete: the CRM id as exported, its object, and why.
select f.record_id as crm_id,
    case f.source when 'salesforce.contact' then 'Contact' when 'salesforce.lead' then 'Lead' end as sobject,
    f.email, r.created_on, f.detail
from rules.retention__inactive_company_initiated f
left join marts.dim_crm_records r on r.record_id = f.record_id and r.source = f.source
order by sobject, crm_id
