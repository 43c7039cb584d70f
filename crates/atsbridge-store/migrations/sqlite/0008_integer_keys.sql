-- Records keyed by small integers: the integration as its `ikey` (integration_keys) and the
-- model as a number (1 jobs, 2 candidates, 3 applications, 4 application stages), instead
-- of the 31-character integration id and the model's name repeated in the row and in every
-- index entry. Everything else is copied as it is: ids, seq (cursors keep their meaning),
-- hashes (an upgraded store does not see its records as changed) and times.
CREATE TABLE integration_keys (
    ikey INTEGER PRIMARY KEY,
    integration_id TEXT NOT NULL UNIQUE
);
INSERT INTO integration_keys (integration_id)
    SELECT DISTINCT integration_id FROM records ORDER BY integration_id;

CREATE TABLE records_v2 (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ikey INTEGER NOT NULL,
    model INTEGER NOT NULL,
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
    UNIQUE (ikey, model, id)
);
INSERT INTO records_v2 (seq, ikey, model, id, remote_id, payload, hash, nested, nested_hash, changed_at, updated_at, remote_deleted_at, remote_created_at, parent_remote_id, name_lower, status, employment_type, visibility, job_code, post_url, email_lower, first_name_lower, last_name_lower, outcome, job_id, job_remote_id, current_stage_id, candidate_id)
    SELECT r.seq, k.ikey,
        CASE r.model WHEN 'ats_jobs' THEN 1 WHEN 'ats_candidates' THEN 2 WHEN 'ats_applications' THEN 3 WHEN 'ats_application_stages' THEN 4 END,
        r.id, r.remote_id, r.payload, r.hash, r.nested, r.nested_hash, r.changed_at, r.updated_at, r.remote_deleted_at, r.remote_created_at, r.parent_remote_id, r.name_lower, r.status, r.employment_type, r.visibility, r.job_code, r.post_url, r.email_lower, r.first_name_lower, r.last_name_lower, r.outcome, r.job_id, r.job_remote_id, r.current_stage_id, r.candidate_id
    FROM records r JOIN integration_keys k ON k.integration_id = r.integration_id
    ORDER BY r.seq;
DROP TABLE records;
ALTER TABLE records_v2 RENAME TO records;

CREATE INDEX records_page ON records (ikey, model, seq);
CREATE INDEX records_remote_id ON records (ikey, model, remote_id);
CREATE INDEX records_updated_at ON records (ikey, model, updated_at);
CREATE INDEX jobs_status ON records (ikey, status) WHERE model = 1;
CREATE INDEX jobs_employment_type ON records (ikey, employment_type) WHERE model = 1;
CREATE INDEX jobs_visibility ON records (ikey, visibility) WHERE model = 1;
CREATE INDEX jobs_job_code ON records (ikey, job_code) WHERE model = 1;
CREATE INDEX jobs_post_url ON records (ikey, post_url) WHERE model = 1;
CREATE INDEX jobs_remote_created_at ON records (ikey, remote_created_at) WHERE model = 1;
CREATE INDEX candidates_email ON records (ikey, email_lower) WHERE model = 2;
CREATE INDEX candidates_first_name ON records (ikey, first_name_lower) WHERE model = 2;
CREATE INDEX candidates_last_name ON records (ikey, last_name_lower) WHERE model = 2;
CREATE INDEX applications_outcome ON records (ikey, outcome) WHERE model = 3;
CREATE INDEX applications_job_id ON records (ikey, job_id) WHERE model = 3;
CREATE INDEX applications_job_remote_id ON records (ikey, job_remote_id) WHERE model = 3;
CREATE INDEX applications_current_stage_id ON records (ikey, current_stage_id) WHERE model = 3;
CREATE INDEX applications_candidate_id ON records (ikey, candidate_id) WHERE model = 3;
CREATE INDEX applications_remote_created_at ON records (ikey, remote_created_at) WHERE model = 3;
CREATE INDEX stages_parent ON records (ikey, parent_remote_id) WHERE model = 4;
