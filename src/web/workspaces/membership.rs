//! Asking to join a workspace (`POST /workspaces/{id}/join`) and leaving it
//! (`POST /workspaces/{id}/leave`). The decisions are in `services::membership`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::discover;
use super::settings::users_page_with_error;
use crate::domain::{Text, WorkspaceId};
use crate::error::AppResult;
use crate::services::{membership, Actor, Decision};
use crate::web::context::Signed;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct JoinForm {
    message: String,
}

pub async fn request_to_join(
    signed: Signed,
    id: web::Path<WorkspaceId>,
    form: web::Form<JoinForm>,
) -> AppResult<HttpResponse> {
    let (id, typed) = (id.into_inner(), form.into_inner().message);
    let message = match Text::parse(&typed, membership::JOIN_MESSAGE) {
        Ok(message) => message,
        Err(refused) => return discover::join_refused(&signed, id, typed, refused).await,
    };
    let (base_url, ip) = (signed.base_url(), signed.ip.clone());
    let workspace = signed
        .change(move |conn, user| {
            membership::request_to_join(conn, &base_url, &Actor::person(user, &ip), id, &message)
        })
        .await?;
    signed.session.set_current_workspace(Some(workspace.id))?;
    signed.done(
        &format!(
            "Your request to join {} has been sent to its admins. You can use your personal features until they approve it.",
            workspace.name
        ),
        "/",
    )
}

pub async fn leave(signed: Signed, id: web::Path<WorkspaceId>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let ip = signed.ip.clone();
    let decision = signed
        .decide(move |conn, user| membership::leave(conn, &Actor::person(user, &ip), id))
        .await?;
    match decision {
        Decision::Done(message) => {
            if signed.session.current_workspace() == Some(id) {
                signed.session.set_current_workspace(None)?;
            }
            signed.done(&message, "/")
        }
        Decision::Refused(reason) => users_page_with_error(&signed, id, &reason).await,
    }
}
