-- The foundation: organisations, people, sign-in state, one-time tokens, the mail outbox,
-- the audit trail and throttling counters.

CREATE TABLE organisations (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    ods_code text,
    members_may_create_workspaces boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A domain also admits its subdomains: nhs.uk admits elft.nhs.uk.
CREATE TABLE organisation_domains (
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    domain text NOT NULL CHECK (domain = lower(domain) AND length(domain) > 0),
    PRIMARY KEY (organisation_id, domain)
);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    -- stored lower-cased by the application; unique case-insensitively
    email text NOT NULL CHECK (email = lower(email)),
    first_name text NOT NULL,
    surname text NOT NULL,
    -- NULL until the person chooses one (accounts created by an administrator)
    password_hash text,
    email_verified_at timestamptz,
    medical_secretary boolean NOT NULL DEFAULT false,
    imported boolean NOT NULL DEFAULT false,
    deactivated_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE organisation_members (
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, user_id)
);
CREATE INDEX organisation_members_user_idx ON organisation_members (user_id);

-- Organisation-level roles ("Manage Users & Roles"); "Trust administrator" is built in.
CREATE TABLE roles (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name text NOT NULL,
    built_in boolean NOT NULL DEFAULT false,
    manage_users boolean NOT NULL DEFAULT false,
    manage_roles boolean NOT NULL DEFAULT false,
    import_users boolean NOT NULL DEFAULT false,
    view_audit boolean NOT NULL DEFAULT false,
    manage_workspaces boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation_id, name)
);

