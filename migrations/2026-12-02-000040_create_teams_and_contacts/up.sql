-- Teams (named groups of an organisation's people), the invitations sent to a workspace on a
-- team's behalf, and contacts: the people outside the organisation it works with.

CREATE TABLE teams (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (name <> ''),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- the target of team_members' composite key: a member's organisation is the team's
    UNIQUE (organisation_id, id)
);
CREATE UNIQUE INDEX teams_name_key ON teams (organisation_id, lower(name));

-- A member must belong to the team's organisation: the key on organisation_members says so,
-- and a person removed from the organisation leaves its teams with it.
CREATE TABLE team_members (
    team_id uuid NOT NULL,
    organisation_id uuid NOT NULL,
    user_id uuid NOT NULL,
    added_by uuid REFERENCES users (id) ON DELETE SET NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, user_id),
    FOREIGN KEY (organisation_id, team_id) REFERENCES teams (organisation_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organisation_id, user_id)
        REFERENCES organisation_members (organisation_id, user_id) ON DELETE CASCADE
);
CREATE INDEX team_members_user_idx ON team_members (organisation_id, user_id);

-- Which invitations a team's invitation sent (or sent again): the Users page groups them into
-- the team's row. Changing the team later changes none of these.
CREATE TABLE team_invitations (
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    invitation_id uuid NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    invited_by uuid REFERENCES users (id) ON DELETE SET NULL,
    invited_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, invitation_id)
);
CREATE INDEX team_invitations_invitation_idx ON team_invitations (invitation_id);

-- People outside the organisation (clients, carers, external professionals). Not
-- roster_profiles: those are the organisation's own rostered staff waiting for an account.
CREATE TABLE contacts (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    first_name text NOT NULL CHECK (first_name <> ''),
    surname text NOT NULL CHECK (surname <> ''),
    email text CHECK (email = lower(email)),
    mobile text CHECK (mobile ~ '^\+447[0-9]{9}$'),
    added_by uuid REFERENCES users (id) ON DELETE SET NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    CHECK (email IS NOT NULL OR mobile IS NOT NULL)
);
-- One contact per address in an organisation: adding the address again finds the one there.
CREATE UNIQUE INDEX contacts_email_key ON contacts (organisation_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX contacts_mobile_key ON contacts (organisation_id, mobile) WHERE mobile IS NOT NULL;
-- Search by first name or surname (pg_trgm is installed by the admin migration).
CREATE INDEX contacts_first_name_trgm ON contacts USING gin (first_name gin_trgm_ops);
CREATE INDEX contacts_surname_trgm ON contacts USING gin (surname gin_trgm_ops);
-- The list in its order (by surname), a page read in order rather than sorting everyone.
CREATE INDEX contacts_by_name_idx ON contacts (organisation_id, surname, first_name, id);
-- Likely duplicates: the same names, as `contacts::SAME_PERSON` compares them.
CREATE INDEX contacts_same_name_idx
    ON contacts (organisation_id, lower(btrim(surname)), lower(btrim(first_name)));

-- The contacts a workspace works with (its People page), and the invitation last sent to each.
CREATE TABLE workspace_contacts (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    contact_id uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    invitation_id uuid REFERENCES invitations (id) ON DELETE SET NULL,
    added_by uuid REFERENCES users (id) ON DELETE SET NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, contact_id)
);
CREATE INDEX workspace_contacts_contact_idx ON workspace_contacts (contact_id);
