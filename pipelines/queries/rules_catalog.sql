-- Every rule with its titles, severity and legal reference (pipelines/rules/_models.yml).
select rule, table_name, severity, legal_reference, title_en, title_sv
from params.rules
order by rule
