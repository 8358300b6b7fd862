//! Teams and contacts (Moxo, Connectworks): inviting a whole team into a workspace, its row on
//! the Users page and "Resend to those not joined"; contacts added quietly or invited as
//! guests, their duplicates and merging; Moxo's rule of who may invite whom; another
//! organisation's ids; the daily limit; the forms' errors.

use crate::helpers::*;
use crate::workspaces::{create_workspace, join_approved, users_page};

/// Creates a team as `keeper` and returns its id.
async fn create_team(app: &TestApp, keeper: &Person, org: &str, name: &str) -> String {
    let page = keeper
        .browser
        .post(&format!("/organisations/{org}/teams"), &[("name", name)])
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    app.text(&format!(
        "SELECT id::text FROM teams WHERE name = '{name}' AND organisation_id = '{org}'"
    ))
}

async fn add_to_team(keeper: &Person, org: &str, team: &str, person: &Person) {
    keeper
        .browser
        .post(
            &format!("/organisations/{org}/teams/{team}/members"),
            &[("user_id", &person.user.id.to_string())],
        )
        .await
        .assert_redirect_to(&format!("/organisations/{org}/teams/{team}#team-members"));
}

async fn invite_team(person: &Person, ws: &str, team: &str) -> Page {
    person
        .browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[("emails", ""), ("team_id", team), ("role", "member")],
        )
        .await
}

/// Invites the team and returns the Users page with the per-person results.
async fn invite_team_and_see(person: &Person, ws: &str, team: &str) -> String {
    let page = invite_team(person, ws, team).await;
    assert_eq!(page.status, 303, "{}", page.body);
    person.browser.get(&users_page(ws)).await.body
}

/// The path of the invitation link in the `n`th email to `to`.
async fn invitation_link(app: &TestApp, to: &str, n: usize) -> String {
    let mail = app.smtp.wait_for_nth(to, n).await;
    let link = mail.link_to("/invitations/");
    link.strip_prefix(&app.base_url).unwrap().to_string()
}

/// The part of `html` from the element with this id to `end`.
fn section<'a>(html: &'a str, id: &str, end: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in:\n{html}"));
    let rest = &html[start..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// Tara (trust administrator, keeps the teams), Amy (the workspace's admin) and the night
/// team Kim, Dave and Lee; Kim is already in the workspace.
struct NightTeam {
    app: TestApp,
    org: String,
    ws: String,
    team: String,
    tara: Person,
    amy: Person,
    kim: Person,
    dave: Person,
    lee: Person,
}

async fn night_team() -> NightTeam {
    let app = spawn_app().await;
    let org_id = app.nhs_org();
    let tara = app.trust_admin(org_id, "tara@nhs.net").await;
    let amy = app.person(org_id, "amy@nhs.net", "Amy", "Okonkwo").await;
    let kim = app.person(org_id, "kim@nhs.net", "Kim", "Lee").await;
    let dave = app.person(org_id, "dave@nhs.net", "Dave", "Patel").await;
    let lee = app.person(org_id, "lee@nhs.net", "Lee", "Chan").await;
    let ws = create_workspace(&amy, org_id, "Ward 2 Nurses").await;
    join_approved(&amy, &kim, &ws).await;
    let org = org_id.to_string();
    let team = create_team(&app, &tara, &org, "Night midwives").await;
    for person in [&kim, &dave, &lee] {
        add_to_team(&tara, &org, &team, person).await;
    }
    NightTeam {
        app,
        org,
        ws,
        team,
        tara,
        amy,
        kim,
        dave,
        lee,
    }
}

#[actix_web::test]
async fn a_team_invitation_reaches_each_member_once_in_the_app_and_by_email_and_skips_present_members(
) {
    let t = night_team().await;
    let (app, ws) = (&t.app, &t.ws);
    // Kim was told of her approval; nothing else goes to her.
    let kim_before = app.smtp.settled_count("kim@nhs.net").await;

    let users = invite_team_and_see(&t.amy, ws, &t.team).await;
    assert!(users.contains("<strong>Night midwives: Kim Lee (kim@nhs.net)</strong>: <span class=\"app-result app-result--refused\">Already a member of this workspace"), "{users}");
    assert!(users.contains("<strong>Night midwives: Dave Patel (dave@nhs.net)</strong>: <span class=\"app-result app-result--ok\">Invitation sent"));
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 2);
    assert_eq!(app.count("SELECT count(*) FROM team_invitations"), 2);
    for email in ["dave@nhs.net", "lee@nhs.net"] {
        app.smtp.wait_for(email).await;
        assert_eq!(app.smtp.settled_count(email).await, 1, "{email}");
    }
    assert_eq!(app.smtp.settled_count("kim@nhs.net").await, kim_before);
    assert_eq!(
        app.count("SELECT count(*) FROM invitations WHERE email = 'kim@nhs.net'"),
        0
    );
    // Existing accounts also see it inside the app.
    let home = t.dave.browser.get("/").await.body;
    assert!(home.contains("Ward 2 Nurses"), "{home}");
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'team_invited' AND detail = 'Amy Okonkwo invited the team Night midwives as member: 2 of its 3 members were sent an invitation'"),
        1
    );

    // Inviting the team again sends nothing to those it already invited.
    let users = invite_team_and_see(&t.amy, ws, &t.team).await;
    assert!(users.contains("Already invited with this team: use Resend to those not joined"));
    assert_eq!(app.count("SELECT count(*) FROM invitation_links"), 2);
    assert_eq!(app.smtp.settled_count("dave@nhs.net").await, 1);
    t.app.stop().await;
}

