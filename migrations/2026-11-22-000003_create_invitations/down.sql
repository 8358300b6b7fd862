ALTER TABLE workspace_members DROP COLUMN ends_at, DROP COLUMN end_warned_at;
DROP TABLE workspace_join_links;
DROP TABLE invitation_links;
DROP TABLE invitations;
