//! Invitations: inviting colleagues and guests, the emailed link (accept, decline, replay,
//! wrong account, dead links), invitations inside the app, resend and rescind, reminders,
//! guests' end dates, the daily limit, and the shareable workspace link.

use crate::helpers::*;
use crate::workspaces::{create_workspace, join_approved, users_page};

async fn invite(person: &Person, ws: &str, emails: &str, role: &str) -> Page {
    person
        .browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[("emails", emails), ("role", role)],
        )
        .await
}

/// Invites and follows the redirect to the Users page with the per-address results.
async fn invite_and_see_results(person: &Person, ws: &str, emails: &str, role: &str) -> String {
    let page = invite(person, ws, emails, role).await;
    assert_eq!(page.status, 303, "{}", page.body);
    person.browser.get(&users_page(ws)).await.body
}

/// The path of the invitation link in the `n`th email to `to`.
async fn invitation_link(app: &TestApp, to: &str, n: usize) -> String {
    let mail = app.smtp.wait_for_nth(to, n).await;
    let link = mail.link_to("/invitations/");
    link.strip_prefix(&app.base_url).unwrap().to_string()
}

fn invitation_id(app: &TestApp, address: &str) -> String {
    app.text(&format!("SELECT id FROM invitations WHERE email = '{address}' OR mobile = '{address}' ORDER BY created_at DESC LIMIT 1"),
    )
}

fn membership(app: &TestApp, ws: &str, email: &str) -> String {
    let found = app.count(&format!(
        "SELECT count(*) FROM workspace_members m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = '{ws}' AND u.email = '{email}'"
    ));
    if found == 0 {
        return "none".into();
    }
    app.text(&format!("SELECT m.status || ' ' || m.role FROM workspace_members m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = '{ws}' AND u.email = '{email}'"),
    )
}

#[actix_web::test]
async fn a_new_colleague_creates_an_account_from_the_emailed_link_and_joins() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;

    let results = invite_and_see_results(
        &amy,
        &ws,
        "dave.patel@nhs.net,\nfriend@gmail.com\nnot an address",
        "member",
    )
    .await;
    assert!(results.contains("<strong>dave.patel@nhs.net</strong>: <span class=\"app-result app-result--ok\">Invitation sent"), "{results}");
    assert!(results.contains("<strong>friend@gmail.com</strong>: <span class=\"app-result app-result--refused\">Not sent: not an NHS address East London NHS Foundation Trust admits"));
    assert!(results.contains("<strong>not an address</strong>: <span class=\"app-result app-result--refused\">Not sent: not a valid email address or UK mobile number"));
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 1);

    let mail = app.smtp.wait_for("dave.patel@nhs.net").await;
    assert_eq!(
        mail.subject(),
        "Amy Okonkwo invited you to join Ward 2 Nurses on Staffroom"
    );
    let expires = (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%-d %B %Y")
        .to_string();
    assert!(
        mail.text().contains(&format!("expires on {expires}")),
        "{}",
        mail.text()
    );
    let link = invitation_link(&app, "dave.patel@nhs.net", 1).await;

    // Opening the link (twice: mail scanners do) shows who invited whom, and uses nothing up.
    let dave = app.new_browser();
    for _ in 0..2 {
        let landing = dave.get(&link).await;
        assert_eq!(landing.status, 200, "{}", landing.body);
        assert!(landing
            .body
            .contains("Amy Okonkwo invited you to join <strong>Ward 2 Nurses</strong>"));
        assert!(landing.body.contains("dave.patel@nhs.net"));
    }
    let token = link.trim_start_matches("/invitations/");
    let signup_page = dave.get(&format!("/signup?invitation={token}")).await;
    assert!(signup_page
        .body
        .contains("value=\"dave.patel@nhs.net\" readonly"));

    // The typed address is ignored: the account gets the invited one, confirmed by the link.
    let created = dave
        .submit(
            &format!("/signup?invitation={token}"),
            "/signup",
            &[
                ("invitation", token),
                ("first_name", "Dave"),
                ("surname", "Patel"),
                ("email", "someone.else@nhs.net"),
                ("password", PASSWORD),
            ],
        )
        .await;
    created.assert_redirect_to("/account/two-factor/setup");
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'dave.patel@nhs.net' AND email_verified_at IS NOT NULL"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'someone.else@nhs.net'"),
        0
    );
    // Not a member yet: the link signs nobody in and joins nobody by itself.
    assert_eq!(membership(&app, &ws, "dave.patel@nhs.net"), "none");

    dave.enrol().await;
    let accepted = dave.post(&format!("{link}/accept"), &[]).await;
    accepted.assert_redirect_to("/");
    assert_eq!(
        membership(&app, &ws, "dave.patel@nhs.net"),
        "approved member"
    );
    let home = dave.get("/").await.body;
    assert!(home.contains("You joined Ward 2 Nurses."));
    assert!(app.count(&format!(
        "SELECT count(*) FROM audit_events WHERE workspace_id = '{ws}' AND detail = 'Dave Patel joined as member (invited by Amy Okonkwo)'"
    )) == 1);
    assert_eq!(
        app.count("SELECT count(*) FROM organisation_members om JOIN users u ON u.id = om.user_id WHERE u.email = 'dave.patel@nhs.net'"),
        1
    );

    // The used link is dead, whoever replays it.
    let replay = dave.post(&format!("{link}/accept"), &[]).await;
    assert_eq!(replay.status, 410);
    assert!(replay
        .body
        .contains("This invitation has already been used"));
    assert_eq!(app.new_browser().get(&link).await.status, 410);

    let users = amy.browser.get(&users_page(&ws)).await.body;
    let row = &users[users.find("id=\"workspace-invitations\"").unwrap()..];
    assert!(row.contains("dave.patel@nhs.net"));
    assert!(row.contains(">Accepted</strong>"));
    assert!(row.contains("Delivered"));
    // An accepted invitation no longer expires: the Expires column is for live ones.
    let expires_short = (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%-d %b %Y")
        .to_string();
    let sent_short = chrono::Utc::now().format("%-d %b %Y").to_string();
    assert!(row.contains(&sent_short), "the sent date is shown");
    assert!(!row.contains(&expires_short));
    app.stop().await;
}