#[actix_web::test]
async fn the_team_row_counts_joins_and_resend_reaches_only_those_not_joined() {
    let t = night_team().await;
    let (app, ws) = (&t.app, &t.ws);
    let kim_before = app.smtp.settled_count("kim@nhs.net").await;
    invite_team_and_see(&t.amy, ws, &t.team).await;
    let users = t.amy.browser.get(&users_page(ws)).await.body;
    assert!(users.contains("Night midwives: 0 of 2 joined"), "{users}");

    // Dave joins from his email.
    let link = invitation_link(app, "dave@nhs.net", 1).await;
    t.dave
        .browser
        .post(&format!("{link}/accept"), &[])
        .await
        .assert_redirect_to("/");
    let users = t.amy.browser.get(&users_page(ws)).await.body;
    assert!(users.contains("Night midwives: 1 of 2 joined"), "{users}");
    assert!(users.contains("Resend to those not joined"));
    // Kim, an approved member, sees the row too (colleagues see invitations).
    assert!(t
        .kim
        .browser
        .get(&users_page(ws))
        .await
        .body
        .contains("Night midwives: 1 of 2 joined"));

    // Kim (a member: anyone who may invite may resend) resends: only Lee gets a new link.
    let page = t
        .kim
        .browser
        .post(&format!("/workspaces/{ws}/teams/{}/resend", t.team), &[])
        .await;
    page.assert_redirect_to(&format!("{}#team-invitations", users_page(ws)));
    let second = invitation_link(app, "lee@nhs.net", 2).await;
    assert_ne!(second, invitation_link(app, "lee@nhs.net", 1).await);
    assert_eq!(app.smtp.settled_count("dave@nhs.net").await, 1);
    assert_eq!(app.smtp.settled_count("kim@nhs.net").await, kim_before);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'team_invitations_resent'"),
        1
    );
    // The first link stopped working; the new one lets Lee in.
    let first = invitation_link(app, "lee@nhs.net", 1).await;
    assert_ne!(
        t.lee
            .browser
            .post(&format!("{first}/accept"), &[])
            .await
            .status,
        303
    );
    t.lee
        .browser
        .post(&format!("{second}/accept"), &[])
        .await
        .assert_redirect_to("/");
    let users = t.amy.browser.get(&users_page(ws)).await.body;
    assert!(users.contains("Night midwives: 2 of 2 joined"), "{users}");
    assert!(!users.contains("Resend to those not joined"));
    t.app.stop().await;
}

