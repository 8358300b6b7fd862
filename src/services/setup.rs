//! First run: while nobody has an account, a one-time link (printed by the server) whose page
//! creates the first organisation and its trust administrator.

use diesel::PgConnection;

use super::links::{self, Link, LinkProblem};
use super::sign_up::NewAccount;
use super::Actor;
use crate::auth::password;
use crate::db::models::tokens::TokenState;
use crate::db::models::{audit, organisations, roles, tokens, users};
use crate::domain::{AuditAction, EmailDomains, Token, TokenPurpose};
use crate::error::AppResult;

/// When nobody has an account yet, issues a fresh setup link (the previous one stops working)
/// and returns it.
pub fn issue_link_if_empty(conn: &mut PgConnection, base_url: &str) -> AppResult<Option<String>> {
    if users::any_exist(conn)? {
        return Ok(None);
    }
    let token = Token::generate();
    tokens::issue(
        conn,
        TokenPurpose::Setup,
        None,
        &token.hash(),
        chrono::Duration::days(7),
    )?;
    Ok(Some(format!("{base_url}/setup/{}", token.plain())))
}

/// The setup form once it passed its rules.
pub struct FirstRun {
    pub organisation: String,
    pub domains: EmailDomains,
    /// Their address is in one of `domains`.
    pub administrator: NewAccount,
}

/// Creates the organisation and its trust administrator (verified, with the password chosen)
/// and uses the link up. Once anyone has an account the link counts as used.
pub fn set_up(
    conn: &mut PgConnection,
    actor: &Actor,
    token: &str,
    first_run: &FirstRun,
) -> AppResult<Link<()>> {
    links::live(conn, actor, TokenPurpose::Setup, token)?.and_then(|_| {
        let password_hash = password::hash_blocking(&first_run.administrator.password)?;
        links::use_up(conn, TokenPurpose::Setup, token)?.and_then(|_| {
            if users::any_exist(conn)? {
                return Ok(Link::Problem(LinkProblem::Dead(TokenState::Used)));
            }
            let org = organisations::create(conn, &first_run.organisation, &first_run.domains)?;
            let user = users::insert(conn, &first_run.administrator.row(&password_hash, true))?;
            organisations::add_member(conn, org.id, user.id)?;
            let admin_role = roles::trust_administrator(conn, org.id)?;
            roles::assign_organisation_wide(conn, &admin_role, user.id, None)?;
            audit::record(
                conn,
                &actor
                    .event(AuditAction::SetupCompleted)
                    .actor(user.id)
                    .target(user.id)
                    .organisation(org.id)
                    .detail(format!("created {} with its trust administrator", org.name)),
            )?;
            Ok(Link::Live(()))
        })
    })
}