#[actix_web::test]
async fn resend_replaces_the_link_rescind_kills_it_and_a_dead_link_asks_the_admins_for_a_new_one() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    invite_and_see_results(&amy, &ws, "dave@nhs.net", "member").await;
    let first = invitation_link(&app, "dave@nhs.net", 1).await;
    let id = invitation_id(&app, "dave@nhs.net");

    // Resend: a new link, the old one dies, 30 days again.
    app.sql("UPDATE invitations SET sent_at = now() - interval '20 days', expires_at = now() + interval '10 days'");
    amy.browser
        .post(&format!("/workspaces/{ws}/invitations/{id}/resend"), &[])
        .await
        .assert_redirect_to(&format!("/workspaces/{ws}/settings/users#invitations"));
    let second = invitation_link(&app, "dave@nhs.net", 2).await;
    assert_ne!(first, second);
    assert_eq!(
        app.count("SELECT count(*) FROM invitations WHERE expires_at > now() + interval '29 days'"),
        1
    );
    let old = app.new_browser().get(&first).await;
    assert_eq!(old.status, 410);
    assert!(old.body.contains("This invitation link has been replaced"));
    assert_eq!(app.new_browser().get(&second).await.status, 200);

    // Inviting the address again resends too.
    let results = invite_and_see_results(&amy, &ws, "DAVE@nhs.net", "member").await;
    assert!(results.contains("They already had an invitation: it was sent again with a new link"));
    let third = invitation_link(&app, "dave@nhs.net", 3).await;
    assert_eq!(app.new_browser().get(&second).await.status, 410);
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 1);

    // Rescind: the link stops at once.
    amy.browser
        .post(&format!("/workspaces/{ws}/invitations/{id}/rescind"), &[])
        .await
        .assert_redirect_to(&format!("/workspaces/{ws}/settings/users#invitations"));
    let visitor = app.new_browser();
    let dead = visitor.get(&third).await;
    assert_eq!(dead.status, 410);
    assert!(dead.body.contains("This invitation was withdrawn"));
    assert!(dead.body.contains("Ask for a new invitation"));
    let users = amy.browser.get(&users_page(&ws)).await.body;
    assert!(users.contains(">Rescinded</strong>"));
    // Resending or rescinding it again is refused.
    let again = amy
        .browser
        .post(&format!("/workspaces/{ws}/invitations/{id}/resend"), &[])
        .await;
    assert_eq!(again.status, 409);

    // "Ask for a new invitation" emails the admins, once a day.
    let asked = visitor.submit(&third, &format!("{third}/ask"), &[]).await;
    asked.assert_redirect_to(&third);
    let request = app.smtp.wait_for_nth("amy@nhs.net", 1).await;
    assert_eq!(
        request.subject(),
        "dave@nhs.net asks for a new invitation to Ward 2 Nurses"
    );
    assert!(request.text().contains("it was withdrawn"));
    visitor.submit(&third, &format!("{third}/ask"), &[]).await;
    assert_eq!(app.smtp.settled_count("amy@nhs.net").await, 1);

    // An unknown token says so and offers nothing to ask.
    let unknown = visitor.get("/invitations/not-a-real-token").await;
    assert_eq!(unknown.status, 410);
    assert!(unknown.body.contains("This invitation link is not valid"));
    assert!(!unknown.body.contains("Ask for a new invitation"));
    app.stop().await;
}

#[actix_web::test]
async fn an_expired_invitation_says_so_and_a_resend_revives_it() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    invite_and_see_results(&amy, &ws, "dave@nhs.net", "member").await;
    let link = invitation_link(&app, "dave@nhs.net", 1).await;
    app.sql("UPDATE invitations SET expires_at = now() - interval '1 minute'");

    let page = dave.browser.get(&link).await;
    assert_eq!(page.status, 410);
    assert!(page.body.contains("This invitation has expired"));
    let refused = dave.browser.post(&format!("{link}/accept"), &[]).await;
    assert_eq!(refused.status, 410);
    assert_eq!(membership(&app, &ws, "dave@nhs.net"), "none");
    assert!(amy
        .browser
        .get(&users_page(&ws))
        .await
        .body
        .contains(">Expired</strong>"));
    // Not offered inside the app either.
    assert!(!dave
        .browser
        .get("/")
        .await
        .body
        .contains("You have been invited"));

    let id = invitation_id(&app, "dave@nhs.net");
    amy.browser
        .post(&format!("/workspaces/{ws}/invitations/{id}/resend"), &[])
        .await;
    let fresh = invitation_link(&app, "dave@nhs.net", 2).await;
    dave.browser
        .post(&format!("{fresh}/accept"), &[])
        .await
        .assert_redirect_to("/");
    assert_eq!(membership(&app, &ws, "dave@nhs.net"), "approved member");
    app.stop().await;
}

