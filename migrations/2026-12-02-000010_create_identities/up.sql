-- Single sign-on (OpenID Connect): who a provider says a person is, linked to one account.
CREATE TABLE user_identities (
    id uuid PRIMARY KEY,
    provider text NOT NULL,
    subject text NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- As the provider last gave them, for the person's list and the administrator's page.
    email text,
    role_names text[] NOT NULL DEFAULT '{}',
    first_sign_in_at timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, subject),
    -- One identity per provider for an account: a second would be a second person.
    UNIQUE (user_id, provider)
);

-- Back-channel logout tokens seen (their jti), kept until they expire: a replay is refused.
CREATE TABLE sso_logout_tokens (
    provider text NOT NULL,
    jti text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (provider, jti)
);

-- The provider's session a Staffroom session came from, so that its logout token ends it.
ALTER TABLE sessions ADD COLUMN sso_provider text, ADD COLUMN sso_sid text;
CREATE INDEX sessions_by_sso_sid ON sessions (sso_provider, sso_sid) WHERE sso_sid IS NOT NULL;

ALTER TABLE organisations
    ADD COLUMN sign_in_policy text NOT NULL DEFAULT 'password_or_sso'
        CHECK (sign_in_policy IN ('password_or_sso', 'sso_only'));
CREATE UNIQUE INDEX organisations_by_ods_code ON organisations (upper(ods_code))
    WHERE ods_code IS NOT NULL;
