//! Conversations with patients, what workspace approval unlocks: the patient lists (the
//! workspace's and each user's personal one), message templates, sending a text message or an
//! email through the outbox, the Conversations page with its "Assigned to" filters, one
//! conversation's page, assigning and marking done.

pub mod compose;
pub mod conversation;
pub mod listing;
pub mod patients;
pub mod templates;

use actix_web::web;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/workspaces/{id}/patients",
        web::get().to(patients::patients_page),
    )
    .route(
        "/workspaces/{id}/patients",
        web::post().to(patients::add_patient),
    )
    .route(
        "/workspaces/{id}/patients/{patient_id}",
        web::get().to(patients::patient_form),
    )
    .route(
        "/workspaces/{id}/patients/{patient_id}",
        web::post().to(patients::change_patient),
    )
    .route(
        "/workspaces/{id}/templates",
        web::get().to(templates::templates_page),
    )
    .route(
        "/workspaces/{id}/templates",
        web::post().to(templates::add_template),
    )
    .route(
        "/workspaces/{id}/templates/{template_id}/delete",
        web::post().to(templates::delete_template),
    )
    .route(
        "/workspaces/{id}/messages/new",
        web::get().to(compose::compose_form),
    )
    .route("/workspaces/{id}/messages", web::post().to(compose::send))
    .route(
        "/workspaces/{id}/conversations",
        web::get().to(listing::conversations_page),
    )
    .route(
        "/workspaces/{id}/conversations/{conversation_id}",
        web::get().to(conversation::conversation_page),
    )
    .route(
        "/workspaces/{id}/conversations/{conversation_id}/assign",
        web::post().to(conversation::assign),
    )
    .route(
        "/workspaces/{id}/conversations/{conversation_id}/done",
        web::post().to(conversation::done),
    );
}

/// "12 March 2027 at 14:05".
pub(crate) fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%-d %B %Y at %H:%M").to_string()
}
