//! The "..." menu of a person: `POST .../users/{user_id}/resend-confirmation` (a new 24-hour
//! link; the old one dies; only while the address is unconfirmed), `/deactivate` (every session
//! ends at once), `/reactivate` and `/reset-two-factor` (the next sign-in enrols a new
//! authenticator). The decisions are `services::accounts::act`.

use actix_web::{web, HttpResponse};

use super::user::refused;
use super::user_path;
use crate::domain::{OrganisationId, UserId};
use crate::error::AppResult;
use crate::services::accounts::{self, AccountAction};
use crate::services::{Actor, Decision};
use crate::web::context::Signed;

async fn act(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
    action: AccountAction,
) -> AppResult<HttpResponse> {
    let (org_id, person) = path.into_inner();
    let (base_url, ip) = (signed.base_url(), signed.ip.clone());
    let decision = signed
        .decide(move |conn, user| {
            let actor = Actor::person(user, &ip);
            accounts::act(conn, &base_url, &actor, org_id, person, action)
        })
        .await?;
    match decision {
        Decision::Done(flash) => signed.done(&flash, &user_path(org_id, person)),
        Decision::Refused(reason) => refused(&signed, org_id, person, "actions", reason).await,
    }
}

pub async fn resend_confirmation(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    act(signed, path, AccountAction::ResendConfirmation).await
}

pub async fn deactivate(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    act(signed, path, AccountAction::Deactivate).await
}

pub async fn reactivate(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    act(signed, path, AccountAction::Reactivate).await
}

pub async fn reset_two_factor(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    act(signed, path, AccountAction::ResetTwoFactor).await
}