#[actix_web::test]
async fn a_member_taken_out_of_the_team_keeps_their_invitation_and_inviting_again_reaches_new_members(
) {
    let t = night_team().await;
    let (app, ws) = (&t.app, &t.ws);
    invite_team_and_see(&t.amy, ws, &t.team).await;

    // Lee leaves the team; Max joins it.
    t.tara
        .browser
        .post(
            &format!(
                "/organisations/{}/teams/{}/members/{}/remove",
                t.org, t.team, t.lee.user.id
            ),
            &[],
        )
        .await
        .assert_redirect_to(&format!(
            "/organisations/{}/teams/{}#team-members",
            t.org, t.team
        ));
    let max = app
        .person(t.org.parse().unwrap(), "max@nhs.net", "Max", "Obi")
        .await;
    add_to_team(&t.tara, &t.org, &t.team, &max).await;
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'team_member_removed' AND detail = 'Tara Adeyemi took Lee Chan out of the team Night midwives'"),
        1
    );

    // Lee's invitation is as it was, and still in the team's row.
    let users = t.amy.browser.get(&users_page(ws)).await.body;
    assert!(users.contains("Night midwives: 0 of 2 joined"), "{users}");
    assert!(users.contains("lee@nhs.net"));
    let link = invitation_link(app, "lee@nhs.net", 1).await;
    t.lee
        .browser
        .post(&format!("{link}/accept"), &[])
        .await
        .assert_redirect_to("/");

    // Inviting the team again reaches Max only (the role left out: a team joins as members).
    let page = t
        .amy
        .browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[("team_id", t.team.as_str())],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        app.text("SELECT role FROM invitations WHERE email = 'max@nhs.net'"),
        "member"
    );
    let users = t.amy.browser.get(&users_page(ws)).await.body;
    assert!(users.contains("<strong>Night midwives: Max Obi (max@nhs.net)</strong>: <span class=\"app-result app-result--ok\">Invitation sent"), "{users}");
    app.smtp.wait_for("max@nhs.net").await;
    assert_eq!(app.smtp.settled_count("lee@nhs.net").await, 1);
    assert!(users.contains("Night midwives: 1 of 3 joined"), "{users}");
    t.app.stop().await;
}

