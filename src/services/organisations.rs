//! Belonging to an organisation (joining one whose allowed domains admit your address), and the
//! organisation's own settings.

use diesel::PgConnection;

use super::{Actor, Decision, FieldError};
use crate::auth::permissions;
use crate::db::models::organisations::{self, Organisation};
use crate::db::models::{audit, user_identities};
use crate::domain::{
    AuditAction, EmailAddress, EmailDomains, OdsCode, OrganisationId, SignInPolicy,
};
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
    /// `None`: unchanged; `Some(None)`: no code.
    pub ods_code: Option<Option<OdsCode>>,
    /// `None`: unchanged.
    pub sign_in_policy: Option<SignInPolicy>,
}

/// A trust administrator saves the organisation's settings. Refused when the domains would no
/// longer admit the administrator's own address (they cannot lock themselves out), and for an
/// ODS code another organisation has (field `ods_code`).
pub fn update_settings(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    settings: &Settings,
) -> AppResult<Decision<String, FieldError>> {
    let user = actor.user()?;
    let org = permissions::administer_organisation(conn, user, org)?;
    if let Ok(email) = EmailAddress::parse(&user.email) {
        if !settings.domains.iter().any(|d| email.is_in_domain(d)) {
            return Ok(Decision::Refused(FieldError::new(
                "domains",
                format!("Keep a domain that admits your own address, {email}"),
            )));
        }
    }
    let ods_code = match &settings.ods_code {
        Some(code) => code.clone(),
        None => org.ods_code.as_deref().and_then(|c| OdsCode::parse(c).ok()),
    };
    let sign_in_policy = settings.sign_in_policy.unwrap_or(org.sign_in_policy);
    if sign_in_policy == SignInPolicy::SsoOnly
        && org.sign_in_policy != SignInPolicy::SsoOnly
        && user_identities::of_user(conn, user.id)?.is_empty()
    {
        return Ok(Decision::Refused(FieldError::new(
            "sign_in_policy",
            "Link single sign-on to your own account first (Sign-in methods), or you could not sign in again",
        )));
    }
    if let Some(code) = &ods_code {
        if let Some(other) = organisations::other_with_ods_code(conn, org.id, code)? {
            return Ok(Decision::Refused(FieldError::new(
                "ods_code",
                format!("{} already has the ODS code {}", other.name, code.as_str()),
            )));
        }
    }
    let members_may_create = settings.members_may_create_workspaces;
    organisations::update_settings(
        conn,
        org.id,
        &settings.domains,
        members_may_create,
        ods_code.as_ref(),
        sign_in_policy,
    )?;
    let mut detail = format!(
        "domains: {}; members may create workspaces: {}",
        settings.domains.join(", "),
        if members_may_create { "yes" } else { "no" }
    );
    // The ODS code and the sign-in policy are named when they change.
    if ods_code.as_ref().map(OdsCode::as_str) != org.ods_code.as_deref() {
        detail.push_str(&format!(
            "; ODS code: {}",
            ods_code.as_ref().map_or("none", OdsCode::as_str)
        ));
    }
    if sign_in_policy != org.sign_in_policy {
        detail.push_str(&format!("; sign-in: {}", sign_in_policy.label()));
    }
    audit::record(
        conn,
        &actor
            .event(AuditAction::OrganisationSettingsChanged)
            .organisation(org.id)
            .detail(detail),
    )?;
    Ok(Decision::Done("Organisation settings saved.".into()))
}
