//! `GET /organisations`: the organisations you belong to and those whose email domains admit
//! you (not one that suspended or removed you); `POST /organisations/{org_id}/join` joins one.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::db::models::organisations::{self, Organisation};
use crate::domain::{EmailAddress, OrganisationId};
use crate::error::AppResult;
use crate::services::{organisations as organisation_service, Actor};
use crate::web::context::Signed;
use crate::web::layout::Layout;

#[derive(Template)]
#[template(path = "workspaces/organisations.html")]
struct OrganisationsPage {
    layout: Layout,
    mine: Vec<Organisation>,
    joinable: Vec<Organisation>,
}

pub async fn organisations_page(signed: Signed) -> AppResult<HttpResponse> {
    let page = signed
        .page(|conn, frame| {
            let user = &frame.user;
            let mine = organisations::of_user(conn, user.id)?;
            let admitting = match EmailAddress::parse(&user.email) {
                Ok(email) => organisations::admitting(conn, &email)?,
                Err(_) => Vec::new(),
            };
            // An organisation that suspended or removed them is not theirs to join again.
            let barring = organisations::barring(conn, user.id)?;
            let mut joinable = Vec::new();
            for id in admitting
                .into_iter()
                .filter(|id| !mine.iter().any(|o| o.id == *id) && !barring.contains(id))
            {
                joinable.push(organisations::find(conn, id)?);
            }
            Ok((mine, joinable))
        })
        .await?;
    let (mine, joinable) = page.data;
    crate::web::render(&OrganisationsPage {
        layout: page.layout,
        mine,
        joinable,
    })
}

pub async fn join(signed: Signed, org: web::Path<OrganisationId>) -> AppResult<HttpResponse> {
    let (org, ip) = (org.into_inner(), signed.ip.clone());
    let org = signed
        .change(move |conn, user| organisation_service::join(conn, &Actor::person(user, &ip), org))
        .await?;
    signed.done(
        &format!("You joined {}. Now find your team's workspace.", org.name),
        &format!("/organisations/{}/workspaces", org.id),
    )
}
