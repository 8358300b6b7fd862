DROP INDEX organisations_by_ods_code;
ALTER TABLE organisations DROP COLUMN sign_in_policy;
DROP INDEX sessions_by_sso_sid;
ALTER TABLE sessions DROP COLUMN sso_provider, DROP COLUMN sso_sid;
DROP TABLE sso_logout_tokens;
DROP TABLE user_identities;
