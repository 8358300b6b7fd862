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
/// without alternative text fails it, and on the app's own pages (under their
/// Content-Security-Policy) axe really runs its rules.
#[actix_web::test]
async fn the_accessibility_check_finds_known_violations() {
    if !browser_available() {
        return;
    }
    let app = spawn_app().await;
    let base_url = app.base_url.clone();
    with_windows(|windows| async move {
        let window = windows.open(&base_url, "checker", Script::On).await;
        window.visit("/login").await;
        let passed = window.rules_passed().await;
        assert!(passed >= 10, "axe passed only {passed} rules on /login");

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
    app.stop().await;
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
        // A mistake first: the error summary and the messages beside the fields are checked too.
        priya.fill("Email address", "priya.shah@nhs.net").await;
        priya.fill("Create a password", "short").await;
        priya.press("Create account").await;
        priya.sees("There is a problem").await;
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
        // The page asks for the password again: a link never confirms a password that
        // someone else may have typed at sign-up.
        priya.fill("Your password", PASSWORD).await;
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
async fn a_new_colleague_signs_up_confirms_the_address_signs_in_and_sets_up_two_factor() {
    sign_up_confirm_sign_in_and_set_up_two_factor(Script::On).await;
}

#[actix_web::test]
async fn signing_up_and_setting_up_two_factor_works_without_javascript() {
    sign_up_confirm_sign_in_and_set_up_two_factor(Script::Off).await;
}

// ---------------------------------------------------------------- journey 2

async fn create_a_workspace_and_invite_a_colleague_who_joins(script: Script) {
    journey(script, move |app, windows| async move {
        let org = app.nhs_org();
        let amy_account = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await.user;
        let amy = windows.open(&app.base_url, "Amy", script).await;
        amy.visit("/login").await;
        sign_in(&amy, &amy_account).await;

        // Create the workspace from the organisation's page.
        amy.follow("East London NHS Foundation Trust").await;
        assert_eq!(amy.heading().await, "Join a workspace");
        amy.fill("Workspace name", "Ward 2 Nurses").await;
        amy.choose("Specialty", "Obstetrics").await;
        amy.fill("Description (optional)", "Nurses on Ward 2, St Mary's")
            .await;
        amy.press("Create workspace").await;
        assert_eq!(amy.heading().await, "Ward 2 Nurses");
        amy.sees("Ward 2 Nurses is ready. You are its admin.").await;

        // Invite a colleague from the Users page.
        amy.follow("Users").await;
        amy.follow("Invite colleagues").await;
        amy.fill("Email addresses", "dave.patel@nhs.net").await;
        amy.tick("Member").await;
        amy.press("Send invitations").await;
        amy.sees("dave.patel@nhs.net: Invitation sent").await;

        // Dave follows the emailed link, creates his account and joins.
        let mail = app.smtp.wait_for("dave.patel@nhs.net").await;
        let dave = windows.open(&app.base_url, "Dave", script).await;
        dave.visit(&mail.link_to("/invitations/")).await;
        assert_eq!(dave.heading().await, "Join Ward 2 Nurses");
        dave.sees("Amy Okonkwo invited you to join Ward 2 Nurses as a member.")
            .await;
        if script == Script::On {
            dave.screenshot("invitation-landing").await;
        }
        dave.follow("Create an account").await;
        assert_eq!(dave.heading().await, "Create an account");
        dave.sees("You were invited to join Ward 2 Nurses").await;
        dave.fill("First name", "Dave").await;
        dave.fill("Surname", "Patel").await;
        dave.fill("Create a password", PASSWORD).await;
        dave.press("Create account").await;
        assert_eq!(dave.heading().await, "Set up your authenticator app");
        let secret = dave.text_of("#totp-secret").await;
        dave.fill("Security code", &code_for(&secret, 0)).await;
        dave.press("Confirm and continue").await;
        dave.follow("I have saved my codes").await;
        assert_eq!(dave.heading().await, "Join Ward 2 Nurses");
        dave.press("Join").await;
        dave.sees("You joined Ward 2 Nurses.").await;
        assert_eq!(dave.heading().await, "Ward 2 Nurses");

        // Amy sees him among the members.
        amy.reload().await;
        let members = amy.text_of("#workspace-members").await;
        assert!(members.contains("Dave Patel"), "{members}");
        assert!(members.contains("dave.patel@nhs.net"), "{members}");
        let invitations = amy.text_of("#workspace-invitations").await;
        assert!(invitations.contains("Accepted"), "{invitations}");
    })
    .await;
}

#[actix_web::test]
async fn an_admin_creates_a_workspace_and_invites_a_colleague_who_joins_from_the_email() {
    create_a_workspace_and_invite_a_colleague_who_joins(Script::On).await;
}

#[actix_web::test]
async fn creating_a_workspace_and_joining_by_invitation_works_without_javascript() {
    create_a_workspace_and_invite_a_colleague_who_joins(Script::Off).await;
}

// ---------------------------------------------------------------- journey 3

/// The switcher, bottom left of every signed-in page.
const SWITCHER: &str = "//aside[contains(@class, 'app-switcher')]";

async fn ask_to_join_the_admin_approves_and_the_requester_switches(script: Script) {
    journey(script, move |app, windows| async move {
        let org = app.nhs_org();
        let amy_person = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
        crate::workspaces::create_workspace(&amy_person, org, "Ward 2 Nurses").await;
        let dave_account = app.person(org, "dave@nhs.net", "Dave", "Patel").await.user;

        // Dave finds the workspace through the switcher's "Join a workspace" and asks.
        let dave = windows.open(&app.base_url, "Dave", script).await;
        dave.visit("/login").await;
        sign_in(&dave, &dave_account).await;
        assert_eq!(dave.heading().await, "Hello, Dave");
        dave.follow("Join a workspace").await;
        assert_eq!(dave.heading().await, "Organisations");
        dave.follow("East London NHS Foundation Trust").await;
        dave.expand("Join Ward 2 Nurses").await;
        dave.fill(
            "Message to the admins (optional)",
            "New registrar on Ward 2",
        )
        .await;
        dave.press("Ask to join").await;
        dave.sees("Pending approval").await;

        // Amy is prompted, invites a colleague too, and approves Dave.
        let amy = windows.open(&app.base_url, "Amy", script).await;
        amy.visit("/login").await;
        sign_in(&amy, &amy_person.user).await;
        amy.follow("1 person waiting for approval").await;
        assert_eq!(amy.heading().await, "Users");
        let waiting = amy.text_of("#pending-requests").await;
        assert!(waiting.contains("Dave Patel"), "{waiting}");
        assert!(waiting.contains("New registrar on Ward 2"), "{waiting}");
        amy.follow("Invite colleagues").await;
        amy.fill("Email addresses", "sam.jones@nhs.net\nkim.lee@nhs.net")
            .await;
        amy.tick("Member").await;
        amy.press("Send invitations").await;
        amy.sees("sam.jones@nhs.net: Invitation sent").await;
        let invitations = amy.text_of("#workspace-invitations").await;
        assert!(invitations.contains("kim.lee@nhs.net"), "{invitations}");
        if script == Script::On {
            amy.screenshot("users-pending-and-invitations").await;
        }
        amy.press("Approve Dave Patel").await;
        let members = amy.text_of("#workspace-members").await;
        assert!(members.contains("Dave Patel"), "{members}");

        // Dave goes to his own space, then switches to the workspace.
        dave.reload().await;
        dave.press_in(SWITCHER, "My Workspace").await;
        assert_eq!(dave.heading().await, "Hello, Dave");
        let switcher = dave.text_of("aside.app-switcher").await;
        assert!(switcher.contains("Ward 2 Nurses"), "{switcher}");
        assert!(switcher.contains("Member"), "{switcher}");
        dave.press_in(SWITCHER, "Ward 2 Nurses").await;
        assert_eq!(dave.heading().await, "Ward 2 Nurses");
        dave.sees("Latest open conversations").await;
        let current = dave
            .text_of("aside.app-switcher [aria-current='true']")
            .await;
        assert!(current.contains("Ward 2 Nurses"), "{current}");
        if script == Script::On {
            dave.screenshot("workspace-home-with-switcher").await;
        }
    })
    .await;
}

#[actix_web::test]
async fn a_clinician_asks_to_join_the_admin_approves_and_the_clinician_switches_to_it() {
    ask_to_join_the_admin_approves_and_the_requester_switches(Script::On).await;
}

#[actix_web::test]
async fn asking_approving_and_switching_works_without_javascript() {
    ask_to_join_the_admin_approves_and_the_requester_switches(Script::Off).await;
}

// ---------------------------------------------------------------- journey 4

/// A trust administrator of `org` (made by the `user create --trust-admin` code), enrolled
/// over HTTP; the browser still signs in with both factors.
async fn trust_administrator(app: &TestApp, org: OrganisationId) -> TestUser {
    let id = staffroom::cli::create_user(
        &app.pool,
        &app.base_url,
        staffroom::cli::NewAccount {
            org,
            email: "tara@nhs.net".into(),
            first_name: "Tara".into(),
            surname: "Adeyemi".into(),
            trust_admin: true,
            password: Some(PASSWORD.into()),
        },
    )
    .unwrap();
    let mut tara = TestUser {
        id,
        email: "tara@nhs.net".into(),
        password: PASSWORD.into(),
        totp_secret: None,
    };
    let http = app.new_browser();
    http.log_in(&tara.email, &tara.password).await;
    tara.totp_secret = Some(http.enrol().await.0);
    http.log_out().await;
    tara
}

async fn trust_administrator_journey(script: Script) {
    journey(script, move |app, windows| async move {
        let org = app.nhs_org();
        let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
        let ward = crate::workspaces::create_workspace(&amy, org, "Ward 2 Nurses").await;
        let tara_account = trust_administrator(&app, org).await;

        let tara = windows.open(&app.base_url, "Tara", script).await;
        tara.visit("/login").await;
        sign_in(&tara, &tara_account).await;
        tara.follow("Administration").await;
        assert_eq!(tara.heading().await, "Manage Users & Roles");

        // A role to give: Ward manager, who manages users.
        tara.follow("Roles").await;
        assert_eq!(tara.heading().await, "Roles");
        tara.fill("Name", "Ward manager").await;
        tara.tick("Manage users").await;
        tara.press("Create role").await;
        tara.sees("Role created.").await;

        // The new account, flagged as a medical secretary.
        tara.follow("Manage Users & Roles").await;
        tara.follow("Add new user").await;
        assert_eq!(tara.heading().await, "Add new user");
        tara.fill("First name", "Mary").await;
        tara.fill("Surname", "Sekyere").await;
        tara.fill("Email address", "mary.sekyere@nhs.net").await;
        tara.tick("Medical secretary").await;
        tara.press("Save").await;
        assert_eq!(tara.heading().await, "Mary Sekyere");
        tara.sees("Medical secretary").await;

        // Then the Roles tab: Ward manager, limited to Ward 2 Nurses.
        tara.choose("Role", "Ward manager").await;
        tara.choose("Scope", "Ward 2 Nurses").await;
        tara.press("Add role").await;
        let assignments = tara.text_of("#assignments").await;
        assert!(assignments.contains("Ward manager"), "{assignments}");
        assert!(assignments.contains("Ward 2 Nurses"), "{assignments}");

        tara.follow("Manage Users & Roles").await;
        let people = tara.text_of("#people").await;
        assert!(people.contains("Mary Sekyere"), "{people}");
        assert!(people.contains("Medical secretary"), "{people}");
        if script == Script::On {
            tara.screenshot("manage-users").await;
        }

        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM users u JOIN role_assignments a ON a.user_id = u.id \
                 JOIN roles r ON r.id = a.role_id \
                 WHERE u.email = 'mary.sekyere@nhs.net' AND u.medical_secretary \
                 AND r.name = 'Ward manager' AND a.scope_workspace_id = '{ward}'"
            )),
            1
        );
        // The confirmation email went out for Mary to choose her password.
        app.smtp
            .wait_for("mary.sekyere@nhs.net")
            .await
            .link_to("/verify/");
    })
    .await;
}

