-- Trust control of membership: an organisation suspends its people (they keep their place and
-- their roles but reach nothing of it), removes them (they may come back only through an
-- administrator or an invitation), and invites existing accounts instead of adding them.

ALTER TABLE organisation_members
    ADD COLUMN suspended_at timestamptz,
    ADD COLUMN suspended_by uuid REFERENCES users (id) ON DELETE SET NULL;

-- People an organisation removed: joining it by themselves (its Join button, a shareable link,
-- an example workspace) is refused while the row is here. An administrator adding them, or an
-- invitation they accept, takes it away.
CREATE TABLE organisation_removals (
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    removed_at timestamptz NOT NULL DEFAULT now(),
    removed_by uuid REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (organisation_id, user_id)
);

-- An invitation to join an organisation, sent to an address that already has an account (Add
-- new user, the roster import, a profile's invite): the person accepts it themselves, signed in
-- with that address. Only the SHA-256 of the link's token is kept; the link works once.
CREATE TABLE organisation_invitations (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    email text NOT NULL CHECK (email = lower(email)),
    token_hash text NOT NULL UNIQUE,
    invited_by uuid REFERENCES users (id) ON DELETE SET NULL,
    -- from the roster import: the grade to record once they join
    grade text,
    -- from a profile's invite: the email-less profile that becomes theirs once they join
    roster_profile_id uuid REFERENCES roster_profiles (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by uuid REFERENCES users (id) ON DELETE SET NULL,
    -- a newer invitation replaced it, or the person was suspended or removed since
    superseded_at timestamptz
);
-- At most one open invitation per address per organisation: inviting again replaces it.
CREATE UNIQUE INDEX organisation_invitations_open_key ON organisation_invitations (organisation_id, email)
    WHERE accepted_at IS NULL AND superseded_at IS NULL;
