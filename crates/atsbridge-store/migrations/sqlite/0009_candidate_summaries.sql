-- A candidate's summary as an application embeds it (Kombo's `application.candidate`),
-- rendered when the candidate is written, so a page of applications reads it instead of
-- parsing every candidate. Rows written before it have none; readers fall back to the
-- candidate's JSON for them.
ALTER TABLE records ADD COLUMN summary TEXT;
