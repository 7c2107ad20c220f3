-- Every rule with its titles, severity and legal reference (pipelines/rules/_models.yml;
-- the titles from locale/*/LC_MESSAGES/rules.po by title_id).
select rule, table_name, severity, legal_reference, title_id, title_en, title_sv
from params.rules
order by rule
