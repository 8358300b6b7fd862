//! Teams and contacts (Moxo, Connectworks): an organisation's teams and their members, its
//! contacts (add quietly or invite as a guest, search, merge duplicates), a workspace's People
//! page, and "Resend to those not joined" for a team invited into a workspace. Inviting a team
//! is the invite form's (`web::invitations::invite`). The decisions are in `services::teams`,
//! `services::contacts` and `services::invitations`.

pub mod contacts;
pub mod people;
pub mod team;

use actix_web::web;

pub fn config(cfg: &mut web::ServiceConfig) {
    let base = "/organisations/{org_id}";
    cfg.route(&format!("{base}/teams"), web::get().to(team::teams_page))
        .route(&format!("{base}/teams"), web::post().to(team::create))
        .route(
            &format!("{base}/teams/{{team_id}}"),
            web::get().to(team::team_page),
        )
        .route(
            &format!("{base}/teams/{{team_id}}/members"),
            web::post().to(team::add_member),
        )
        .route(
            &format!("{base}/teams/{{team_id}}/members/{{user_id}}/remove"),
            web::post().to(team::remove_member),
        )
        .route(
            &format!("{base}/contacts"),
            web::get().to(contacts::contacts_page),
        )
        .route(&format!("{base}/contacts"), web::post().to(contacts::add))
        .route(
            &format!("{base}/contacts/{{contact_id}}/merge"),
            web::post().to(contacts::merge),
        )
        .route(
            "/workspaces/{id}/teams/{team_id}/resend",
            web::post().to(team::resend),
        )
        .route(
            "/workspaces/{id}/people",
            web::get().to(people::people_page),
        )
        .route(
            "/workspaces/{id}/people/{contact_id}/invite",
            web::post().to(people::invite),
        )
        .route(
            "/workspaces/{id}/people/{contact_id}/resend",
            web::post().to(people::resend),
        );
}
