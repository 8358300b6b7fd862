//! One file per table: the row, the new row, and the table's queries as plain functions taking
//! `&mut PgConnection`, so a handler composes several in one transaction.

pub mod audit;
pub mod audit_log;
pub mod contacts;
pub mod conversations;
pub mod frame;
pub mod import_reports;
pub mod invitations;
pub mod join_links;
pub mod message_templates;
pub mod messages;
pub mod organisation_invitations;
pub mod organisations;
pub mod outbox;
pub mod patients;
pub mod people;
pub mod recovery_codes;
pub mod roles;
pub mod roster_profiles;
pub mod sessions;
pub mod specialties;
pub mod sso_logout_tokens;
pub mod team_invitations;
pub mod team_members;
pub mod teams;
pub mod throttles;
pub mod tokens;
pub mod totp;
pub mod user_identities;
pub mod users;
pub mod workspace_contacts;
pub mod workspace_members;
pub mod workspaces;