#[actix_web::test]
async fn an_invitation_accepted_from_another_account_is_refused_with_a_clear_page() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    invite_and_see_results(&amy, &ws, "dave@nhs.net", "member").await;
    let link = invitation_link(&app, "dave@nhs.net", 1).await;

    let landing = kim.browser.get(&link).await;
    assert!(landing
        .body
        .contains("This invitation was sent to dave@nhs.net; you are signed in as kim@nhs.net"));
    assert!(!landing.body.contains(&format!("action=\"{link}/accept\"")));
    let refused = kim.browser.post(&format!("{link}/accept"), &[]).await;
    assert_eq!(refused.status, 403);
    assert!(refused
        .body
        .contains("This invitation was sent to dave@nhs.net; you are signed in as kim@nhs.net"));
    assert_eq!(membership(&app, &ws, "kim@nhs.net"), "none");
    assert_eq!(
        app.count("SELECT count(*) FROM invitations WHERE accepted_at IS NULL"),
        1,
        "the invitation is still Dave's to use"
    );
    // Kim cannot use Dave's invitation from inside the app either.
    let id = invitation_id(&app, "dave@nhs.net");
    let by_id = kim
        .browser
        .post(&format!("/account/invitations/{id}/accept"), &[])
        .await;
    assert_eq!(by_id.status, 404);

    // Signed out, accepting asks to sign in; the link never signs anyone in.
    let stranger = app.new_browser();
    stranger
        .submit(&link, &format!("{link}/accept"), &[])
        .await
        .assert_redirect_to(&format!("/login?next={}", link.replace('/', "%2F")));
    // Without the CSRF token nothing happens.
    let forged = kim.browser.post_raw(&format!("{link}/decline"), &[]).await;
    assert_eq!(forged.status, 403);
    assert_eq!(
        app.count("SELECT count(*) FROM invitations WHERE declined_at IS NOT NULL"),
        0
    );
    app.stop().await;
}

#[actix_web::test]
async fn an_existing_user_sees_the_invitation_in_the_app_and_joins_or_declines_there() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let ward = create_workspace(&amy, org, "Ward 2 Nurses").await;
    let theatre = create_workspace(&amy, org, "Theatre Team").await;

    let results = invite_and_see_results(&amy, &ward, "dave@nhs.net", "member").await;
    assert!(results.contains("They already have an account, so they also see it in Staffroom"));
    invite_and_see_results(&amy, &theatre, "Dave@NHS.net", "admin").await;

    let home = dave.browser.get("/").await.body;
    assert!(home.contains("You have been invited"));
    assert!(home.contains(
        "<strong>Amy Okonkwo</strong> invited you to join <strong>Ward 2 Nurses</strong>"
    ));
    let switcher = &home[home.find("app-switcher").unwrap()..];
    assert!(switcher.contains("Theatre Team"));
    assert!(switcher.contains(">Invited</strong>"));

    let ward_invitation = app.text(&format!(
        "SELECT id FROM invitations WHERE workspace_id = '{ward}'"
    ));
    let theatre_invitation = app.text(&format!(
        "SELECT id FROM invitations WHERE workspace_id = '{theatre}'"
    ));
    dave.browser
        .post(
            &format!("/account/invitations/{ward_invitation}/accept"),
            &[],
        )
        .await
        .assert_redirect_to("/");
    assert_eq!(membership(&app, &ward, "dave@nhs.net"), "approved member");
    dave.browser
        .post(
            &format!("/account/invitations/{theatre_invitation}/decline"),
            &[],
        )
        .await
        .assert_redirect_to("/");
    assert_eq!(membership(&app, &theatre, "dave@nhs.net"), "none");
    let told = app.smtp.wait_for("amy@nhs.net").await;
    assert_eq!(
        told.subject(),
        "dave@nhs.net declined your invitation to Theatre Team"
    );
    assert!(amy
        .browser
        .get(&users_page(&theatre))
        .await
        .body
        .contains(">Declined</strong>"));
    assert!(!dave
        .browser
        .get("/")
        .await
        .body
        .contains("You have been invited"));
    // Used and declined invitations cannot be used again from the app.
    let again = dave
        .browser
        .post(
            &format!("/account/invitations/{theatre_invitation}/accept"),
            &[],
        )
        .await;
    assert_eq!(again.status, 404);

    // Inviting a member says so, and sends nothing.
    let results = invite_and_see_results(&amy, &ward, "dave@nhs.net", "member").await;
    assert!(results.contains("Already a member of this workspace"));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM invitations WHERE workspace_id = '{ward}'"
        )),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'invitation_declined'"),
        1
    );
    app.stop().await;
}

#[actix_web::test]
async fn two_parallel_accepts_of_one_link_make_one_membership() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    invite_and_see_results(&amy, &ws, "dave@nhs.net", "member").await;
    let link = invitation_link(&app, "dave@nhs.net", 1).await;

    let csrf = dave.browser.csrf().await;
    let accept = format!("{link}/accept");
    let fields = [("csrf_token", csrf.as_str())];
    let (a, b) = tokio::join!(
        dave.browser.post_raw(&accept, &fields),
        dave.browser.post_raw(&accept, &fields)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [303, 410]);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM workspace_members WHERE workspace_id = '{ws}'"
        )),
        2
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'invitation_accepted'"),
        1
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_pending_request_becomes_approved_when_an_invitation_is_accepted() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    dave.browser
        .post(&format!("/workspaces/{ws}/join"), &[])
        .await
        .assert_redirect_to("/");
    assert_eq!(membership(&app, &ws, "dave@nhs.net"), "pending member");

    let results = invite_and_see_results(&amy, &ws, "dave@nhs.net", "admin").await;
    assert!(results.contains("Invitation sent"));
    let link = invitation_link(&app, "dave@nhs.net", 1).await;
    dave.browser
        .post(&format!("{link}/accept"), &[])
        .await
        .assert_redirect_to("/");
    assert_eq!(membership(&app, &ws, "dave@nhs.net"), "approved admin");
    app.stop().await;
}

