DROP TRIGGER frames_after_organisation ON organisations;
DROP TRIGGER frames_after_role ON roles;
DROP TRIGGER frames_after_role_assignment ON role_assignments;
DROP TRIGGER frames_after_organisation_member ON organisation_members;
DROP TRIGGER frames_after_user ON users;
DROP TRIGGER frames_after_invitation ON invitations;
DROP TRIGGER frames_after_workspace ON workspaces;
DROP TRIGGER frames_after_membership ON workspace_members;
DROP FUNCTION frames_after_organisation(), frames_after_role(), frames_after_user_row(),
    frames_after_user(), frames_after_invitation(), frames_after_workspace(),
    frames_after_membership(), workspace_admins(uuid), bump_frames(uuid[]);
DROP INDEX users_lower_email_idx;
DROP TABLE frame_versions;
