-- Manage Users & Roles: fast search over a million people, and rostered profiles.

-- Trigram indexes make the Users page's `ILIKE '%term%'` search use an index: the full-name
-- expression also serves a search by first name or surname alone.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_full_name_trgm ON users USING gin ((first_name || ' ' || surname) gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (email gin_trgm_ops);

-- One line per rostered medic an organisation imported: the grade the roster gave, and for a
-- row without an email address a profile that cannot sign in yet (user_id NULL) until an
-- administrator merges it into an account.
CREATE TABLE roster_profiles (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    first_name text NOT NULL,
    surname text NOT NULL,
    grade text NOT NULL DEFAULT '',
    imported_by uuid REFERENCES users (id) ON DELETE SET NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX roster_profiles_user_key ON roster_profiles (organisation_id, user_id)
    WHERE user_id IS NOT NULL;
-- Re-importing the same file creates no second profile for an email-less row.
CREATE UNIQUE INDEX roster_profiles_unlinked_key
    ON roster_profiles (organisation_id, lower(first_name), lower(surname), grade)
    WHERE user_id IS NULL;
CREATE INDEX roster_profiles_user_idx ON roster_profiles (user_id);

-- The Users page flags likely duplicates: same first name and surname, or same email local part.
CREATE INDEX users_names_idx ON users (lower(first_name), lower(surname));
CREATE INDEX users_email_local_idx ON users (split_part(email, '@', 1));
