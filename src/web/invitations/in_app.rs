//! Invitations shown inside the app (home page and switcher) to the account with the invited
//! address: `POST /account/invitations/{invitation_id}/accept` | `/decline`. Only an invitation
//! addressed to the signed-in account's verified email is found; any other id is 404. The
//! decisions are in `services::invitations`.

use actix_web::{web, HttpResponse};

use super::landing::finish_acceptance;
use crate::domain::InvitationId;
use crate::error::AppResult;
use crate::services::{invitations, Actor};
use crate::web::context::Signed;

pub async fn accept(signed: Signed, id: web::Path<InvitationId>) -> AppResult<HttpResponse> {
    let (id, ip, base_url) = (id.into_inner(), signed.ip.clone(), signed.base_url());
    let decision = signed
        .decide(move |conn, user| {
            invitations::accept_addressed(conn, &base_url, &Actor::person(user, &ip), id)
        })
        .await?;
    finish_acceptance(&signed, "", decision).await
}

pub async fn decline(signed: Signed, id: web::Path<InvitationId>) -> AppResult<HttpResponse> {
    let (id, ip, base_url) = (id.into_inner(), signed.ip.clone(), signed.base_url());
    let message = signed
        .change(move |conn, user| {
            invitations::decline_addressed(conn, &base_url, &Actor::person(user, &ip), id)
        })
        .await?;
    signed.done(&message, "/")
}
