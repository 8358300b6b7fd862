//! Administration ("Manage Users & Roles") for the people holding an organisation-wide role
//! with the needed permission: the Users page, adding people, their details, roles and account
//! actions, suspending or removing them, merging duplicates, the roster import, the
//! organisation's roles and its audit log.
//! Everyone else gets 404, like an organisation that does not exist.

pub mod account_actions;
pub mod audit;
pub mod import;
pub mod merge;
pub mod new_user;
pub mod profile_invite;
pub mod roles;
pub mod trust_control;
pub mod user;
pub mod user_roles;
pub mod users;

use actix_web::web;
use diesel::PgConnection;

use crate::db::models::organisations::Organisation;
use crate::db::models::roles as role_rows;
use crate::db::models::users::User;
use crate::domain::OrganisationId;
use crate::error::AppResult;

pub fn config(cfg: &mut web::ServiceConfig) {
    let base = "/organisations/{org_id}/admin";
    cfg.route(&format!("{base}/users"), web::get().to(users::users_page))
        .route(
            &format!("{base}/users/new"),
            web::get().to(new_user::new_user_form),
        )
        .route(
            &format!("{base}/users/new"),
            web::post().to(new_user::create),
        )
        .route(
            &format!("{base}/users/{{user_id}}"),
            web::get().to(user::details_page),
        )
        .route(
            &format!("{base}/users/{{user_id}}"),
            web::post().to(user::update_details),
        )
        .route(
            &format!("{base}/users/{{user_id}}/roles"),
            web::get().to(user_roles::roles_tab),
        )
        .route(
            &format!("{base}/users/{{user_id}}/roles"),
            web::post().to(user_roles::add),
        )
        .route(
            &format!("{base}/users/{{user_id}}/roles/{{assignment_id}}"),
            web::get().to(user_roles::edit_form),
        )
        .route(
            &format!("{base}/users/{{user_id}}/roles/{{assignment_id}}"),
            web::post().to(user_roles::change),
        )
        .route(
            &format!("{base}/users/{{user_id}}/roles/{{assignment_id}}/delete"),
            web::post().to(user_roles::delete),
        )
        .route(
            &format!("{base}/users/{{user_id}}/resend-confirmation"),
            web::post().to(account_actions::resend_confirmation),
        )
        .route(
            &format!("{base}/users/{{user_id}}/deactivate"),
            web::post().to(account_actions::deactivate),
        )
        .route(
            &format!("{base}/users/{{user_id}}/reactivate"),
            web::post().to(account_actions::reactivate),
        )
        .route(
            &format!("{base}/users/{{user_id}}/reset-two-factor"),
            web::post().to(account_actions::reset_two_factor),
        )
        .route(
            &format!("{base}/users/{{user_id}}/suspend"),
            web::get().to(trust_control::suspend_form),
        )
        .route(
            &format!("{base}/users/{{user_id}}/suspend"),
            web::post().to(trust_control::suspend),
        )
        .route(
            &format!("{base}/users/{{user_id}}/unsuspend"),
            web::post().to(trust_control::unsuspend),
        )
        .route(
            &format!("{base}/users/{{user_id}}/remove"),
            web::get().to(trust_control::remove_form),
        )
        .route(
            &format!("{base}/users/{{user_id}}/remove"),
            web::post().to(trust_control::remove),
        )
        .route(
            &format!("{base}/users/{{user_id}}/merge"),
            web::post().to(merge::merge),
        )
        .route(
            &format!("{base}/import"),
            web::get().to(import::import_form),
        )
        .route(&format!("{base}/import"), web::post().to(import::import))
        .route(
            &format!("{base}/import/reports/{{report_id}}"),
            web::get().to(import::report_page),
        )
        .route(
            &format!("{base}/profiles/{{profile_id}}/invite"),
            web::get().to(profile_invite::invite_form),
        )
        .route(
            &format!("{base}/profiles/{{profile_id}}/invite"),
            web::post().to(profile_invite::invite),
        )
        .route(&format!("{base}/roles"), web::get().to(roles::roles_page))
        .route(&format!("{base}/roles"), web::post().to(roles::create))
        .route(&format!("{base}/audit"), web::get().to(audit::audit_page))
        .route(
            &format!("{base}/audit.csv"),
            web::get().to(audit::audit_csv),
        );
}

/// The administration pages' own navigation: only the sections this person may open.
pub struct AdminNav {
    pub org_id: OrganisationId,
    pub org_name: String,
    pub current: &'static str,
    pub users: bool,
    pub import: bool,
    pub roles: bool,
    pub audit: bool,
    /// Teams: "manage users" or "manage workspaces".
    pub teams: bool,
}

impl AdminNav {
    pub fn load(
        conn: &mut PgConnection,
        org: &Organisation,
        user: &User,
        current: &'static str,
    ) -> AppResult<Self> {
        let held = role_rows::organisation_wide_of(conn, org.id, user.id)?;
        Ok(Self {
            org_id: org.id,
            org_name: org.name.clone(),
            current,
            users: held.iter().any(|r| r.manage_users),
            import: held.iter().any(|r| r.import_users),
            roles: held.iter().any(|r| r.manage_roles || r.manage_users),
            audit: held.iter().any(|r| r.view_audit),
            teams: held.iter().any(|r| r.manage_users || r.manage_workspaces),
        })
    }

    /// Contacts are every member's: the menu is worth showing only with something else in it.
    pub fn any_besides_contacts(&self) -> bool {
        self.users || self.import || self.roles || self.audit || self.teams
    }

    pub fn users_path(&self) -> String {
        format!("/organisations/{}/admin/users", self.org_id)
    }
}

/// The path of one person's page.
pub fn user_path(org: OrganisationId, user: crate::domain::UserId) -> String {
    format!("/organisations/{org}/admin/users/{user}")
}

/// A user's status as the Users table shows it, with its tag colour; `suspended` by this
/// organisation.
pub fn status_of(user: &User, suspended: bool) -> (&'static str, &'static str) {
    if !user.is_active() {
        ("Deactivated", "nhsuk-tag--grey")
    } else if suspended {
        ("Suspended", "nhsuk-tag--red")
    } else if !user.is_verified() {
        ("Awaiting confirmation", "nhsuk-tag--yellow")
    } else {
        ("Active", "nhsuk-tag--green")
    }
}

/// Quotes a CSV field and defuses spreadsheet formulas (a leading = + - @).
pub fn csv_field(value: &str) -> String {
    let safe = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    format!("\"{}\"", safe.replace('"', "\"\""))
}
