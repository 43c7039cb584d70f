-- Webhook subscriptions and their deliveries. An event written to the outbox creates, in the
-- same transaction, one delivery per webhook event it becomes and per matching subscription
-- of its environment; deliverers claim deliveries with a lease (one node at a time).
ALTER TABLE events ADD COLUMN environment_id TEXT;

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL,
    url TEXT NOT NULL,
    -- A JSON list of event types, or '*' for all.
    events TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);
CREATE INDEX webhooks_environment ON webhooks (environment_id);

CREATE TABLE deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    event_seq BIGINT NOT NULL,
    -- The webhook event: its own id and type (one outbox event can become several).
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    integration_id TEXT,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    first_attempt_at BIGINT,
    last_status BIGINT,
    last_latency_ms BIGINT,
    last_error TEXT,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (event_seq, event_type, webhook_id)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_order ON deliveries (webhook_id, integration_id, state, seq);
