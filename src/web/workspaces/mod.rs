//! Organisations and workspaces: joining an organisation, discovering and creating workspaces,
//! the switcher, asking to join, approval, the Users page, roles, settings, history and leaving;
//! and the organisation settings trust administrators change.

pub mod discover;
pub mod guest_end;
pub mod history;
pub mod members;
pub mod membership;
pub mod organisation_settings;
pub mod organisations;
pub mod settings;
pub mod switcher;

use actix_web::web;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/organisations",
        web::get().to(organisations::organisations_page),
    )
    .route(
        "/organisations/{org_id}/join",
        web::post().to(organisations::join),
    )
    .route(
        "/organisations/{org_id}/workspaces",
        web::get().to(discover::discover_page),
    )
    .route(
        "/organisations/{org_id}/workspaces",
        web::post().to(discover::create),
    )
    .route(
        "/organisations/{org_id}/examples/join",
        web::post().to(discover::join_example),
    )
    .route(
        "/organisations/{org_id}/settings",
        web::get().to(organisation_settings::settings_form),
    )
    .route(
        "/organisations/{org_id}/settings",
        web::post().to(organisation_settings::update),
    )
    .route("/workspaces", web::get().to(switcher::workspaces_page))
    .route("/workspaces/{id}/switch", web::post().to(switcher::switch))
    .route(
        "/workspaces/{id}/join",
        web::post().to(membership::request_to_join),
    )
    .route("/workspaces/{id}/leave", web::post().to(membership::leave))
    // Before `{action}`: that route would take "end-date" for an action and answer 404.
    .route(
        "/workspaces/{id}/members/{user_id}/end-date",
        web::get().to(guest_end::end_form),
    )
    .route(
        "/workspaces/{id}/members/{user_id}/end-date",
        web::post().to(guest_end::change_end),
    )
    .route(
        "/workspaces/{id}/members/{user_id}/{action}",
        web::post().to(members::act),
    )
    .route(
        "/workspaces/{id}/settings",
        web::get().to(settings::settings_page),
    )
    .route(
        "/workspaces/{id}/settings",
        web::post().to(settings::update_settings),
    )
    .route(
        "/workspaces/{id}/settings/users",
        web::get().to(settings::users_page),
    )
    .route(
        "/workspaces/{id}/history",
        web::get().to(history::history_page),
    )
    .route(
        "/workspaces/{id}/history.csv",
        web::get().to(history::history_csv),
    );
}