#[actix_web::test]
async fn acceptance_checks_again_that_the_inviter_may_still_invite() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    join_approved(&amy, &kim, &ws).await;

    // Kim, a member, invites Dave; then the workspace lets only admins invite.
    let results = invite_and_see_results(&kim, &ws, "dave@nhs.net", "member").await;
    assert!(results.contains("Invitation sent"));
    let link = invitation_link(&app, "dave@nhs.net", 1).await;
    app.sql(&format!(
        "UPDATE workspaces SET invite_policy = 'admins' WHERE id = '{ws}'"
    ));

    let refused = dave.browser.post(&format!("{link}/accept"), &[]).await;
    assert_eq!(refused.status, 409);
    assert!(refused
        .body
        .contains("the person who invited you can no longer invite people to this workspace"));
    assert!(refused.body.contains("Ask for a new invitation"));
    assert_eq!(membership(&app, &ws, "dave@nhs.net"), "none");
    dave.browser
        .post(&format!("{link}/ask"), &[])
        .await
        .assert_redirect_to(&link);
    // (Amy's first email was Kim's request to join.)
    let asked = app.smtp.wait_for_nth("amy@nhs.net", 2).await;
    assert!(
        asked.text().contains("it can no longer be used"),
        "{}",
        asked.text()
    );

    // Members may no longer invite, nor open the form; the button is gone.
    assert_eq!(invite(&kim, &ws, "lee@nhs.net", "member").await.status, 404);
    assert_eq!(
        kim.browser
            .get(&format!("/workspaces/{ws}/invitations/new"))
            .await
            .status,
        404
    );
    assert!(!kim
        .browser
        .get(&users_page(&ws))
        .await
        .body
        .contains("Invite colleagues"));

    // Once the policy allows it again, the same link works.
    app.sql(&format!(
        "UPDATE workspaces SET invite_policy = 'members' WHERE id = '{ws}'"
    ));
    dave.browser
        .post(&format!("{link}/accept"), &[])
        .await
        .assert_redirect_to("/");
    app.stop().await;
}

#[actix_web::test]
async fn only_admins_or_the_inviter_resend_or_rescind_and_other_workspaces_ids_are_not_found() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    let lee = app.person(org, "lee@nhs.net", "Lee", "Chan").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    join_approved(&amy, &kim, &ws).await;
    join_approved(&amy, &lee, &ws).await;
    // Kim, not an admin, may invite a colleague who has an account (Moxo's rule).
    app.create_named_user(org, "dave@nhs.net", "Dave", "Patel");
    invite_and_see_results(&kim, &ws, "dave@nhs.net", "member").await;
    let id = invitation_id(&app, "dave@nhs.net");

    // Lee, another member, sees it and may resend it (anyone who may invite may resend:
    // Moxo's rule), but not rescind it.
    let users = lee.browser.get(&users_page(&ws)).await.body;
    assert!(users.contains("dave@nhs.net"));
    assert!(!users.contains(&format!("/invitations/{id}/rescind")));
    assert!(users.contains(&format!("/invitations/{id}/resend")));
    let page = lee
        .browser
        .post(&format!("/workspaces/{ws}/invitations/{id}/rescind"), &[])
        .await;
    assert_eq!(page.status, 404);
    lee.browser
        .post(&format!("/workspaces/{ws}/invitations/{id}/resend"), &[])
        .await
        .assert_redirect_to(&format!("/workspaces/{ws}/settings/users#invitations"));
    assert_eq!(
        app.text("SELECT u.email FROM invitations i JOIN users u ON u.id = i.invited_by"),
        "kim@nhs.net",
        "still Kim's invitation"
    );
    // Members cannot invite admins.
    let page = invite(&kim, &ws, "max@nhs.net", "admin").await;
    assert_eq!(page.status, 422);
    assert!(
        page.body
            .contains("Only the workspace&#39;s admins can invite admins")
            || page
                .body
                .contains("Only the workspace's admins can invite admins"),
        "{}",
        page.body
    );
    assert!(page.body.contains("max@nhs.net"), "what was typed is kept");

    // Another organisation's admin, with this invitation id under their own workspace: 404.
    let other_org = app.create_org("Barts Health", &["bartshealth.nhs.uk"]);
    let zoe = app
        .person(other_org, "zoe@bartshealth.nhs.uk", "Zoe", "Khan")
        .await;
    let theirs = create_workspace(&zoe, other_org, "Cardiology").await;
    for path in [
        format!("/workspaces/{theirs}/invitations/{id}/rescind"),
        format!("/workspaces/{ws}/invitations/{id}/rescind"),
    ] {
        assert_eq!(zoe.browser.post(&path, &[]).await.status, 404, "{path}");
    }
    assert_eq!(invite(&zoe, &ws, "x@nhs.net", "member").await.status, 404);

    // The inviter may rescind their own invitation.
    kim.browser
        .post(&format!("/workspaces/{ws}/invitations/{id}/rescind"), &[])
        .await
        .assert_redirect_to(&format!("/workspaces/{ws}/settings/users#invitations"));
    assert!(app.count("SELECT count(*) FROM invitations WHERE rescinded_at IS NOT NULL") == 1);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE detail = 'Kim Lee rescinded the invitation to dave@nhs.net'"),
        1
    );
    app.stop().await;
}

