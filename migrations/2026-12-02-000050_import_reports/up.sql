-- The report of a finished import, kept so that the page after the upload is a GET that can be
-- reloaded or bookmarked (Post/Redirect/Get). Each person keeps only their latest report per
-- organisation: it holds the file's addresses, so it is not kept longer than it is useful.
CREATE TABLE import_reports (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    created_by uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- JSON as text: jsonb refuses the \u0000 that a refused row may quote from the file.
    report text NOT NULL
);
CREATE INDEX import_reports_by_importer ON import_reports (organisation_id, created_by);
