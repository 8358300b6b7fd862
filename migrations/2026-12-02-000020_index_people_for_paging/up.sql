-- Search terms of one or two characters cannot use the trigram indexes (a trigram needs three):
-- they match the start of a first name, a surname or an email's local part, read from these.
-- text_pattern_ops: LIKE 'ab%' can use them whatever the database's collation.
CREATE INDEX users_first_name_prefix_idx ON users (lower(first_name) text_pattern_ops);
CREATE INDEX users_surname_prefix_idx ON users (lower(surname) text_pattern_ops);
CREATE INDEX users_email_local_prefix_idx ON users (split_part(email, '@', 1) text_pattern_ops);

-- A workspace's Users page reads its members a page at a time, approved and pending apart,
-- and its invitations newest first: each list is read from an index in its order.
CREATE INDEX workspace_members_by_status_idx ON workspace_members (workspace_id, status, user_id);
CREATE INDEX invitations_workspace_page_idx ON invitations (workspace_id, sent_at DESC, id DESC);