#[actix_web::test]
async fn a_trust_administrator_adds_a_medical_secretary_with_a_scoped_role() {
    trust_administrator_journey(Script::On).await;
}

#[actix_web::test]
async fn adding_a_user_with_a_scoped_role_works_without_javascript() {
    trust_administrator_journey(Script::Off).await;
}

// ---------------------------------------------------------------- reflow and the confirmation page

/// The pages with tables, as a phone shows them (320 CSS px) and as a 1280-pixel screen at
/// 200% zoom does (640 CSS px): nothing scrolls sideways, and axe finds no serious or critical
/// violation at either width (every `visit` is checked).
#[actix_web::test]
async fn the_pages_with_tables_reflow_at_320_px_and_at_200_percent_zoom() {
    journey(Script::On, move |app, windows| async move {
        let org = app.nhs_org();
        let amy_person = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
        let ws = crate::workspaces::create_workspace(&amy_person, org, "Maternity - Ward 2 (St Mary's Hospital)").await;
        let dave = app.person(org, "dave.patel-longname@nhs.net", "Dave", "Patel-Fitzwilliam").await;
        crate::workspaces::join_approved(&amy_person, &dave, &ws).await;
        let kim = app.person(org, "kim.lee@nhs.net", "Kim", "Lee").await;
        kim.browser
            .post(
                &format!("/workspaces/{ws}/join"),
                &[("message", "New registrar on the ward from Monday; please let me in")],
            )
            .await;
        amy_person
            .browser
            .post(
                &format!("/workspaces/{ws}/invitations"),
                &[("emails", "a.very.long.address.for.a.colleague@nhs.net\nsam.jones@nhs.net"), ("role", "member")],
            )
            .await;
        let patient = crate::conversations::add_patient(&app, &amy_person, &ws, "943 476 5919", "Alexandra", false).await;
        amy_person
            .browser
            .post(
                &format!("/workspaces/{ws}/messages"),
                &[("patient_id", patient.as_str()), ("channel", "sms"), ("body", "Your appointment on Ward 2 is on Tuesday at 10:30; please bring your medication list.")],
            )
            .await;
        let tara_account = trust_administrator(&app, org).await;

        let amy = windows.open(&app.base_url, "Amy", Script::On).await;
        amy.visit("/login").await;
        sign_in(&amy, &amy_person.user).await;
        let tara = windows.open(&app.base_url, "Tara", Script::On).await;
        tara.visit("/login").await;
        sign_in(&tara, &tara_account).await;

        let amy_pages = [
            format!("/workspaces/{ws}/settings/users"),
            format!("/workspaces/{ws}/conversations"),
            format!("/workspaces/{ws}/patients"),
            format!("/organisations/{org}/workspaces"),
            format!("/workspaces/{ws}/people"),
            "/account/sign-in-methods".to_string(),
        ];
        let tara_pages = [
            format!("/organisations/{org}/admin/users"),
            format!("/organisations/{org}/admin/audit"),
            format!("/organisations/{org}/admin/import"),
            format!("/organisations/{org}/teams"),
            format!("/organisations/{org}/contacts"),
        ];
        for width in [320, 640] {
            for (window, pages) in [(&amy, &amy_pages[..]), (&tara, &tara_pages[..])] {
                window.at_width(width).await;
                for page in pages {
                    window.visit(page).await;
                    // Each is the page itself, not an error page passing the checks instead.
                    let heading = window.heading().await;
                    assert!(
                        !heading.contains("not found") && !heading.contains("Sorry"),
                        "{page}: {heading}"
                    );
                    window.has_no_sideways_scroll().await;
                }
            }
        }
        amy.at_width(320).await;
        amy.visit(&amy_pages[0]).await;
        amy.screenshot_at("users-phone", 320).await;
    })
    .await;
}

