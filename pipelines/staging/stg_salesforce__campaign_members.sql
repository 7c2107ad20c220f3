-- Salesforce CampaignMembers: a Contact or Lead in a Campaign, every snapshot.
with source as (
    select * from raw.salesforce__campaignmember
    -- every file, or on an increment those loaded since the last build
    where _file_id > (select after_file_id from params.increment)
),

final as (
    select
        trim_ws(id) as campaign_member_id,
        sfid15(id) as campaign_member_key,
        sfid15(campaignid) as campaign_key,
        sfid15(contactid) as contact_key,
        sfid15(leadid) as lead_key,
        blank_to_null(status) as member_status,
        to_bool(hasresponded) as has_responded,
        coalesce(to_bool(isdeleted), false) as is_deleted,
        createddate__utc as created_at,
        _exported_at as exported_at,
        _file_id as file_id,
        _record_no as record_no,
        _line_no as line_no
    from source
)

select * from final
