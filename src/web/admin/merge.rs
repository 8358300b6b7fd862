//! `POST .../users/{user_id}/merge` (other = `user:{id}` or `profile:{id}`): merges a likely
//! duplicate into the account kept. Which pairs are likely duplicates, and who may merge them,
//! the server decides (`services::accounts::merge`): the form only names one.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::user::refused;
use super::user_path;
use crate::domain::{OrganisationId, UserId};
use crate::error::AppResult;
use crate::services::accounts::{self, Duplicate, CHOOSE_DUPLICATE};
use crate::services::{Actor, Decision};
use crate::web::context::Signed;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MergeForm {
    other: String,
}

impl MergeForm {
    fn parse(&self) -> Option<Duplicate> {
        if let Some(id) = self.other.strip_prefix("profile:") {
            return id.parse().ok().map(Duplicate::Profile);
        }
        self.other
            .strip_prefix("user:")
            .and_then(|id| id.parse().ok())
            .map(Duplicate::Account)
    }
}

pub async fn merge(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
    form: web::Form<MergeForm>,
) -> AppResult<HttpResponse> {
    let (org_id, keep) = path.into_inner();
    let Some(other) = form.parse() else {
        return refused(&signed, org_id, keep, "other", CHOOSE_DUPLICATE.into()).await;
    };
    let ip = signed.ip.clone();
    let decision = signed
        .decide(move |conn, user| {
            accounts::merge(conn, &Actor::person(user, &ip), org_id, keep, other)
        })
        .await?;
    match decision {
        Decision::Done(flash) => signed.done(&flash, &user_path(org_id, keep)),
        Decision::Refused(reason) => refused(&signed, org_id, keep, "other", reason).await,
    }
}
