-- Every scheduler tick looks for RUNNING runs whose worker lost its lease; the runs table
-- grows without bound, so only the running ones are indexed.
CREATE INDEX sync_runs_running ON sync_runs (integration_id) WHERE state = 'RUNNING';
