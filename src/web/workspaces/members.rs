//! What admins do to others: `POST /workspaces/{id}/members/{user_id}/approve | decline |
//! remove | role`. The decision is `services::membership::act`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::settings::users_page_with_error;
use crate::domain::{MemberAction, UserId, WorkspaceId, WorkspaceRole};
use crate::error::AppResult;
use crate::services::{membership, Actor, Decision};
use crate::web::context::Signed;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    role: String,
}

pub async fn act(
    signed: Signed,
    path: web::Path<(WorkspaceId, UserId, MemberAction)>,
    form: web::Form<ActionForm>,
) -> AppResult<HttpResponse> {
    let (id, target, action) = path.into_inner();
    let role = WorkspaceRole::parse(&form.role).ok();
    let (base_url, ip) = (signed.base_url(), signed.ip.clone());
    let decision = signed
        .decide(move |conn, user| {
            let actor = Actor::person(user, &ip);
            membership::act(conn, &base_url, &actor, id, target, action, role)
        })
        .await?;
    match decision {
        Decision::Done(message) => {
            signed.done(&message, &format!("/workspaces/{id}/settings/users"))
        }
        Decision::Refused(reason) => users_page_with_error(&signed, id, &reason).await,
    }
}
