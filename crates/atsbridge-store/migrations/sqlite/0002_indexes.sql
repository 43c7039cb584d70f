-- One index per filter of the list endpoints. Partial indexes (per model) keep each one as
-- small as the model it serves; queries name the model as a literal so the planner can use
-- them. Filters without an index say why in records.rs.
CREATE INDEX records_page ON records (integration_id, model, seq);
CREATE INDEX records_remote_id ON records (integration_id, model, remote_id);
CREATE INDEX records_updated_at ON records (integration_id, model, updated_at);
CREATE INDEX jobs_status ON records (integration_id, status) WHERE model = 'ats_jobs';
CREATE INDEX jobs_employment_type ON records (integration_id, employment_type) WHERE model = 'ats_jobs';
CREATE INDEX jobs_visibility ON records (integration_id, visibility) WHERE model = 'ats_jobs';
CREATE INDEX jobs_job_code ON records (integration_id, job_code) WHERE model = 'ats_jobs';
CREATE INDEX jobs_post_url ON records (integration_id, post_url) WHERE model = 'ats_jobs';
CREATE INDEX jobs_remote_created_at ON records (integration_id, remote_created_at) WHERE model = 'ats_jobs';
CREATE INDEX candidates_email ON records (integration_id, email_lower) WHERE model = 'ats_candidates';
CREATE INDEX candidates_first_name ON records (integration_id, first_name_lower) WHERE model = 'ats_candidates';
CREATE INDEX candidates_last_name ON records (integration_id, last_name_lower) WHERE model = 'ats_candidates';
CREATE INDEX applications_outcome ON records (integration_id, outcome) WHERE model = 'ats_applications';
CREATE INDEX applications_job_id ON records (integration_id, job_id) WHERE model = 'ats_applications';
CREATE INDEX applications_job_remote_id ON records (integration_id, job_remote_id) WHERE model = 'ats_applications';
CREATE INDEX applications_current_stage_id ON records (integration_id, current_stage_id) WHERE model = 'ats_applications';
CREATE INDEX applications_candidate_id ON records (integration_id, candidate_id) WHERE model = 'ats_applications';
CREATE INDEX applications_remote_created_at ON records (integration_id, remote_created_at) WHERE model = 'ats_applications';
CREATE INDEX stages_parent ON records (integration_id, parent_remote_id) WHERE model = 'ats_application_stages';

CREATE TABLE sync_runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    integration_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    requested_kind TEXT NOT NULL,
    state TEXT NOT NULL,
    worker TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    counts TEXT NOT NULL DEFAULT '{}',
    upstream_requests BIGINT NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX sync_runs_integration ON sync_runs (integration_id, seq);

CREATE TABLE created_applications (
    integration_id TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (integration_id, remote_id)
);

CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    integration_id TEXT,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_integration ON events (integration_id, seq);
