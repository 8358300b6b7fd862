ALTER TABLE conversations DROP COLUMN last_message_id;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE message_templates;
DROP TABLE patients;
