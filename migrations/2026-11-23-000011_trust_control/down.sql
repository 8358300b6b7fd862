DROP TABLE organisation_invitations;
DROP TABLE organisation_removals;
ALTER TABLE organisation_members DROP COLUMN suspended_by, DROP COLUMN suspended_at;