#[actix_web::test]
async fn guests_by_email_or_mobile_see_only_the_workspace_and_cannot_invite() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;

    // A mobile number is for guests only.
    let results = invite_and_see_results(&amy, &ws, "07700 900123", "member").await;
    assert!(results.contains("Not sent: a mobile number can only be invited as a guest"));

    let until = (chrono::Utc::now() + chrono::Duration::days(60)).date_naive();
    let page = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[
                ("emails", "carer@gmail.com, +44 7700 900123"),
                ("role", "guest"),
                ("guest_until", &until.format("%Y-%m-%d").to_string()),
            ],
        )
        .await;
    page.assert_redirect_to(&format!("/workspaces/{ws}/settings/users#invite-results"));
    // The text message goes through the outbox like mail.
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE channel = 'sms' AND recipient = '+447700900123' AND text_body LIKE 'Amy Okonkwo invited you to join Ward 2 Nurses on Staffroom%/invitations/%'"),
        1
    );
    let link = invitation_link(&app, "carer@gmail.com", 1).await;
    let token = link.trim_start_matches("/invitations/").to_string();

    // A non-NHS address can create an account from the invitation.
    let carer = app.new_browser();
    carer
        .submit(
            &format!("/signup?invitation={token}"),
            "/signup",
            &[
                ("invitation", &token),
                ("first_name", "Chris"),
                ("surname", "Carer"),
                ("password", PASSWORD),
            ],
        )
        .await
        .assert_redirect_to("/account/two-factor/setup");
    carer.enrol().await;
    carer
        .post(&format!("{link}/accept"), &[])
        .await
        .assert_redirect_to("/");
    assert_eq!(membership(&app, &ws, "carer@gmail.com"), "approved guest");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM workspace_members WHERE ends_at = '{}'::date + 1",
            until
        )),
        1
    );
    // A guest does not join the organisation, sees no one's invitations, and cannot invite.
    assert_eq!(
        app.count("SELECT count(*) FROM organisation_members om JOIN users u ON u.id = om.user_id WHERE u.email = 'carer@gmail.com'"),
        0
    );
    assert_eq!(
        carer
            .get(&format!("/organisations/{org}/workspaces"))
            .await
            .status,
        404
    );
    let users = carer.get(&users_page(&ws)).await.body;
    assert!(!users.contains("Invite colleagues"));
    assert!(!users.contains("workspace-invitations"));
    assert_eq!(
        carer
            .get(&format!("/workspaces/{ws}/invitations/new"))
            .await
            .status,
        404
    );
    let refused = carer
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[("emails", "friend@gmail.com"), ("role", "guest")],
        )
        .await;
    assert_eq!(refused.status, 404);

    // Where guests are not allowed, nobody can invite one.
    app.sql(&format!(
        "UPDATE workspaces SET guests_allowed = false WHERE id = '{ws}'"
    ));
    let page = invite(&amy, &ws, "another@gmail.com", "guest").await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("This workspace does not take guests"));
    app.stop().await;
}

/// Chris Carer (another organisation) invited by `admin` as a guest whose last day is five days
/// away, and joined from the emailed link; and that last day.
async fn carer_joins_as_a_guest_for_five_days(
    app: &TestApp,
    admin: &Person,
    ws: &str,
) -> (Person, chrono::NaiveDate) {
    let guest_org = app.create_org("Guests", &["gmail.com"]);
    let carer = app
        .person(guest_org, "carer@gmail.com", "Chris", "Carer")
        .await;
    let until = (chrono::Utc::now() + chrono::Duration::days(5)).date_naive();
    admin
        .browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[
                ("emails", "carer@gmail.com"),
                ("role", "guest"),
                ("guest_until", &until.format("%Y-%m-%d").to_string()),
            ],
        )
        .await;
    let link = invitation_link(app, "carer@gmail.com", 1).await;
    carer
        .browser
        .post(&format!("{link}/accept"), &[])
        .await
        .assert_redirect_to("/");
    (carer, until)
}

#[actix_web::test]
async fn a_guest_is_told_a_week_before_their_access_ends_and_it_ends_on_the_day() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    let (_carer, until) = carer_joins_as_a_guest_for_five_days(&app, &amy, &ws).await;

    let round = staffroom::housekeeping::run_once(&mut app.conn(), &app.base_url).unwrap();
    assert_eq!(round.guests_warned, 1);
    let warning = app.smtp.wait_for_nth("carer@gmail.com", 2).await;
    assert_eq!(
        warning.subject(),
        format!(
            "Your guest access to Ward 2 Nurses ends on {}",
            until.format("%-d %B %Y")
        )
    );
    let again = staffroom::housekeeping::run_once(&mut app.conn(), &app.base_url).unwrap();
    assert_eq!(again.guests_warned, 0, "told once");

    app.sql(
        "UPDATE workspace_members SET ends_at = now() - interval '1 minute' WHERE role = 'guest'",
    );
    let round = staffroom::housekeeping::run_once(&mut app.conn(), &app.base_url).unwrap();
    assert_eq!(round.guests_ended, 1);
    assert_eq!(membership(&app, &ws, "carer@gmail.com"), "none");
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'guest_access_ended'"),
        1
    );
    app.stop().await;
}

