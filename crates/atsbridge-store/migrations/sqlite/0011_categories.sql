-- An integration belongs to one Kombo category (ATS or HRIS); a tool can offer both, as two
-- integrations. Every row before this migration is ATS.
ALTER TABLE integrations ADD COLUMN category TEXT NOT NULL DEFAULT 'ATS';
ALTER TABLE connect_links ADD COLUMN category TEXT NOT NULL DEFAULT 'ATS';
