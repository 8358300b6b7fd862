//! The main journeys in a real browser (headless Chromium over WebDriver), clicking and typing
//! as a person would: only the first page of a journey, and links from emails, are typed into
//! the address bar. Each journey runs twice: with JavaScript on, where axe-core checks every
//! page and the key pages are photographed into docs/screenshots/, and with JavaScript off
//! (Chrome's content setting), which proves every form works without script.

use std::rc::Rc;

use staffroom::domain::OrganisationId;

use crate::browser_support::*;
use crate::helpers::*;

/// Runs `journey` against a fresh app, unless the browser is missing (see `browser_available`).
async fn journey<F, Fut>(script: Script, journey: F)
where
    F: FnOnce(Rc<TestApp>, Windows) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    if !browser_available() {
        return;
    }
    let app = Rc::new(spawn_app().await);
    let shared = app.clone();
    with_windows(move |windows| async move {
        if script == Script::Off {
            let probe = windows.open(&shared.base_url, "probe", script).await;
            assert!(
                !probe.runs_scripts().await,
                "the JavaScript-off window must not run page scripts"
            );
        }
        journey(shared, windows).await
    })
    .await;
    if let Ok(app) = Rc::try_unwrap(app) {
        app.stop().await;
    }
}

/// A TOTP code for the secret shown on the set-up page, `offset` steps from now.
fn code_for(secret_text: &str, offset: i64) -> String {
    let secret = totp_rs::Secret::Encoded(secret_text.trim().to_string())
        .to_bytes()
        .unwrap();
    staffroom::auth::totp::code_for_step(&secret, staffroom::auth::totp::current_step() + offset)
}

/// Signs in from the sign-in page with both factors. The person enrolled over HTTP moments
/// ago, using the current step's code; a code is good once, so the next step's (within the
/// allowed drift) is typed here.
async fn sign_in(window: &Window, user: &TestUser) {
    window.fill("Email address", &user.email).await;
    window.fill("Password", &user.password).await;
    window.press("Continue").await;
    assert_eq!(window.heading().await, "Enter your security code");
    window.fill("Security code", &user.code(1)).await;
    window.press("Sign in").await;
    assert_eq!(window.path().await, "/");
}

// ---------------------------------------------------------------- the checker itself

/// The accessibility check is not vacuous: a page with an unlabelled field and an image
/// without alternative text fails it.
#[actix_web::test]
async fn browser_accessibility_check_finds_known_violations() {
    if !browser_available() {
        return;
    }
    with_windows(|windows| async move {
        let window = windows.open("http://127.0.0.1", "checker", Script::On).await;
        window
            .client
            .goto("data:text/html,<!DOCTYPE html><html lang=en><title>t</title><main><img src=x.png><input type=text></main></html>")
            .await
            .unwrap();
        let found = window.violations().await.join("\n");
        assert!(found.contains("critical image-alt"), "{found}");
        assert!(found.contains("critical label"), "{found}");
    })
    .await;
}

// ---------------------------------------------------------------- journey 1

async fn sign_up_confirm_sign_in_and_set_up_two_factor(script: Script) {
    journey(script, move |app, windows| async move {
        app.nhs_org();
        let priya = windows.open(&app.base_url, "Priya", script).await;

        priya.visit("/").await;
        assert_eq!(priya.path().await, "/login");
        assert_eq!(priya.heading().await, "Sign in");
        if script == Script::On {
            priya.screenshot("sign-in").await;
        }
        priya.follow("Create an account").await;
        assert_eq!(priya.heading().await, "Create an account");
        priya.fill("First name", "Priya").await;
        priya.fill("Surname", "Shah").await;
        priya.fill("Email address", "priya.shah@nhs.net").await;
        priya.fill("Create a password", PASSWORD).await;
        priya.press("Create account").await;
        assert_eq!(priya.heading().await, "Check your email");

        // The link from the mailbox: a page with a button, which confirms the address.
        let mail = app.smtp.wait_for("priya.shah@nhs.net").await;
        priya.visit(&mail.link_to("/verify/")).await;
        assert_eq!(priya.heading().await, "Confirm your email address");
        priya.sees("priya.shah@nhs.net").await;
        priya.press("Confirm email address").await;
        assert_eq!(priya.path().await, "/login");
        priya
            .sees("Your email address is confirmed. Sign in to continue.")
            .await;

        priya.fill("Email address", "priya.shah@nhs.net").await;
        priya.fill("Password", PASSWORD).await;
        priya.press("Continue").await;
        assert_eq!(priya.path().await, "/account/two-factor/setup");
        assert_eq!(priya.heading().await, "Set up your authenticator app");
        if script == Script::On {
            priya.screenshot("two-factor-setup").await;
        }
        let secret = priya.text_of("#totp-secret").await;
        priya.fill("Security code", &code_for(&secret, 0)).await;
        priya.press("Confirm and continue").await;
        priya.sees("Your authenticator app is set up").await;
        let codes = priya
            .client
            .find_all(fantoccini::Locator::Css("#recovery-codes li"))
            .await
            .unwrap();
        assert_eq!(codes.len(), 10, "ten recovery codes are shown");

        priya.follow("I have saved my codes").await;
        assert_eq!(priya.path().await, "/");
        assert_eq!(priya.heading().await, "Hello, Priya");
        assert_eq!(
            app.count("SELECT count(*) FROM users WHERE email = 'priya.shah@nhs.net' AND email_verified_at IS NOT NULL AND id IN (SELECT user_id FROM user_totp)"),
            1
        );
    })
    .await;
}

#[actix_web::test]
async fn browser_journey_1_sign_up_confirm_sign_in_and_set_up_two_factor() {
    sign_up_confirm_sign_in_and_set_up_two_factor(Script::On).await;
}

#[actix_web::test]
async fn browser_journey_1_without_javascript() {
    sign_up_confirm_sign_in_and_set_up_two_factor(Script::Off).await;
}
