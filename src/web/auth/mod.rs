//! Accounts and sign-in: sign-up, email verification, password, authenticator code, enrolment,
//! sign-out, forgotten passwords, and changing a password.

pub mod change_password;
pub mod enrol;
pub mod link_problem;
pub mod login;
pub mod logout;
pub mod password_reset;
pub mod signup;
pub mod two_factor;
pub mod verify;

use actix_web::web;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/signup")
            .route(web::get().to(signup::signup_form))
            .route(web::post().to(signup::sign_up)),
    )
    .route(
        "/signup/check-email",
        web::get().to(signup::check_email_page),
    )
    .service(
        web::resource("/verify/{token}")
            .route(web::get().to(verify::verify_form))
            .route(web::post().to(verify::verify)),
    )
    .service(
        web::resource("/login")
            .route(web::get().to(login::login_form))
            .route(web::post().to(login::log_in)),
    )
    .service(
        web::resource("/login/two-factor")
            .route(web::get().to(two_factor::two_factor_form))
            .route(web::post().to(two_factor::check_code)),
    )
    .service(
        web::resource("/account/two-factor/setup")
            .route(web::get().to(enrol::enrol_form))
            .route(web::post().to(enrol::enrol)),
    )
    .service(
        web::resource("/account/password")
            .route(web::get().to(change_password::change_password_form))
            .route(web::post().to(change_password::change_password)),
    )
    .route("/logout", web::post().to(logout::log_out))
    .service(
        web::resource("/password/forgot")
            .route(web::get().to(password_reset::forgot_form))
            .route(web::post().to(password_reset::send_reset_link)),
    )
    .route(
        "/password/forgot/check-email",
        web::get().to(password_reset::check_email_page),
    )
    .service(
        web::resource("/password/reset/{token}")
            .route(web::get().to(password_reset::reset_form))
            .route(web::post().to(password_reset::reset)),
    );
}