CREATE TABLE role_assignments (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    role_id uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- NULL: the whole organisation; otherwise one workspace (constraint added with workspaces)
    scope_workspace_id uuid,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX role_assignments_user_idx ON role_assignments (user_id, organisation_id);

-- Server-side sessions for actix-session. Only a SHA-256 of the cookie's key is stored.
CREATE TABLE sessions (
    key_hash text PRIMARY KEY,
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    state text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Links that carry tokens: verification, password reset, first-run setup.
CREATE TABLE one_time_tokens (
    id uuid PRIMARY KEY,
    token_hash text NOT NULL UNIQUE,
    purpose text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'setup')),
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX one_time_tokens_user_idx ON one_time_tokens (user_id, purpose);

CREATE TABLE user_totp (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret bytea NOT NULL,
    -- NULL while enrolment is not confirmed with a first code
    confirmed_at timestamptz,
    -- the last TOTP time step accepted: a code is accepted only for a later step
    last_step bigint,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE recovery_codes (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash text NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, code_hash)
);

-- Every email (and later SMS) is written here in the transaction that causes it;
-- the worker delivers with retries.
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    channel text NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'sms')),
    recipient text NOT NULL,
    subject text NOT NULL,
    text_body text NOT NULL,
    html_body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    sent_at timestamptz,
    failed_at timestamptz,
    last_error text
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE TABLE audit_events (
    id bigserial PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    action text NOT NULL,
    target_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    organisation_id uuid REFERENCES organisations (id) ON DELETE SET NULL,
    workspace_id uuid,
    ip_address text,
    detail text NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_org_idx ON audit_events (organisation_id, occurred_at DESC);
CREATE INDEX audit_events_target_idx ON audit_events (target_user_id, occurred_at DESC);

-- Failure counters for sign-in, code and token attempts, per account and per address.
CREATE TABLE throttles (
    key text PRIMARY KEY,
    failures integer NOT NULL DEFAULT 0,
    last_failure_at timestamptz NOT NULL DEFAULT now()
);

-- NHS Data Dictionary treatment function codes, seeded below.
CREATE TABLE specialties (
    code text PRIMARY KEY,
    name text NOT NULL UNIQUE
);

-- NHS Data Dictionary, treatment function codes.
INSERT INTO specialties (code, name) VALUES
    ('100', 'General Surgery'),
    ('101', 'Urology'),
    ('102', 'Transplant Surgery'),
    ('103', 'Breast Surgery'),
    ('104', 'Colorectal Surgery'),
    ('105', 'Hepatobiliary and Pancreatic Surgery'),
    ('106', 'Upper Gastrointestinal Surgery'),
    ('107', 'Vascular Surgery'),
    ('108', 'Spinal Surgery Service'),
    ('110', 'Trauma and Orthopaedics'),
    ('120', 'Ear Nose and Throat'),
    ('130', 'Ophthalmology'),
    ('140', 'Oral Surgery'),
    ('141', 'Restorative Dentistry'),
    ('143', 'Orthodontics'),
    ('144', 'Maxillofacial Surgery'),
    ('145', 'Oral and Maxillofacial Surgery'),
    ('150', 'Neurosurgery'),
    ('160', 'Plastic Surgery'),
    ('161', 'Burns Care'),
    ('170', 'Cardiothoracic Surgery'),
    ('171', 'Paediatric Surgery'),
    ('172', 'Cardiac Surgery'),
    ('173', 'Thoracic Surgery'),
    ('174', 'Cardiothoracic Transplantation'),
    ('180', 'Emergency Medicine'),
    ('190', 'Anaesthetics'),
    ('191', 'Pain Management'),
    ('192', 'Critical Care Medicine'),
    ('300', 'General Internal Medicine'),
    ('301', 'Gastroenterology'),
    ('302', 'Endocrinology'),
    ('303', 'Clinical Haematology'),
    ('304', 'Clinical Physiology'),
    ('305', 'Clinical Pharmacology'),
    ('306', 'Hepatology'),
    ('307', 'Diabetes'),
    ('308', 'Blood and Marrow Transplantation'),
    ('309', 'Haemophilia'),
    ('310', 'Audio Vestibular Medicine'),
    ('311', 'Clinical Genetics'),
    ('313', 'Clinical Immunology and Allergy'),
    ('314', 'Rehabilitation Medicine'),
    ('315', 'Palliative Medicine'),
    ('316', 'Clinical Immunology'),
    ('317', 'Allergy'),
    ('318', 'Intermediate Care'),
    ('319', 'Respite Care'),
    ('320', 'Cardiology'),
    ('321', 'Paediatric Cardiology'),
    ('322', 'Clinical Microbiology'),
    ('323', 'Spinal Injuries'),
    ('324', 'Anticoagulant Service'),
    ('325', 'Sport and Exercise Medicine'),
    ('326', 'Acute Internal Medicine'),
    ('327', 'Cardiac Rehabilitation'),
    ('328', 'Stroke Medicine'),
    ('329', 'Transient Ischaemic Attack'),
    ('330', 'Dermatology'),
    ('331', 'Congenital Heart Disease'),
    ('340', 'Respiratory Medicine'),
    ('341', 'Respiratory Physiology'),
    ('342', 'Pulmonary Rehabilitation'),
    ('343', 'Adult Cystic Fibrosis'),
    ('347', 'Sleep Medicine'),
    ('350', 'Infectious Diseases'),
    ('352', 'Tropical Medicine'),
    ('360', 'Genitourinary Medicine'),
    ('361', 'Renal Medicine'),
    ('370', 'Medical Oncology'),
    ('371', 'Nuclear Medicine'),
    ('400', 'Neurology'),
    ('401', 'Clinical Neurophysiology'),
    ('410', 'Rheumatology'),
    ('420', 'Paediatrics'),
    ('421', 'Paediatric Neurology'),
    ('422', 'Neonatal Critical Care'),
    ('424', 'Well Baby'),
    ('430', 'Elderly Medicine'),
    ('431', 'Orthogeriatric Medicine'),
    ('450', 'Dental Medicine'),
    ('460', 'Medical Ophthalmology'),
    ('501', 'Obstetrics'),
    ('502', 'Gynaecology'),
    ('503', 'Gynaecological Oncology'),
    ('560', 'Midwifery'),
    ('650', 'Physiotherapy'),
    ('651', 'Occupational Therapy'),
    ('652', 'Speech and Language Therapy'),
    ('653', 'Podiatry'),
    ('654', 'Dietetics'),
    ('655', 'Orthoptics'),
    ('656', 'Clinical Psychology'),
    ('657', 'Prosthetics'),
    ('658', 'Orthotics'),
    ('659', 'Dramatherapy'),
    ('660', 'Art Therapy'),
    ('661', 'Music Therapy'),
    ('662', 'Optometry'),
    ('663', 'Podiatric Surgery'),
    ('700', 'Learning Disability'),
    ('710', 'Adult Mental Health'),
    ('711', 'Child and Adolescent Psychiatry'),
    ('712', 'Forensic Psychiatry'),
    ('713', 'Medical Psychotherapy'),
    ('715', 'Old Age Psychiatry'),
    ('720', 'Eating Disorders'),
    ('721', 'Addiction Services'),
    ('722', 'Liaison Psychiatry'),
    ('723', 'Psychiatric Intensive Care'),
    ('724', 'Perinatal Mental Health'),
    ('725', 'Mental Health Recovery and Rehabilitation'),
    ('726', 'Mental Health Dual Diagnosis'),
    ('727', 'Dementia Assessment Service'),
    ('730', 'Neuropsychiatry'),
    ('800', 'Clinical Oncology'),
    ('811', 'Interventional Radiology'),
    ('812', 'Diagnostic Imaging'),
    ('822', 'Chemical Pathology'),
    ('834', 'Medical Virology'),
    ('840', 'Audiology'),
    ('920', 'Diabetic Education'),
    ('950', 'Nursing Episode'),
    ('960', 'Allied Health Professional Episode');
