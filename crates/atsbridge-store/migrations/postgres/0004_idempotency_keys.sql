-- Idempotency-Key of write actions: the first request with a key claims it (PENDING); its
-- successful answer is kept (DONE) and replayed for retries with the same body for 24 hours.
CREATE TABLE idempotency_keys (
    integration_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    status BIGINT,
    response TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (integration_id, idem_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
