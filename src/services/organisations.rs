//! Belonging to an organisation (joining one whose allowed domains admit your address), and the
//! organisation's own settings.

use diesel::PgConnection;

use super::{Actor, Decision};
use crate::auth::permissions;
use crate::db::models::audit;
use crate::db::models::organisations::{self, Organisation};
use crate::domain::{AuditAction, EmailAddress, EmailDomains, OrganisationId};
use crate::error::AppResult;

/// The actor joins the organisation (again: nothing changes). Not found where its domains do
/// not admit them.
pub fn join(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
) -> AppResult<Organisation> {
    let user = actor.user()?;
    let org = permissions::joinable_organisation(conn, user, org)?;
    if organisations::add_member(conn, org.id, user.id)? == 1 {
        audit::record(
            conn,
            &actor
                .event(AuditAction::OrganisationJoined)
                .target(user.id)
                .organisation(org.id)
                .detail(format!("{} joined {}", user.full_name(), org.name)),
        )?;
    }
    Ok(org)
}

/// The organisation's settings as parsed from the form.
pub struct Settings {
    pub domains: EmailDomains,
    pub members_may_create_workspaces: bool,
}

/// A trust administrator saves the organisation's settings. Refused when the domains would no
/// longer admit the administrator's own address: they cannot lock themselves out.
pub fn update_settings(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    settings: &Settings,
) -> AppResult<Decision> {
    let user = actor.user()?;
    let org = permissions::administer_organisation(conn, user, org)?;
    if let Ok(email) = EmailAddress::parse(&user.email) {
        if !settings.domains.iter().any(|d| email.is_in_domain(d)) {
            return Ok(Decision::Refused(format!(
                "Keep a domain that admits your own address, {email}"
            )));
        }
    }
    let members_may_create = settings.members_may_create_workspaces;
    organisations::update_settings(conn, org.id, &settings.domains, members_may_create)?;
    audit::record(
        conn,
        &actor
            .event(AuditAction::OrganisationSettingsChanged)
            .organisation(org.id)
            .detail(format!(
                "domains: {}; members may create workspaces: {}",
                settings.domains.join(", "),
                if members_may_create { "yes" } else { "no" }
            )),
    )?;
    Ok(Decision::Done("Organisation settings saved.".into()))
}
