-- HRIS records reuse the filter columns (see `records::input::hris_columns` for which holds
-- what); these partial indexes serve their filters and their nested lookups.
-- 5 employees, 6 employments, 7 groups, 9 absences, 10 time-off balances.
CREATE INDEX employees_status ON records (ikey, status) WHERE model = 5;
CREATE INDEX employees_email ON records (ikey, email_lower) WHERE model = 5;
CREATE INDEX employees_group ON records (ikey, job_id) WHERE model = 5;
CREATE INDEX employments_employee ON records (ikey, candidate_id) WHERE model = 6;
CREATE INDEX groups_type ON records (ikey, status) WHERE model = 7;
CREATE INDEX absences_employee ON records (ikey, candidate_id) WHERE model = 9;
CREATE INDEX absences_type ON records (ikey, job_id) WHERE model = 9;
CREATE INDEX absences_days ON records (ikey, post_url, job_code) WHERE model = 9;
CREATE INDEX balances_employee ON records (ikey, candidate_id) WHERE model = 10;
CREATE INDEX employees_manager ON records (ikey, current_stage_id) WHERE model = 5;
CREATE INDEX balances_type ON records (ikey, job_id) WHERE model = 10;
