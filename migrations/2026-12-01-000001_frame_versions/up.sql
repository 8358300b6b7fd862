-- A version per user of what their page frame shows (the switcher, the approval prompt, the
-- invitations waiting, the Administration link). Servers keep frames in memory and read only
-- this number with the session; every change that alters someone's frame bumps their version
-- in the same transaction, so no server ever shows a frame older than the database.
CREATE TABLE frame_versions (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    version bigint NOT NULL DEFAULT 0
);

-- Invitations are matched to accounts by address.
CREATE INDEX users_lower_email_idx ON users (lower(email));

CREATE FUNCTION bump_frames(users uuid[]) RETURNS void LANGUAGE sql AS $$
    -- In user order, so that two transactions bumping the same people cannot deadlock.
    INSERT INTO frame_versions (user_id, version)
    SELECT u, 1 FROM (SELECT DISTINCT unnest(users) AS u) s
     WHERE u IS NOT NULL AND EXISTS (SELECT 1 FROM users WHERE id = u)
     ORDER BY u
    ON CONFLICT (user_id) DO UPDATE SET version = frame_versions.version + 1;
$$;

-- The workspace's approved admins see how many wait for approval.
CREATE FUNCTION workspace_admins(workspace uuid) RETURNS uuid[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(user_id), '{}') FROM workspace_members
     WHERE workspace_id = workspace AND status = 'approved' AND role = 'admin';
$$;

CREATE FUNCTION frames_after_membership() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM bump_frames(ARRAY[OLD.user_id]);
        IF OLD.status = 'pending' THEN
            PERFORM bump_frames(workspace_admins(OLD.workspace_id));
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM bump_frames(ARRAY[NEW.user_id]);
        IF NEW.status = 'pending' THEN
            PERFORM bump_frames(workspace_admins(NEW.workspace_id));
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER frames_after_membership AFTER INSERT OR UPDATE OR DELETE ON workspace_members
    FOR EACH ROW EXECUTE FUNCTION frames_after_membership();

-- A renamed or archived workspace: its members' switchers and its invitees' prompts.
CREATE FUNCTION frames_after_workspace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bump_frames(ARRAY(
        SELECT user_id FROM workspace_members WHERE workspace_id = NEW.id
        UNION
        SELECT u.id FROM invitations i JOIN users u ON lower(u.email) = i.email
         WHERE i.workspace_id = NEW.id AND i.accepted_at IS NULL));
    RETURN NULL;
END $$;
CREATE TRIGGER frames_after_workspace AFTER UPDATE ON workspaces
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION frames_after_workspace();

CREATE FUNCTION frames_after_invitation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.email IS NOT NULL THEN
        PERFORM bump_frames(ARRAY(SELECT id FROM users WHERE lower(email) = OLD.email));
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.email IS NOT NULL THEN
        PERFORM bump_frames(ARRAY(SELECT id FROM users WHERE lower(email) = NEW.email));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER frames_after_invitation AFTER INSERT OR UPDATE OR DELETE ON invitations
    FOR EACH ROW EXECUTE FUNCTION frames_after_invitation();

-- The account itself (name, address, verification, deactivation) and, for a renamed inviter,
-- the prompts of the people they invited.
CREATE FUNCTION frames_after_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bump_frames(ARRAY[NEW.id]);
    IF (OLD.first_name, OLD.surname) IS DISTINCT FROM (NEW.first_name, NEW.surname) THEN
        PERFORM bump_frames(ARRAY(
            SELECT u.id FROM invitations i JOIN users u ON lower(u.email) = i.email
             WHERE i.invited_by = NEW.id AND i.accepted_at IS NULL));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER frames_after_user AFTER UPDATE ON users
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION frames_after_user();

-- The Administration link: organisation membership, role assignments and what roles allow.
CREATE FUNCTION frames_after_user_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN PERFORM bump_frames(ARRAY[OLD.user_id]); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM bump_frames(ARRAY[NEW.user_id]); END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER frames_after_organisation_member AFTER INSERT OR UPDATE OR DELETE
    ON organisation_members FOR EACH ROW EXECUTE FUNCTION frames_after_user_row();
CREATE TRIGGER frames_after_role_assignment AFTER INSERT OR UPDATE OR DELETE
    ON role_assignments FOR EACH ROW EXECUTE FUNCTION frames_after_user_row();

CREATE FUNCTION frames_after_role() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bump_frames(ARRAY(SELECT user_id FROM role_assignments WHERE role_id = NEW.id));
    RETURN NULL;
END $$;
CREATE TRIGGER frames_after_role AFTER UPDATE ON roles
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION frames_after_role();

CREATE FUNCTION frames_after_organisation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bump_frames(ARRAY(SELECT user_id FROM role_assignments
                               WHERE organisation_id = NEW.id AND scope_workspace_id IS NULL));
    RETURN NULL;
END $$;
CREATE TRIGGER frames_after_organisation AFTER UPDATE OF name ON organisations
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION frames_after_organisation();