#[actix_web::test]
async fn an_admin_moves_or_removes_a_guests_end_date_and_the_guest_sees_it_at_home() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    crate::workspaces::join_approved(&amy, &dave, &ws).await;
    let (carer, until) = carer_joins_as_a_guest_for_five_days(&app, &amy, &ws).await;
    let round = staffroom::housekeeping::run_once(&mut app.conn(), &app.base_url).unwrap();
    assert_eq!(round.guests_warned, 1);

    let users = amy
        .browser
        .get(&format!("/workspaces/{ws}/settings/users"))
        .await;
    let form_path = format!("/workspaces/{ws}/members/{}/end-date", carer.user.id);
    assert!(users.body.contains(&format!("href=\"{form_path}\"")));
    assert!(users
        .body
        .contains(&format!("until {}", until.format("%-d %b %Y"))));
    let form = amy.browser.get(&form_path).await;
    assert_eq!(form.status, 200);
    assert!(form
        .inner_text("current-end")
        .contains(&until.format("%-d %B %Y").to_string()));

    // Bad dates are refused beside the field, with what was typed kept.
    for (day, month, year, says) in [
        ("31", "2", "2030", "Enter a real end date"),
        ("1", "1", "2001", "The end date must be in the future"),
        ("", "", "", "last day, or choose no end date"),
    ] {
        let page = amy
            .browser
            .submit(
                &form_path,
                &form_path,
                &[
                    ("last_day-day", day),
                    ("last_day-month", month),
                    ("last_day-year", year),
                ],
            )
            .await;
        assert_eq!(page.status, 422, "{day}/{month}/{year}");
        let said = page.inner_text("last_day-error");
        assert!(said.contains(says), "{says}: {said}");
        assert!(page.body.contains(&format!("id=\"last_day-year\" name=\"last_day-year\" type=\"text\" inputmode=\"numeric\" value=\"{year}\"")));
    }

    // Moved a month on: the guest's home says so, and the week-before warning is due again.
    let later = until + chrono::Duration::days(30);
    let (d, m, y) = (
        later.format("%-d").to_string(),
        later.format("%-m").to_string(),
        later.format("%Y").to_string(),
    );
    amy.browser
        .submit(
            &form_path,
            &form_path,
            &[
                ("last_day-day", &d),
                ("last_day-month", &m),
                ("last_day-year", &y),
            ],
        )
        .await
        .assert_redirect_to(&format!("/workspaces/{ws}/settings/users"));
    carer
        .browser
        .post(&format!("/workspaces/{ws}/switch"), &[])
        .await
        .assert_redirect_to("/");
    let home = carer.browser.get("/").await;
    assert!(home
        .inner_text("guest-until")
        .contains(&later.format("%-d %B %Y").to_string()));
    app.sql(
        "UPDATE workspace_members SET ends_at = ends_at - interval '30 days' WHERE role = 'guest'",
    );
    let round = staffroom::housekeeping::run_once(&mut app.conn(), &app.base_url).unwrap();
    assert_eq!(round.guests_warned, 1, "warned again for the new date");
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'guest_end_changed'"),
        1
    );

    // No end date at all.
    amy.browser
        .submit(&form_path, &form_path, &[("no_end", "yes")])
        .await
        .assert_redirect_to(&format!("/workspaces/{ws}/settings/users"));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM workspace_members WHERE role = 'guest' AND ends_at IS NULL"
        ),
        1
    );
    let home = carer.browser.get("/").await;
    assert!(!home.body.contains("id=\"guest-until\""));

    // Only the workspace's admins, and only for guests: anything else is not found.
    assert_eq!(dave.browser.get(&form_path).await.status, 404);
    let page = dave.browser.post(&form_path, &[("no_end", "yes")]).await;
    assert_eq!(page.status, 404);
    let not_a_guest = format!("/workspaces/{ws}/members/{}/end-date", dave.user.id);
    assert_eq!(amy.browser.get(&not_a_guest).await.status, 404);
    let page = amy.browser.post(&not_a_guest, &[("no_end", "yes")]).await;
    assert_eq!(page.status, 404);
    assert_eq!(
        app.count("SELECT count(*) FROM workspace_members WHERE ends_at IS NOT NULL"),
        0
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_reminder_goes_out_three_days_before_expiry_and_both_links_work() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    invite_and_see_results(&amy, &ws, "dave@nhs.net", "member").await;
    let first = invitation_link(&app, "dave@nhs.net", 1).await;

    let early = staffroom::housekeeping::run_once(&mut app.conn(), &app.base_url).unwrap();
    assert_eq!(early.reminders_sent, 0, "not yet due");
    app.sql("UPDATE invitations SET expires_at = now() + interval '2 days 23 hours'");
    let round = staffroom::housekeeping::run_once(&mut app.conn(), &app.base_url).unwrap();
    assert_eq!(round.reminders_sent, 1);
    let reminder = app.smtp.wait_for_nth("dave@nhs.net", 2).await;
    assert!(reminder
        .subject()
        .starts_with("Reminder: your invitation to Ward 2 Nurses expires on"));
    let second = invitation_link(&app, "dave@nhs.net", 2).await;
    assert_ne!(first, second);
    let again = staffroom::housekeeping::run_once(&mut app.conn(), &app.base_url).unwrap();
    assert_eq!(again.reminders_sent, 0, "reminded once");
    for link in [&first, &second] {
        assert_eq!(app.new_browser().get(link).await.status, 200, "{link}");
    }
    app.stop().await;
}

#[actix_web::test]
async fn a_workspace_sends_at_most_200_invitations_a_day() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    invite_and_see_results(&amy, &ws, "first@nhs.net", "member").await;
    // 198 more sends today (each send is a link).
    app.sql("INSERT INTO invitation_links (token_hash, invitation_id) SELECT md5(g::text), id FROM invitations, generate_series(1, 198) g");

    let results =
        invite_and_see_results(&amy, &ws, "second@nhs.net\nthird@nhs.net", "member").await;
    assert!(results.contains("<strong>second@nhs.net</strong>: <span class=\"app-result app-result--ok\">Invitation sent"));
    assert!(results.contains("<strong>third@nhs.net</strong>: <span class=\"app-result app-result--refused\">Not sent: this workspace has sent 200 invitations in the last 24 hours"));
    assert_eq!(
        app.count("SELECT count(*) FROM invitations WHERE email = 'third@nhs.net'"),
        0
    );
    // Reminders do not count; links older than a day do not either.
    app.sql("UPDATE invitation_links SET created_at = now() - interval '25 hours'");
    let results = invite_and_see_results(&amy, &ws, "third@nhs.net", "member").await;
    assert!(results.contains(
        "<strong>third@nhs.net</strong>: <span class=\"app-result app-result--ok\">Invitation sent"
    ));
    app.stop().await;
}

#[actix_web::test]
async fn the_invite_form_keeps_what_was_typed_and_says_what_is_wrong() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    let form = amy
        .browser
        .get(&format!("/workspaces/{ws}/invitations/new"))
        .await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("name=\"emails\""));
    let empty = invite(&amy, &ws, " , \n", "member").await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("Enter at least one email address"));
    let bad_date = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[
                ("emails", "carer@gmail.com"),
                ("role", "guest"),
                ("guest_until", "2001-01-01"),
            ],
        )
        .await;
    assert_eq!(bad_date.status, 422);
    assert!(bad_date.body.contains("The end date must be in the future"));
    assert!(bad_date.body.contains("carer@gmail.com"));
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 0);
    app.stop().await;
}

