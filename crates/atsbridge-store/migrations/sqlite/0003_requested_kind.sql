-- What a queued force sync asked for (FULL or DELTA), so the run can say what it ran instead.
ALTER TABLE integrations ADD COLUMN sync_requested_kind TEXT;