#[actix_web::test]
async fn a_contact_added_quietly_gets_no_message_at_all() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    join_approved(&amy, &kim, &ws).await;
    let outbox_before = app.count("SELECT count(*) FROM outbox");

    // Kim, an ordinary member, adds a carer quietly, then another to the workspace's list.
    let page = kim
        .browser
        .post(
            &format!("/organisations/{org}/contacts"),
            &[
                ("first_name", "Chris"),
                ("surname", "Carer"),
                ("email", "Chris.Carer@gmail.com"),
                ("mobile", "07700 900123"),
                ("then", "quietly"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = kim
        .browser
        .post(
            &format!("/organisations/{org}/contacts"),
            &[
                ("first_name", "Pat"),
                ("surname", "Social-Worker"),
                ("mobile", "07700 900456"),
                ("then", "quietly"),
                ("workspace_id", &ws),
            ],
        )
        .await;
    page.assert_redirect_to(&format!(
        "/workspaces/{ws}/people#contact-{}",
        app.text("SELECT id::text FROM contacts WHERE first_name = 'Pat'")
    ));
    assert_eq!(app.count("SELECT count(*) FROM outbox"), outbox_before);
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 0);
    assert_eq!(
        app.count(&format!("SELECT count(*) FROM contacts WHERE email = 'chris.carer@gmail.com' AND mobile = '+447700900123' AND added_by = '{}'", kim.user.id)),
        1
    );
    let list = kim
        .browser
        .get(&format!("/organisations/{org}/contacts?q=car"))
        .await;
    assert_eq!(list.status, 200);
    let table = section(&list.body, "contact-list", "</table>");
    assert!(table.contains("Chris Carer"));
    assert!(!table.contains("Pat Social-Worker"), "searched by name");
    assert!(table.contains("by Kim Lee"));
    let people = amy.browser.get(&format!("/workspaces/{ws}/people")).await;
    assert!(people.body.contains("Pat Social-Worker"));
    assert!(people.body.contains("Not invited"));
    assert!(people.body.contains("has no email address yet"));
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action IN ('contact_added', 'contact_added_to_workspace')"),
        3
    );
    // Adding the same address again finds the contact there: nobody twice.
    kim.browser
        .post(
            &format!("/organisations/{org}/contacts"),
            &[
                ("first_name", "Christopher"),
                ("surname", "Carer"),
                ("email", "chris.carer@gmail.com"),
                ("then", "quietly"),
            ],
        )
        .await;
    assert_eq!(app.count("SELECT count(*) FROM contacts"), 2);
    assert_eq!(app.count("SELECT count(*) FROM outbox"), outbox_before);

    // Invited later as a guest from the invite form, the contact appears on the People page.
    amy.browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[("emails", "chris.carer@gmail.com"), ("role", "guest")],
        )
        .await;
    let people = amy.browser.get(&format!("/workspaces/{ws}/people")).await;
    let chris = app.text("SELECT id::text FROM contacts WHERE first_name = 'Chris'");
    let row = section(&people.body, &format!("contact-{chris}"), "</tr>");
    assert!(
        row.contains("Chris Carer") && row.contains("Not joined"),
        "{row}"
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_contact_asked_for_an_email_then_invited_becomes_a_guest_on_acceptance() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    join_approved(&amy, &kim, &ws).await;
    kim.browser
        .post(
            &format!("/organisations/{org}/contacts"),
            &[
                ("first_name", "Chris"),
                ("surname", "Carer"),
                ("mobile", "07700 900123"),
                ("then", "quietly"),
                ("workspace_id", &ws),
            ],
        )
        .await;
    let contact = app.text("SELECT id::text FROM contacts");

    // No email yet: asked for one first.
    let invite = format!("/workspaces/{ws}/people/{contact}/invite");
    let asked = kim.browser.post(&invite, &[]).await;
    assert_eq!(asked.status, 422);
    assert!(
        asked
            .body
            .contains("Enter Chris Carer&#39;s email address: the invitation goes by email")
            || asked
                .body
                .contains("Enter Chris Carer's email address: the invitation goes by email")
    );
    let bad = kim.browser.post(&invite, &[("email", "chris@")]).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("value=\"chris@\""),
        "what was typed is kept"
    );
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 0);

    // Kim, a member, invites the contact as a guest.
    kim.browser
        .post(&invite, &[("email", "chris.carer@gmail.com")])
        .await
        .assert_redirect_to(&format!("/workspaces/{ws}/people#contact-{contact}"));
    assert_eq!(
        app.count("SELECT count(*) FROM invitations WHERE role = 'guest' AND email = 'chris.carer@gmail.com'"),
        1
    );
    let people = kim
        .browser
        .get(&format!("/workspaces/{ws}/people"))
        .await
        .body;
    assert!(people.contains("Not joined"));
    assert!(people.contains(&format!("/workspaces/{ws}/people/{contact}/resend")));
    assert!(people.contains("/rescind"), "the inviter may rescind");

    // Resend from the People page: a new link.
    kim.browser
        .post(&format!("/workspaces/{ws}/people/{contact}/resend"), &[])
        .await
        .assert_redirect_to(&format!("/workspaces/{ws}/people#contact-{contact}"));
    let link = invitation_link(&app, "chris.carer@gmail.com", 2).await;
    let token = link.trim_start_matches("/invitations/").to_string();

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
    assert_eq!(
        app.text(&format!("SELECT m.status || ' ' || m.role FROM workspace_members m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = '{ws}' AND u.email = 'chris.carer@gmail.com'")),
        "approved guest"
    );
    let people = amy
        .browser
        .get(&format!("/workspaces/{ws}/people"))
        .await
        .body;
    assert!(people.contains("Joined"), "{people}");
    app.stop().await;
}

