//! The one integration test binary: the app on a loopback port, a real embedded PostgreSQL
//! (one database per test, cloned from a migrated template), and a real SMTP listener.

mod accounts;
mod admin;
mod browser;
mod browser_support;
mod cli;
mod conversations;
mod embedded_postgres;
mod fuzz;
mod hardening;
mod helpers;
mod input;
mod invitations;
mod logs;
mod mail;
mod organisation_settings;
mod password_change;
mod request_path;
mod scale;
mod scale_out;
mod schema;
mod security;
mod sign_in;
mod signed_out_mail;
mod sso;
mod teams;
mod trust_control;
mod workspaces;
