-- Connection links: a vendor asks for one (`POST /connect/create-link` or `/relink`) and its
-- customer opens it to connect (or reconnect) an ATS account. Only hashes of the tokens are
-- stored, so a copy of the database does not hand out working links.
CREATE TABLE connect_links (
    token_hash TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL,
    tool TEXT NOT NULL,
    -- 'connect' (creates an integration) or 'relink' (replaces an integration's credentials).
    purpose TEXT NOT NULL,
    -- The integration a relink link is for, or the one a connect link created.
    integration_id TEXT,
    end_user_email TEXT,
    organization_name TEXT NOT NULL,
    origin_id TEXT,
    language TEXT NOT NULL,
    link_type TEXT NOT NULL,
    redirect_url TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    completed_at BIGINT,
    -- The short-lived token handed back on completion, redeemed by
    -- `GET /connect/integration-by-token/{token}`.
    completion_hash TEXT UNIQUE,
    completion_expires_at BIGINT,
    failed_attempts BIGINT NOT NULL DEFAULT 0
);
