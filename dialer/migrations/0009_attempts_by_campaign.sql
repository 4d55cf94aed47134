-- A campaign's attempts by when they were placed: what the pacer reads
-- back at the start of a run (its earlier calls, and their answers by the
-- hour of the day over two weeks) without scanning every campaign's.
CREATE INDEX attempts_by_campaign ON attempts(campaign_id, started_at);
