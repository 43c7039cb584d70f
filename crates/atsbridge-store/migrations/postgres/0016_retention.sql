-- Retention: when a record deleted in the tool had its personal and descriptive fields
-- removed (`retention::anonymize`). Set once; a record the tool shows again is written
-- whole and loses it. The partial index finds the records still to anonymize, oldest
-- deletion first, without reading the ones done.
ALTER TABLE records ADD COLUMN anonymized_at BIGINT;
CREATE INDEX records_to_anonymize ON records (remote_deleted_at)
    WHERE remote_deleted_at IS NOT NULL AND anonymized_at IS NULL;
-- The purges by age: finished deliveries, events, runs.
CREATE INDEX deliveries_created_at ON deliveries (created_at);
CREATE INDEX events_created_at ON events (created_at);
CREATE INDEX sync_runs_ended_at ON sync_runs (ended_at) WHERE ended_at IS NOT NULL;