#[actix_web::test]
async fn likely_duplicate_contacts_are_flagged_and_only_true_duplicates_merged_by_those_who_manage_users(
) {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    let ws = create_workspace(&kim, org, "Ward 2 Nurses").await;
    for (email, mobile, to_ws) in [
        ("jo@gmail.com", "", false),
        ("", "07700 900123", true),
        ("jo.bloggs@yahoo.com", "", false),
    ] {
        let mut fields = vec![
            ("first_name", "Jo"),
            ("surname", "Bloggs"),
            ("email", email),
            ("mobile", mobile),
            ("then", "quietly"),
        ];
        if to_ws {
            fields.push(("workspace_id", &ws));
        }
        let page = kim
            .browser
            .post(&format!("/organisations/{org}/contacts"), &fields)
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
    }
    let id = |address: &str| {
        app.text(&format!(
            "SELECT id::text FROM contacts WHERE email = '{address}' OR mobile = '{address}'"
        ))
    };
    let (by_email, by_mobile, other_email) = (
        id("jo@gmail.com"),
        id("+447700900123"),
        id("jo.bloggs@yahoo.com"),
    );

    // Flagged for everyone; Merge offered only to those who manage users.
    let list = kim
        .browser
        .get(&format!("/organisations/{org}/contacts"))
        .await
        .body;
    assert_eq!(list.matches("Possible duplicate").count(), 4, "{list}");
    assert!(!list.contains("/merge"));
    let merge = format!("/organisations/{org}/contacts/{by_email}/merge");
    assert_eq!(
        kim.browser
            .post(&merge, &[("other", &by_mobile)])
            .await
            .status,
        404
    );
    assert!(tara
        .browser
        .get(&format!("/organisations/{org}/contacts"))
        .await
        .body
        .contains(&format!("/organisations/{org}/contacts/{by_email}/merge")));
    // The workspace's People page says so before anyone invites.
    let people = kim
        .browser
        .get(&format!("/workspaces/{ws}/people"))
        .await
        .body;
    assert!(
        people.contains(&format!(
            "/organisations/{org}/contacts?q=Bloggs#contact-{by_mobile}"
        )),
        "{people}"
    );

    // Two different email addresses are two people, whatever the names.
    let refused = tara.browser.post(&merge, &[("other", &other_email)]).await;
    assert_eq!(refused.status, 409);
    assert!(refused.body.contains("do not look like the same person"));
    assert_eq!(app.count("SELECT count(*) FROM contacts"), 3);

    // The one with only a mobile number merges into the one with the email address.
    tara.browser
        .post(&merge, &[("other", &by_mobile)])
        .await
        .assert_redirect_to(&format!("/organisations/{org}/contacts#contact-{by_email}"));
    assert_eq!(app.count("SELECT count(*) FROM contacts"), 2);
    assert_eq!(
        app.count(&format!("SELECT count(*) FROM contacts WHERE id = '{by_email}' AND email = 'jo@gmail.com' AND mobile = '+447700900123'")),
        1
    );
    // Its place on the workspace's People page moved over.
    assert_eq!(
        app.count(&format!("SELECT count(*) FROM workspace_contacts WHERE contact_id = '{by_email}' AND workspace_id = '{ws}'")),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'contact_merged' AND detail = 'Tara Adeyemi merged the contact Jo Bloggs (07700 900123) into Jo Bloggs (jo@gmail.com)'"),
        1
    );
    // Merged away: its id is gone.
    assert_eq!(
        tara.browser
            .post(
                &format!("/organisations/{org}/contacts/{by_mobile}/merge"),
                &[("other", &by_email)]
            )
            .await
            .status,
        404
    );
    app.stop().await;
}

#[actix_web::test]
async fn a_member_who_is_not_an_admin_may_add_an_existing_colleague_and_guests_but_not_a_new_address(
) {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let elsewhere = app.create_org("Barts Health", &["bartshealth.nhs.uk", "nhs.net"]);
    app.person(elsewhere, "zoe@nhs.net", "Zoe", "Khan").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    join_approved(&amy, &kim, &ws).await;

    // The form says what Kim may do.
    let form = kim
        .browser
        .get(&format!("/workspaces/{ws}/invitations/new"))
        .await
        .body;
    assert!(form.contains(
        "You can add colleagues who already have an account in East London NHS Foundation Trust"
    ));

    let page = kim
        .browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[
                ("emails", "newbie@nhs.net, dave@nhs.net, zoe@nhs.net"),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    let results = kim.browser.get(&users_page(&ws)).await.body;
    assert!(results.contains("<strong>newbie@nhs.net</strong>: <span class=\"app-result app-result--refused\">Not sent: they have no account in East London NHS Foundation Trust yet"), "{results}");
    // An account in another organisation counts as none here.
    assert!(results.contains("<strong>zoe@nhs.net</strong>: <span class=\"app-result app-result--refused\">Not sent: they have no account"));
    assert!(results.contains(
        "<strong>dave@nhs.net</strong>: <span class=\"app-result app-result--ok\">Invitation sent"
    ));
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 1);

    // Guests (contacts from outside) Kim may invite.
    let page = kim
        .browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[("emails", "carer@gmail.com"), ("role", "guest")],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(
        app.count("SELECT count(*) FROM invitations WHERE email = 'carer@gmail.com'"),
        1
    );
    // The admin may invite the new address.
    amy.browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[("emails", "newbie@nhs.net"), ("role", "member")],
        )
        .await;
    assert_eq!(
        app.count("SELECT count(*) FROM invitations WHERE email = 'newbie@nhs.net'"),
        1
    );
    app.stop().await;
}

