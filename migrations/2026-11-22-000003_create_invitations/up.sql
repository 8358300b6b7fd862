-- Invitations into a workspace (by email, or for guests by UK mobile number), the links that
-- carry them, each workspace's shareable join link, and end dates for guests.

CREATE TABLE invitations (
    id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- exactly one of: an email address (lower-cased) or a mobile number (+447...)
    email text CHECK (email = lower(email)),
    mobile text CHECK (mobile ~ '^\+447[0-9]{9}$'),
    role text NOT NULL CHECK (role IN ('admin', 'member', 'guest')),
    invited_by uuid REFERENCES users (id) ON DELETE SET NULL,
    -- guests only: their membership ends at the end of this day
    guest_until date,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- when it was last sent; it lives 30 days from then
    sent_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    reminded_at timestamptz,
    -- the message that carried the latest link (its delivery status is shown to admins)
    outbox_id bigint REFERENCES outbox (id) ON DELETE SET NULL,
    accepted_at timestamptz,
    accepted_by uuid REFERENCES users (id) ON DELETE SET NULL,
    declined_at timestamptz,
    rescinded_at timestamptz,
    rescinded_by uuid REFERENCES users (id) ON DELETE SET NULL,
    -- ended because the person joined through another invitation
    superseded_at timestamptz,
    -- "ask for a new invitation" pressed on a dead link (once a day at most)
    new_invitation_asked_at timestamptz,
    CHECK ((email IS NULL) <> (mobile IS NULL)),
    CHECK (guest_until IS NULL OR role = 'guest')
);
-- At most one open invitation per address per workspace: inviting again resends it.
CREATE UNIQUE INDEX invitations_open_email_key ON invitations (workspace_id, email)
    WHERE email IS NOT NULL AND accepted_at IS NULL AND declined_at IS NULL
      AND rescinded_at IS NULL AND superseded_at IS NULL;
CREATE UNIQUE INDEX invitations_open_mobile_key ON invitations (workspace_id, mobile)
    WHERE mobile IS NOT NULL AND accepted_at IS NULL AND declined_at IS NULL
      AND rescinded_at IS NULL AND superseded_at IS NULL;
-- An existing user's invitations, shown inside the app.
CREATE INDEX invitations_open_by_email_idx ON invitations (email)
    WHERE accepted_at IS NULL AND declined_at IS NULL AND rescinded_at IS NULL AND superseded_at IS NULL;
CREATE INDEX invitations_workspace_idx ON invitations (workspace_id, sent_at DESC);
-- Reminders three days before expiry.
CREATE INDEX invitations_reminder_idx ON invitations (expires_at)
    WHERE reminded_at IS NULL AND accepted_at IS NULL AND declined_at IS NULL
      AND rescinded_at IS NULL AND superseded_at IS NULL;

-- The links (SHA-256 of the token) that lead to an invitation. A resend supersedes the earlier
-- ones; a reminder adds one without superseding. Accepting uses up the invitation itself.
CREATE TABLE invitation_links (
    token_hash text PRIMARY KEY,
    invitation_id uuid NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- a reminder's link (not counted against the daily sending limit)
    is_reminder boolean NOT NULL DEFAULT false,
    superseded_at timestamptz
);
CREATE INDEX invitation_links_invitation_idx ON invitation_links (invitation_id);

-- One shareable link per workspace; regenerating replaces the token and starts counting again.
CREATE TABLE workspace_join_links (
    workspace_id uuid PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    -- people who join through it are approved at once (else they wait for approval)
    approve_on_join boolean NOT NULL DEFAULT false,
    expires_at timestamptz,
    max_uses integer CHECK (max_uses > 0),
    uses integer NOT NULL DEFAULT 0,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

ALTER TABLE workspace_members
    ADD COLUMN ends_at timestamptz,
    ADD COLUMN end_warned_at timestamptz;
CREATE INDEX workspace_members_ends_idx ON workspace_members (ends_at) WHERE ends_at IS NOT NULL;
