-- Every attempt of a webhook delivery, for the dashboard: the delivery row keeps only the
-- last one. Numbered by the delivery's attempt counter, which a redelivery continues. Goes
-- with its delivery (purge by age, integration deletion) through the foreign key.
CREATE TABLE delivery_attempts (
    delivery_seq INTEGER NOT NULL REFERENCES deliveries (seq) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    status BIGINT,
    latency_ms BIGINT NOT NULL,
    error TEXT,
    PRIMARY KEY (delivery_seq, attempt)
);
