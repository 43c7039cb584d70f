-- atsbridge schema, SQLite flavour. Timestamps are Unix milliseconds (BIGINT) so that both
-- backends compare and index them the same way; JSON is stored as TEXT.

CREATE TABLE integrations (
    id TEXT PRIMARY KEY,
    tool TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    status TEXT NOT NULL,
    setup_status TEXT NOT NULL,
    organization_name TEXT NOT NULL,
    creator_email TEXT,
    origin_id TEXT,
    settings TEXT NOT NULL,
    credentials TEXT,
    credentials_version BIGINT NOT NULL DEFAULT 0,
    invalid_credentials_version BIGINT,
    created_at BIGINT NOT NULL,
    first_synced_at BIGINT,
    data_expired_at BIGINT,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    sync_requested_at BIGINT,
    last_run_started_at BIGINT
);
CREATE INDEX integrations_environment ON integrations (environment_id);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL,
    label TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE records (
    -- Assigned once at insert and never changed: list pages key on it, so a record updated
    -- while a client pages through a list is neither lost nor repeated.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    integration_id TEXT NOT NULL,
    model TEXT NOT NULL,
    id TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    hash TEXT NOT NULL,
    nested TEXT,
    nested_hash TEXT,
    changed_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    remote_deleted_at BIGINT,
    remote_created_at BIGINT,
    parent_remote_id TEXT,
    name_lower TEXT,
    status TEXT,
    employment_type TEXT,
    visibility TEXT,
    job_code TEXT,
    post_url TEXT,
    email_lower TEXT,
    first_name_lower TEXT,
    last_name_lower TEXT,
    outcome TEXT,
    job_id TEXT,
    job_remote_id TEXT,
    current_stage_id TEXT,
    candidate_id TEXT,
    UNIQUE (integration_id, model, id)
);
