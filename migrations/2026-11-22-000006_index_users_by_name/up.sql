-- The Users page lists people by surname, then first name, a page at a time: with a million
-- people, this index lets the first page be read in order instead of sorting everyone.
CREATE INDEX users_by_name_idx ON users (surname, first_name, id);
