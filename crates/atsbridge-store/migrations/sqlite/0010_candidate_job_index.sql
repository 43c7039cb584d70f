-- Applications by candidate, with the job beside the candidate in the index: candidates
-- filtered by many jobs are found by walking the candidates in page order and asking this
-- index, for each, whether one of its applications is for one of the jobs, without
-- reading the application's row (the walk used to read every application of the jobs first).
-- Lookups by candidate alone use its first two columns, as they used the index it replaces.
DROP INDEX applications_candidate_id;
CREATE INDEX applications_candidate_job ON records (ikey, candidate_id, job_id) WHERE model = 3;
