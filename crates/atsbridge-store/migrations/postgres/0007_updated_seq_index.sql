-- Pages filtered by `updated_after` are ordered by (updated_at, seq) and continue from a
-- keyset position, so this index serves them as one range scan. It replaces the index on
-- (integration_id, model, updated_at), which it contains. (SQLite's index on updated_at
-- already ends in the rowid, which is seq.)
CREATE INDEX records_updated_seq ON records (integration_id, model, updated_at, seq);
DROP INDEX records_updated_at;