#[actix_web::test]
async fn another_organisations_team_or_contact_ids_answer_404() {
    let t = night_team().await;
    let app = &t.app;
    let barts = app.create_org("Barts Health", &["bartshealth.nhs.uk"]);
    let zoe = app.trust_admin(barts, "zoe@bartshealth.nhs.uk").await;
    let barts_ws = create_workspace(&zoe, barts, "Cardiology").await;
    let their_team = create_team(app, &zoe, &barts.to_string(), "Cardiac nurses").await;
    zoe.browser
        .post(
            &format!("/organisations/{barts}/contacts"),
            &[
                ("first_name", "Sam"),
                ("surname", "Other"),
                ("email", "sam@gmail.com"),
                ("then", "quietly"),
                ("workspace_id", &barts_ws),
            ],
        )
        .await
        .assert_redirect_to(&format!(
            "/workspaces/{barts_ws}/people#contact-{}",
            app.text("SELECT id::text FROM contacts")
        ));
    let their_contact = app.text("SELECT id::text FROM contacts");
    let (org, ws) = (&t.org, &t.ws);

    // Tara, trust administrator here, with Barts' ids under her own organisation and theirs.
    for path in [
        format!("/organisations/{org}/teams/{their_team}"),
        format!("/organisations/{barts}/teams/{their_team}"),
        format!("/organisations/{barts}/teams"),
        format!("/organisations/{barts}/contacts"),
    ] {
        assert_eq!(t.tara.browser.get(&path).await.status, 404, "{path}");
    }
    let member = [
        ("user_id", t.dave.user.id.to_string()),
        ("other", t.dave.user.id.to_string()),
    ];
    let member: Vec<(&str, &str)> = member.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for path in [
        format!("/organisations/{org}/teams/{their_team}/members"),
        format!("/organisations/{barts}/teams/{their_team}/members"),
        format!(
            "/organisations/{org}/teams/{their_team}/members/{}/remove",
            t.dave.user.id
        ),
        format!("/organisations/{org}/contacts/{their_contact}/merge"),
    ] {
        let page = t.tara.browser.post(&path, &member).await;
        assert_eq!(page.status, 404, "{path}");
    }
    // Amy, admin of Ward 2, with Barts' team and contact.
    assert_eq!(invite_team(&t.amy, ws, &their_team).await.status, 404);
    for path in [
        format!("/workspaces/{ws}/teams/{their_team}/resend"),
        format!("/workspaces/{ws}/people/{their_contact}/invite"),
        format!("/workspaces/{ws}/people/{their_contact}/resend"),
        format!("/workspaces/{barts_ws}/people/{their_contact}/invite"),
    ] {
        assert_eq!(t.amy.browser.post(&path, &[]).await.status, 404, "{path}");
    }
    assert_eq!(
        t.amy
            .browser
            .get(&format!("/workspaces/{barts_ws}/people"))
            .await
            .status,
        404
    );
    // Someone of Barts cannot be put in a team here.
    let zoe_id = zoe.user.id.to_string();
    let refused = t
        .tara
        .browser
        .post(
            &format!("/organisations/{org}/teams/{}/members", t.team),
            &[("user_id", &zoe_id)],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused
        .body
        .contains("Choose someone from East London NHS Foundation Trust"));
    // Nor may an ordinary member keep teams.
    assert_eq!(
        t.kim
            .browser
            .get(&format!("/organisations/{org}/teams"))
            .await
            .status,
        404
    );
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 0);
    t.app.stop().await;
}

