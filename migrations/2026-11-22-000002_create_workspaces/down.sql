DROP INDEX audit_events_workspace_idx;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_workspace_fkey;
ALTER TABLE role_assignments DROP CONSTRAINT role_assignments_scope_workspace_fkey;
DROP TABLE workspace_members, workspaces;