async fn remove_a_member_through_the_confirmation_page(script: Script) {
    journey(script, move |app, windows| async move {
        let org = app.nhs_org();
        let amy_person = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
        let ws = crate::workspaces::create_workspace(&amy_person, org, "Ward 2 Nurses").await;
        let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
        crate::workspaces::join_approved(&amy_person, &dave, &ws).await;

        let amy = windows.open(&app.base_url, "Amy", script).await;
        amy.visit("/login").await;
        sign_in(&amy, &amy_person.user).await;
        amy.visit(&format!("/workspaces/{ws}/settings/users")).await;
        // The only admin is not offered Leave: the reason is shown instead.
        amy.expand("Actions for Amy Okonkwo").await;
        amy.sees("You are the only admin").await;

        amy.expand("Actions for Dave Patel").await;
        amy.follow("Remove Dave Patel from workspace").await;
        assert_eq!(amy.heading().await, "Remove Dave Patel from Ward 2 Nurses?");
        amy.sees("They are emailed that they were removed").await;
        // Going back changes nothing.
        amy.follow("No, go back").await;
        assert!(amy
            .text_of("#workspace-members")
            .await
            .contains("Dave Patel"));

        amy.expand("Actions for Dave Patel").await;
        amy.follow("Remove Dave Patel from workspace").await;
        amy.press("Remove Dave Patel").await;
        assert_eq!(amy.heading().await, "Users");
        assert!(!amy
            .text_of("#workspace-members")
            .await
            .contains("Dave Patel"));
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM workspace_members WHERE workspace_id = '{ws}'"
            )),
            1
        );
    })
    .await;
}

#[actix_web::test]
async fn an_admin_removes_a_member_after_the_are_you_sure_page() {
    remove_a_member_through_the_confirmation_page(Script::On).await;
}

#[actix_web::test]
async fn removing_a_member_through_the_confirmation_page_works_without_javascript() {
    remove_a_member_through_the_confirmation_page(Script::Off).await;
}
