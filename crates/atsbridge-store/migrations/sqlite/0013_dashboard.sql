-- The operator dashboard (`/dashboard`): operator keys live beside API keys, told apart by
-- `kind` ('api' calls /v1, 'operator' signs in to the dashboard; neither can do the other).
ALTER TABLE api_keys ADD COLUMN kind TEXT NOT NULL DEFAULT 'api';

-- Signed-in dashboard sessions. Only the digest of the session id (the cookie) is stored;
-- `csrf` is the token every form of the session must carry.
CREATE TABLE dashboard_sessions (
    id_hash TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);

-- What each sync run did, line by line (read, written, asked about, deleted, retried, why it
-- failed), shown on the run's dashboard page.
CREATE TABLE run_logs (
    run_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

-- The dashboard lists connection links newest first (runs and deliveries go by their seq).
CREATE INDEX connect_links_created ON connect_links (created_at);
