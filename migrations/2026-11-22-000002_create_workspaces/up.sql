-- Team workspaces inside an organisation, and who belongs to them.

CREATE TABLE workspaces (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    specialty_code text NOT NULL REFERENCES specialties (code),
    description text NOT NULL DEFAULT '',
    -- who may invite: 'admins' only, or all approved 'members'
    invite_policy text NOT NULL DEFAULT 'members' CHECK (invite_policy IN ('admins', 'members')),
    guests_allowed boolean NOT NULL DEFAULT true,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- set when the last member leaves; archived workspaces are kept, never deleted
    archived_at timestamptz
);
-- Names are unique in an organisation, case-insensitively, among live workspaces.
CREATE UNIQUE INDEX workspaces_name_key ON workspaces (organisation_id, lower(name)) WHERE archived_at IS NULL;

CREATE TABLE workspace_members (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status text NOT NULL CHECK (status IN ('pending', 'approved')),
    role text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member', 'guest')),
    -- why they asked to join, shown to the admins
    request_message text NOT NULL DEFAULT '',
    requested_at timestamptz NOT NULL DEFAULT now(),
    approved_at timestamptz,
    approved_by uuid REFERENCES users (id) ON DELETE SET NULL,
    invited_by uuid REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user_idx ON workspace_members (user_id);
CREATE INDEX workspace_members_pending_idx ON workspace_members (workspace_id) WHERE status = 'pending';

ALTER TABLE role_assignments
    ADD CONSTRAINT role_assignments_scope_workspace_fkey
    FOREIGN KEY (scope_workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE;
ALTER TABLE audit_events
    ADD CONSTRAINT audit_events_workspace_fkey
    FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE SET NULL;
CREATE INDEX audit_events_workspace_idx ON audit_events (workspace_id, occurred_at DESC);
