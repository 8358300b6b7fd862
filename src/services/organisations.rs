//! Belonging to an organisation: joining one whose allowed domains admit your address.

use diesel::PgConnection;

use super::Actor;
use crate::auth::permissions;
use crate::db::models::audit;
use crate::db::models::organisations::{self, Organisation};
use crate::domain::{AuditAction, OrganisationId};
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
