//! `GET /organisations`: the organisations you belong to and those whose email domains admit
//! you; `POST /organisations/{org_id}/join` joins one.

use crate::domain::AuditAction;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::auth::{permissions, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::organisations::{self, Organisation};
use crate::domain::{EmailAddress, OrganisationId};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::guards::CurrentUser;
use crate::web::layout::Layout;

#[derive(Template)]
#[template(path = "workspaces/organisations.html")]
struct OrganisationsPage {
    layout: Layout,
    mine: Vec<Organisation>,
    joinable: Vec<Organisation>,
}

pub async fn organisations_page(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
) -> AppResult<HttpResponse> {
    let user = current.user.clone();
    let (mine, joinable) = crate::db::run(&state.pool, move |conn| {
        let mine = organisations::of_user(conn, user.id)?;
        let admitting = match EmailAddress::parse(&user.email) {
            Ok(email) => organisations::admitting(conn, &email)?,
            Err(_) => Vec::new(),
        };
        let mut joinable = Vec::new();
        for id in admitting
            .into_iter()
            .filter(|id| !mine.iter().any(|o| o.id == *id))
        {
            joinable.push(organisations::find(conn, id)?);
        }
        Ok((mine, joinable))
    })
    .await?;
    crate::web::render(&OrganisationsPage {
        layout: Layout::signed_in(&session, &current.user, &current.nav)?,
        mine,
        joinable,
    })
}

pub async fn join(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    org_id: web::Path<OrganisationId>,
) -> AppResult<HttpResponse> {
    let (user, org_id, ip) = (
        current.user,
        org_id.into_inner(),
        crate::web::client_ip(&req),
    );
    let org = crate::db::transaction(&state.pool, move |conn| {
        let org = permissions::joinable_organisation(conn, &user, org_id)?;
        if organisations::add_member(conn, org.id, user.id)? == 1 {
            audit::record(
                conn,
                &NewAuditEvent::new(AuditAction::OrganisationJoined, Some(ip))
                    .actor(user.id)
                    .target(user.id)
                    .organisation(org.id)
                    .detail(format!("{} joined {}", user.full_name(), org.name)),
            )?;
        }
        Ok(org)
    })
    .await?;
    session.set_flash(&format!(
        "You joined {}. Now find your team's workspace.",
        org.name
    ))?;
    Ok(crate::web::see_other(&format!(
        "/organisations/{}/workspaces",
        org.id
    )))
}
