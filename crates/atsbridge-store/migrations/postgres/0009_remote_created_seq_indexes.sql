-- Pages filtered by `remote_created_after` are ordered by (remote_created_at, seq) and
-- continue from a keyset position; these indexes serve them as one range scan. (SQLite's
-- indexes on remote_created_at end in the rowid, which is seq, already.)
CREATE INDEX jobs_remote_created_seq ON records (integration_id, remote_created_at, seq) WHERE model = 'ats_jobs';
DROP INDEX jobs_remote_created_at;
CREATE INDEX applications_remote_created_seq ON records (integration_id, remote_created_at, seq) WHERE model = 'ats_applications';
DROP INDEX applications_remote_created_at;
