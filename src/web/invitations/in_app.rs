//! Invitations shown inside the app (home page and switcher) to the account with the invited
//! address: `POST /account/invitations/{invitation_id}/accept` | `/decline`. Only an invitation
//! addressed to the signed-in account's verified email is found; any other id is 404.

use actix_web::{web, HttpRequest, HttpResponse};

use super::acceptance;
use super::landing::{finish_acceptance, record_decline};
use crate::auth::TypedSession;
use crate::db::models::invitations::{self, Invitation};
use crate::db::models::users::User;
use crate::domain::InvitationId;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::guards::CurrentUser;

/// The open invitation with this id addressed to this account.
fn addressed_invitation(
    conn: &mut diesel::PgConnection,
    user: &User,
    id: InvitationId,
) -> AppResult<Invitation> {
    if !user.is_verified() {
        return Err(AppError::NotFound);
    }
    invitations::open_for_email_by_id(conn, &user.email, id)?.ok_or(AppError::NotFound)
}

pub async fn accept(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<InvitationId>,
) -> AppResult<HttpResponse> {
    let (user, id, ip, base_url) = (
        current.user.clone(),
        id.into_inner(),
        crate::web::client_ip(&req),
        state.settings.base_url.clone(),
    );
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        let invitation = addressed_invitation(conn, &user, id)?;
        acceptance::accept(conn, &base_url, &invitation, &user, &ip, |conn| {
            invitations::accept_for_email(conn, id, &user.email, user.id)
        })
    })
    .await?;
    finish_acceptance(&session, &current, "", outcome)
}

pub async fn decline(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<InvitationId>,
) -> AppResult<HttpResponse> {
    let (user, id, ip, base_url) = (
        current.user.clone(),
        id.into_inner(),
        crate::web::client_ip(&req),
        state.settings.base_url.clone(),
    );
    let declined = crate::db::transaction(&state.pool, move |conn| {
        let invitation = addressed_invitation(conn, &user, id)?;
        record_decline(conn, &invitation, Some(user.id), &ip, &base_url)
    })
    .await?;
    let workspace = declined.ok_or(AppError::NotFound)?;
    session.set_flash(&format!(
        "You declined the invitation to {workspace}. We have told the person who invited you."
    ))?;
    Ok(crate::web::see_other("/"))
}