#[actix_web::test]
async fn the_daily_limit_counts_team_invitations_and_their_resends() {
    let t = night_team().await;
    let (app, ws) = (&t.app, &t.ws);
    // 199 sends today already.
    t.amy
        .browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[("emails", "first@nhs.net"), ("role", "member")],
        )
        .await;
    app.sql("INSERT INTO invitation_links (token_hash, invitation_id) SELECT md5(g::text), id FROM invitations, generate_series(1, 198) g");

    let users = invite_team_and_see(&t.amy, ws, &t.team).await;
    // Members are taken by surname: Lee Chan first.
    assert!(users.contains("<strong>Night midwives: Lee Chan (lee@nhs.net)</strong>: <span class=\"app-result app-result--ok\">Invitation sent"), "{users}");
    assert!(users.contains("<strong>Night midwives: Dave Patel (dave@nhs.net)</strong>: <span class=\"app-result app-result--refused\">Not sent: this workspace has sent 200 invitations in the last 24 hours"), "{users}");
    assert_eq!(
        app.count("SELECT count(*) FROM invitations WHERE email = 'dave@nhs.net'"),
        0
    );
    // Resending to the team is held back by the limit too.
    t.amy
        .browser
        .post(&format!("/workspaces/{ws}/teams/{}/resend", t.team), &[])
        .await;
    let users = t.amy.browser.get(&users_page(ws)).await.body;
    assert!(
        users.contains("1 person not sent: this workspace has sent 200 invitations"),
        "{users}"
    );
    assert_eq!(app.count("SELECT count(*) FROM invitation_links"), 200);
    t.app.stop().await;
}

