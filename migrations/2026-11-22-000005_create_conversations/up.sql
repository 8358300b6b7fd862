-- Conversations with patients: the patients (a workspace's shared list, or one user's personal
-- list), message templates (personal or shared), conversations (one patient in one workspace,
-- open until marked done) and the messages sent in them, each carried by an outbox row.

CREATE TABLE patients (
    id uuid PRIMARY KEY,
    -- exactly one of: the workspace whose shared list holds the patient, or the user whose
    -- personal list does
    workspace_id uuid REFERENCES workspaces (id) ON DELETE CASCADE,
    owner_id uuid REFERENCES users (id) ON DELETE CASCADE,
    -- ten digits, the last a valid modulus-11 check digit (checked by the application)
    nhs_number text NOT NULL CHECK (nhs_number ~ '^[0-9]{10}$'),
    first_name text NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
    surname text NOT NULL CHECK (length(surname) BETWEEN 1 AND 100),
    date_of_birth date NOT NULL,
    mobile text CHECK (mobile ~ '^\+447[0-9]{9}$'),
    email text CHECK (email = lower(email)),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_by uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((workspace_id IS NULL) <> (owner_id IS NULL)),
    CHECK (mobile IS NOT NULL OR email IS NOT NULL)
);
-- One record per NHS number in each list; the lists are read in surname order.
CREATE UNIQUE INDEX patients_workspace_nhs_number_key ON patients (workspace_id, nhs_number)
    WHERE workspace_id IS NOT NULL;
CREATE UNIQUE INDEX patients_owner_nhs_number_key ON patients (owner_id, nhs_number)
    WHERE owner_id IS NOT NULL;
CREATE INDEX patients_workspace_name_idx ON patients (workspace_id, surname, first_name)
    WHERE workspace_id IS NOT NULL;
CREATE INDEX patients_owner_name_idx ON patients (owner_id, surname, first_name)
    WHERE owner_id IS NOT NULL;

CREATE TABLE message_templates (
    id uuid PRIMARY KEY,
    -- exactly one of: shared in a workspace, or one user's own
    workspace_id uuid REFERENCES workspaces (id) ON DELETE CASCADE,
    owner_id uuid REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((workspace_id IS NULL) <> (owner_id IS NULL))
);
CREATE INDEX message_templates_workspace_idx ON message_templates (workspace_id, name)
    WHERE workspace_id IS NOT NULL;
CREATE INDEX message_templates_owner_idx ON message_templates (owner_id, name)
    WHERE owner_id IS NOT NULL;

CREATE TABLE conversations (
    id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    patient_id uuid NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    started_by uuid REFERENCES users (id) ON DELETE SET NULL,
    -- unassigned when NULL; set back to NULL when the assignee leaves or is removed
    assigned_to uuid REFERENCES users (id) ON DELETE SET NULL,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- the list's order; the latest message is shown in the list
    last_message_at timestamptz NOT NULL DEFAULT now(),
    last_message_id bigint,
    done_at timestamptz,
    done_by uuid REFERENCES users (id) ON DELETE SET NULL,
    CHECK ((status = 'done') = (done_at IS NOT NULL))
);
-- New messages to a patient join the open conversation: at most one per patient and workspace.
CREATE UNIQUE INDEX conversations_open_patient_key ON conversations (workspace_id, patient_id)
    WHERE status = 'open';
-- One index per filter of the list, each in the list's order (newest first), so a page is
-- read from the top of an index whatever the number of conversations.
CREATE INDEX conversations_workspace_recent_idx
    ON conversations (workspace_id, last_message_at DESC, id DESC);
CREATE INDEX conversations_assigned_recent_idx
    ON conversations (workspace_id, assigned_to, last_message_at DESC, id DESC)
    WHERE assigned_to IS NOT NULL;
CREATE INDEX conversations_unassigned_recent_idx
    ON conversations (workspace_id, last_message_at DESC, id DESC)
    WHERE assigned_to IS NULL;
CREATE INDEX conversations_patient_idx ON conversations (patient_id);

CREATE TABLE messages (
    id bigserial PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    sender_id uuid REFERENCES users (id) ON DELETE SET NULL,
    channel text NOT NULL CHECK (channel IN ('sms', 'email')),
    -- the number or address it went to, as it was then
    recipient text NOT NULL,
    -- what the sender wrote, placeholders filled in (the signature is added when it is sent)
    body text NOT NULL,
    template_id uuid REFERENCES message_templates (id) ON DELETE SET NULL,
    -- the outbox row that carries it (its delivery status is shown)
    outbox_id bigint REFERENCES outbox (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, id);
-- A pending member sees the conversations they sent in.
CREATE INDEX messages_sender_idx ON messages (workspace_id, sender_id, conversation_id);

ALTER TABLE conversations ADD FOREIGN KEY (last_message_id) REFERENCES messages (id)
    ON DELETE SET NULL;
