DROP INDEX users_email_local_idx;
DROP INDEX users_names_idx;
DROP TABLE roster_profiles;
DROP INDEX users_email_trgm;
DROP INDEX users_full_name_trgm;
-- pg_trgm stays installed: dropping an extension other objects may use is not ours to do.
