//! Trust control of one person, from their page: `GET .../users/{user_id}/suspend` and
//! `.../remove` ask "Are you sure?", `POST` to the same paths does it, `POST .../unsuspend`
//! lifts a suspension. The decisions are `services::trust`.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::user::{refused, UserView};
use super::user_path;
use crate::domain::{OrganisationId, UserId};
use crate::error::AppResult;
use crate::services::trust::{self, Control};
use crate::services::{Actor, Decision};
use crate::web::context::Signed;
use crate::web::layout::Layout;

#[derive(Template)]
#[template(path = "admin/confirm_control.html")]
struct ConfirmPage {
    layout: Layout,
    view: UserView,
    /// "suspend" or "remove".
    action: &'static str,
}

async fn confirm(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
    action: &'static str,
) -> AppResult<HttpResponse> {
    let (org_id, person) = path.into_inner();
    let page = signed
        .page(move |conn, frame| UserView::load(conn, &frame.user, org_id, person))
        .await?;
    let view = page.data;
    // Nothing to confirm on your own account, nor a suspension twice: back to the page.
    if view.is_self || (action == "suspend" && view.suspended) {
        return Ok(crate::web::see_other(&view.path()));
    }
    crate::web::render(&ConfirmPage {
        layout: page.layout,
        view,
        action,
    })
}

pub async fn suspend_form(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    confirm(signed, path, "suspend").await
}

pub async fn remove_form(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    confirm(signed, path, "remove").await
}

async fn act(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
    control: Control,
) -> AppResult<HttpResponse> {
    let (org_id, person) = path.into_inner();
    let (base_url, ip) = (signed.base_url(), signed.ip.clone());
    let decision = signed
        .decide(move |conn, user| {
            let actor = Actor::person(user, &ip);
            trust::control(conn, &base_url, &actor, org_id, person, control)
        })
        .await?;
    match decision {
        // A removed person's page is gone with them: back to the Users page.
        Decision::Done(flash) if control == Control::Remove => {
            signed.done(&flash, &format!("/organisations/{org_id}/admin/users"))
        }
        Decision::Done(flash) => signed.done(&flash, &user_path(org_id, person)),
        Decision::Refused(reason) => refused(&signed, org_id, person, "actions", reason).await,
    }
}

pub async fn suspend(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    act(signed, path, Control::Suspend).await
}

pub async fn unsuspend(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    act(signed, path, Control::Unsuspend).await
}

pub async fn remove(
    signed: Signed,
    path: web::Path<(OrganisationId, UserId)>,
) -> AppResult<HttpResponse> {
    act(signed, path, Control::Remove).await
}