#[actix_web::test]
async fn bad_input_is_shown_beside_its_field_and_what_was_typed_is_kept() {
    let t = night_team().await;
    let (org, ws) = (&t.org, &t.ws);

    let blank = t
        .tara
        .browser
        .post(&format!("/organisations/{org}/teams"), &[("name", "  ")])
        .await;
    assert_eq!(blank.status, 422);
    assert!(blank.body.contains("Enter a name for the team"));
    let taken = t
        .tara
        .browser
        .post(
            &format!("/organisations/{org}/teams"),
            &[("name", "night MIDWIVES")],
        )
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken
        .body
        .contains("already has a team called night MIDWIVES"));
    assert!(taken.body.contains("value=\"night MIDWIVES\""));

    let page = t
        .kim
        .browser
        .post(
            &format!("/organisations/{org}/contacts"),
            &[
                ("first_name", "Chris"),
                ("surname", ""),
                ("email", "chris@@gmail"),
                ("mobile", "0123"),
                ("then", "invite"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    for expected in [
        "href=\"#surname\"",
        "id=\"surname-error\"",
        "id=\"email-error\"",
        "id=\"mobile-error\"",
        "id=\"workspace_id-error\"",
        "value=\"Chris\"",
        "value=\"chris@@gmail\"",
        "value=\"0123\"",
    ] {
        assert!(page.body.contains(expected), "{expected}: {}", page.body);
    }
    // Inviting needs an email address.
    let page = t
        .kim
        .browser
        .post(
            &format!("/organisations/{org}/contacts"),
            &[
                ("first_name", "Chris"),
                ("surname", "Carer"),
                ("mobile", "07700 900123"),
                ("then", "invite"),
                ("workspace_id", ws),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page
        .body
        .contains("Enter their email address to invite them, or add them quietly"));
    // A colleague is not a contact.
    let page = t
        .kim
        .browser
        .post(
            &format!("/organisations/{org}/contacts"),
            &[
                ("first_name", "Dave"),
                ("surname", "Patel"),
                ("email", "dave@nhs.net"),
                ("then", "quietly"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page
        .body
        .contains("dave@nhs.net has an account in East London NHS Foundation Trust"));
    assert_eq!(t.app.count("SELECT count(*) FROM contacts"), 0);

    // The invite form: a team that is not one, or nothing at all.
    let page = t
        .amy
        .browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[("emails", ""), ("team_id", "nonsense"), ("role", "member")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(
        page.body
            .contains("Choose one of the organisation&#39;s teams")
            || page.body.contains("Choose one of the organisation's teams")
    );
    let page = t
        .amy
        .browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[("emails", ""), ("role", "member")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("or choose a team"));
    assert_eq!(t.app.count("SELECT count(*) FROM invitations"), 0);
    t.app.stop().await;
}

#[actix_web::test]
async fn two_admins_inviting_the_team_at_once_reach_each_member_once() {
    let t = night_team().await;
    let (app, ws) = (&t.app, &t.ws);
    let tara = &t.tara;
    // Tara manages workspaces organisation-wide, so she may invite here too.
    let (a, b) = tokio::join!(
        invite_team(&t.amy, ws, &t.team),
        invite_team(tara, ws, &t.team)
    );
    assert_eq!((a.status, b.status), (303, 303), "{} {}", a.body, b.body);
    for email in ["dave@nhs.net", "lee@nhs.net"] {
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM invitations WHERE email = '{email}'"
            )),
            1,
            "{email}"
        );
        app.smtp.wait_for(email).await;
        assert_eq!(app.smtp.settled_count(email).await, 1, "{email}");
    }
    assert_eq!(app.count("SELECT count(*) FROM invitation_links"), 2);
    t.app.stop().await;
}

#[actix_web::test]
async fn the_same_address_added_twice_at_once_makes_one_contact_and_crossed_merges_do_not_deadlock()
{
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    let contacts = format!("/organisations/{org}/contacts");
    let fields = [
        ("first_name", "Jo"),
        ("surname", "Bloggs"),
        ("email", "jo@gmail.com"),
        ("then", "quietly"),
    ];
    let (a, b) = tokio::join!(
        kim.browser.post(&contacts, &fields),
        tara.browser.post(&contacts, &fields)
    );
    assert_eq!((a.status, b.status), (303, 303));
    assert_eq!(app.count("SELECT count(*) FROM contacts"), 1);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'contact_added'"),
        1
    );

    // Two true duplicates, merged each into the other at once: one wins, the other finds its
    // contact gone.
    tara.browser
        .post(
            &contacts,
            &[
                ("first_name", "jo "),
                ("surname", "BLOGGS"),
                ("mobile", "07700 900123"),
                ("then", "quietly"),
            ],
        )
        .await;
    let first = app.text("SELECT id::text FROM contacts WHERE email IS NOT NULL");
    let second = app.text("SELECT id::text FROM contacts WHERE mobile IS NOT NULL");
    let (merge_a, merge_b) = (
        format!("{contacts}/{first}/merge"),
        format!("{contacts}/{second}/merge"),
    );
    let (other_a, other_b) = ([("other", second.as_str())], [("other", first.as_str())]);
    let (a, b) = tokio::join!(
        tara.browser.post(&merge_a, &other_a),
        tara.browser.post(&merge_b, &other_b)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [303, 404], "{} {}", a.body, b.body);
    assert_eq!(app.count("SELECT count(*) FROM contacts WHERE email = 'jo@gmail.com' AND mobile = '+447700900123'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM contacts"), 1);
    app.stop().await;
}

#[actix_web::test]
async fn someone_removed_from_the_organisation_leaves_its_teams_and_is_not_invited_with_them() {
    let t = night_team().await;
    let (app, org, ws) = (&t.app, &t.org, &t.ws);
    let details = format!("/organisations/{org}/admin/users/{}", t.dave.user.id);
    t.tara
        .browser
        .submit(
            &format!("{details}/remove"),
            &format!("{details}/remove"),
            &[],
        )
        .await
        .assert_redirect_to(&format!("/organisations/{org}/admin/users"));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM team_members WHERE user_id = '{}'",
            t.dave.user.id
        )),
        0
    );
    let team_page = t
        .tara
        .browser
        .get(&format!("/organisations/{org}/teams/{}", t.team))
        .await;
    assert!(!section(&team_page.body, "members", "</table>").contains("Dave Patel"));

    let users = invite_team_and_see(&t.amy, ws, &t.team).await;
    assert!(!users.contains("dave@nhs.net"), "{users}");
    assert_eq!(
        app.count("SELECT count(*) FROM invitations WHERE email = 'dave@nhs.net'"),
        0
    );
    t.app.stop().await;
}