/// The link its admins see on the settings page once the form that made it redirected there
/// (Post/Redirect/Get), and again on every later visit; only its hash is stored.
async fn made_link(
    app: &TestApp,
    admin: &Person,
    ws: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> String {
    admin
        .browser
        .post(&format!("/workspaces/{ws}/link/{action}"), fields)
        .await
        .assert_redirect_to(&format!("/workspaces/{ws}/settings#share-link"));
    let settings = admin
        .browser
        .get(&format!("/workspaces/{ws}/settings"))
        .await;
    let link = settings.element_text("share-link-href");
    // Shown again later: derived, not kept.
    let again = admin
        .browser
        .get(&format!("/workspaces/{ws}/settings"))
        .await;
    assert_eq!(again.element_text("share-link-href"), link);
    let token = link.rsplit('/').next().unwrap();
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM sessions WHERE state::text LIKE '%{token}%'"
        )),
        0,
        "the token is not kept in the session store"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM workspace_join_links WHERE token_hash LIKE '%{token}%'"
        )),
        0,
        "only the token's hash is stored"
    );
    link.strip_prefix(&app.base_url).unwrap().to_string()
}

#[actix_web::test]
async fn the_shareable_link_lets_organisation_members_join_and_regenerating_it_kills_the_old_one() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    let lee = app.person(org, "lee@nhs.net", "Lee", "Chan").await;
    let max = app.person(org, "max@nhs.net", "Max", "Field").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;

    // Members cannot manage the link.
    join_approved(&amy, &max, &ws).await;
    assert_eq!(
        max.browser
            .post(&format!("/workspaces/{ws}/link/enable"), &[])
            .await
            .status,
        404
    );

    let first = made_link(&app, &amy, &ws, "enable", &[]).await;
    assert!(first.starts_with("/join/"));
    let page = kim.browser.get(&first).await;
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .contains("An admin of the workspace approves new members"));
    kim.browser.post(&first, &[]).await.assert_redirect_to("/");
    assert_eq!(membership(&app, &ws, "kim@nhs.net"), "pending member");
    // (Max's request, which Amy approved, was the first.)
    let asked = app.smtp.wait_for_nth("amy@nhs.net", 2).await;
    assert_eq!(asked.subject(), "Kim Lee asked to join Ward 2 Nurses");

    // Regenerate: at most one use, approved at once; the old link dies.
    let second = made_link(
        &app,
        &amy,
        &ws,
        "regenerate",
        &[("max_uses", "1"), ("approve_on_join", "yes")],
    )
    .await;
    assert_ne!(first, second);
    assert_eq!(lee.browser.get(&first).await.status, 410);
    lee.browser.post(&second, &[]).await.assert_redirect_to("/");
    assert_eq!(membership(&app, &ws, "lee@nhs.net"), "approved member");
    let settings = amy
        .browser
        .get(&format!("/workspaces/{ws}/settings"))
        .await
        .body;
    assert!(settings.contains("1 of at most 1"));

    let used_up = app.new_browser();
    let nia = app.person(org, "nia@nhs.net", "Nia", "Obi").await;
    let refused = nia.browser.post(&second, &[]).await;
    assert_eq!(refused.status, 410);
    assert!(refused.body.contains("This link has been used up"));
    assert_eq!(membership(&app, &ws, "nia@nhs.net"), "none");

    // Someone whose address the organisation does not admit cannot use it.
    let other = app.create_org("Riverside Private Clinic", &["riverside.co.uk"]);
    let zoe = app
        .person(other, "zoe@riverside.co.uk", "Zoe", "Khan")
        .await;
    let third = made_link(&app, &amy, &ws, "regenerate", &[]).await;
    assert_eq!(zoe.browser.post(&third, &[]).await.status, 403);
    assert_eq!(membership(&app, &ws, "zoe@riverside.co.uk"), "none");

    // Signed out: sign in first. Disabled: dead.
    used_up
        .get(&third)
        .await
        .assert_redirect_to(&format!("/login?next={}", third.replace('/', "%2F")));
    amy.browser
        .post(&format!("/workspaces/{ws}/link/disable"), &[])
        .await
        .assert_redirect_to(&format!("/workspaces/{ws}/settings#share-link"));
    let off = nia.browser.post(&third, &[]).await;
    assert_eq!(off.status, 410);
    assert!(off.body.contains("This link has been turned off"));

    // A bad maximum is refused beside its field, the typed value kept.
    let page = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/link/enable"),
            &[("max_uses", "lots")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page
        .body
        .contains("Enter the maximum number of uses as a whole number"));
    assert!(page.body.contains("value=\"lots\""));
    assert_eq!(
        app.count(&format!("SELECT count(*) FROM audit_events WHERE workspace_id = '{ws}' AND action LIKE 'join_link_%'")),
        4
    );
    app.stop().await;
}

