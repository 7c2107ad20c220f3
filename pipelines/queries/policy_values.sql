-- The policy values the snapshot was built with (params.run), for labels and thresholds.
select * from params.run
