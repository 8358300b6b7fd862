//! Single sign-on through OpenID Connect providers (NHSmail, CIS2): the button's POST and the
//! callback, the provider's back-channel logout, and the person's sign-in methods.

pub mod backchannel;
pub mod flow;
pub mod login;
pub mod methods;

use actix_web::web;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/login/sso/{provider}", web::post().to(login::start))
        .route(
            "/login/sso/{provider}/callback",
            web::get().to(login::callback),
        )
        .route(
            "/login/sso/{provider}/backchannel-logout",
            web::post().to(backchannel::log_out),
        )
        .route(methods::PATH, web::get().to(methods::methods_page))
        .route(
            "/account/sign-in-methods/{identity_id}/unlink",
            web::post().to(methods::unlink),
        );
}