#[actix_web::test]
async fn inviting_a_rostered_profile_without_an_email_asks_for_the_address_and_records_it() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let ws = create_workspace(&tara, org, "Acute Medicine").await;
    app.sql(&format!(
        "INSERT INTO roster_profiles (id, organisation_id, first_name, surname, grade) VALUES (gen_random_uuid(), '{org}', 'Priya', 'Shah', 'FY1')"
    ));
    let profile = app.text("SELECT id FROM roster_profiles WHERE surname = 'Shah'");
    let users = tara
        .browser
        .get(&format!("/organisations/{org}/admin/users"))
        .await
        .body;
    let invite_path = format!("/organisations/{org}/admin/profiles/{profile}/invite");
    assert!(users.contains(&invite_path));

    // The address is asked for first; a bad one is refused beside the field and kept.
    let refused = tara
        .browser
        .submit(
            &invite_path,
            &invite_path,
            &[
                ("email", "priya@gmail.com"),
                ("workspace_id", &ws),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused
        .body
        .contains("priya@gmail.com is not in the organisation"));
    assert!(refused.body.contains("value=\"priya@gmail.com\""));

    tara.browser
        .submit(
            &invite_path,
            &invite_path,
            &[
                ("email", "priya.shah@nhs.net"),
                ("workspace_id", &ws),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(
        app.count("SELECT count(*) FROM roster_profiles p JOIN users u ON u.id = p.user_id WHERE u.email = 'priya.shah@nhs.net' AND u.password_hash IS NULL"),
        1,
        "the address is recorded on the profile's account"
    );
    let link = invitation_link(&app, "priya.shah@nhs.net", 1).await;
    let token = link.trim_start_matches("/invitations/").to_string();

    // The invitation completes the account: the link confirms the address, Priya chooses a password.
    let priya = app.new_browser();
    priya
        .submit(
            &format!("/signup?invitation={token}"),
            "/signup",
            &[
                ("invitation", &token),
                ("first_name", "Priya"),
                ("surname", "Shah"),
                ("password", PASSWORD),
            ],
        )
        .await
        .assert_redirect_to("/account/two-factor/setup");
    priya.enrol().await;
    priya
        .post(&format!("{link}/accept"), &[])
        .await
        .assert_redirect_to("/");
    assert_eq!(
        membership(&app, &ws, "priya.shah@nhs.net"),
        "approved member"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'priya.shah@nhs.net'"),
        1
    );
    app.stop().await;
}

#[actix_web::test]
async fn whoever_holds_a_text_message_invitation_joins_as_a_pending_guest_for_an_admin_to_approve()
{
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    invite_and_see_results(&amy, &ws, "07700 900123", "guest").await;
    let sms = app.text("SELECT text_body FROM outbox WHERE channel = 'sms'");
    let link = sms
        .split_whitespace()
        .find(|w| w.contains("/invitations/"))
        .unwrap()
        .strip_prefix(&app.base_url)
        .unwrap()
        .to_string();
    let guest_org = app.create_org("Guests", &["gmail.com"]);
    let carer = app
        .person(guest_org, "carer@gmail.com", "Chris", "Carer")
        .await;
    carer
        .browser
        .post(&format!("{link}/accept"), &[])
        .await
        .assert_redirect_to("/");
    assert_eq!(membership(&app, &ws, "carer@gmail.com"), "pending guest");
    let asked = app.smtp.wait_for("amy@nhs.net").await;
    assert_eq!(asked.subject(), "Chris Carer asked to join Ward 2 Nurses");
    amy.browser
        .post(
            &format!("/workspaces/{ws}/members/{}/approve", carer.user.id),
            &[],
        )
        .await;
    assert_eq!(membership(&app, &ws, "carer@gmail.com"), "approved guest");
    app.stop().await;
}

#[actix_web::test]
async fn a_member_inviting_an_address_someone_else_invited_resends_it_unchanged() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    join_approved(&amy, &kim, &ws).await;
    invite_and_see_results(&amy, &ws, "dave@nhs.net", "admin").await;
    let results = invite_and_see_results(&kim, &ws, "dave@nhs.net", "member").await;
    assert!(results.contains("it was sent again with a new link"));
    assert_eq!(
        app.text("SELECT i.role || ' ' || u.email FROM invitations i JOIN users u ON u.id = i.invited_by"),
        "admin amy@nhs.net",
        "still Amy's admin invitation: Kim cannot take it over (nor then rescind it)"
    );
    let id = invitation_id(&app, "dave@nhs.net");
    let rescind = kim
        .browser
        .post(&format!("/workspaces/{ws}/invitations/{id}/rescind"), &[])
        .await;
    assert_eq!(rescind.status, 404);
    app.stop().await;
}

#[actix_web::test]
async fn a_guests_last_day_is_typed_in_the_day_month_year_boxes_and_kept_when_wrong() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;

    // The NHS date input, not the browser's own date picker.
    let form = amy
        .browser
        .get(&format!("/workspaces/{ws}/invitations/new"))
        .await
        .body;
    for name in ["guest_until-day", "guest_until-month", "guest_until-year"] {
        assert!(form.contains(&format!("name=\"{name}\"")), "no {name} box");
    }
    assert!(!form.contains("type=\"date\""));

    // A day that does not exist: refused next to the boxes, with what was typed in them.
    let refused = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[
                ("emails", "carer@gmail.com"),
                ("role", "guest"),
                ("guest_until-day", "31"),
                ("guest_until-month", "2"),
                ("guest_until-year", "2031"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("id=\"guest_until-error\""));
    assert!(refused
        .body
        .contains("name=\"guest_until-day\" type=\"text\" inputmode=\"numeric\" value=\"31\""));
    assert!(refused
        .body
        .contains("name=\"guest_until-month\" type=\"text\" inputmode=\"numeric\" value=\"2\""));
    assert!(refused.body.contains("carer@gmail.com"));
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 0);

    let until = (chrono::Utc::now() + chrono::Duration::days(60)).date_naive();
    amy.browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[
                ("emails", "carer@gmail.com"),
                ("role", "guest"),
                ("guest_until-day", &until.format("%-d").to_string()),
                ("guest_until-month", &until.format("%-m").to_string()),
                ("guest_until-year", &until.format("%Y").to_string()),
            ],
        )
        .await
        .assert_redirect_to(&format!("/workspaces/{ws}/settings/users#invite-results"));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM invitations WHERE email = 'carer@gmail.com' AND guest_until = '{until}'"
        )),
        1
    );
    app.stop().await;
}
