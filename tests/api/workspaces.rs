//! Organisations and workspaces: discovery, creation, asking to join, approval, the Users page,
//! roles, leaving, and who may do what across workspaces and organisations.

use crate::helpers::*;

/// Creates a workspace as `admin` and returns its id.
pub(crate) async fn create_workspace(
    admin: &Person,
    org: staffroom::domain::OrganisationId,
    name: &str,
) -> String {
    let page = format!("/organisations/{org}/workspaces");
    admin
        .browser
        .submit(
            &page,
            &page,
            &[
                ("name", name),
                ("specialty", "501"),
                ("description", "Ward 2 team"),
            ],
        )
        .await
        .assert_redirect_to("/");
    let id: String = {
        let listing = admin.browser.get("/workspaces").await.body;
        let marker = "action=\"/workspaces/";
        listing
            .match_indices(marker)
            .map(|(i, _)| {
                listing[i + marker.len()..]
                    .split('/')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .find(|id| id != "personal")
            .expect("the new workspace is in the switcher")
    };
    id
}

/// Whether the workspace is in this person's switcher.
pub(crate) async fn in_switcher(person: &Person, ws: &str) -> bool {
    person
        .browser
        .get("/workspaces")
        .await
        .body
        .contains(&format!("action=\"/workspaces/{ws}/switch\""))
}

/// `person` asks to join `ws` and `admin` approves them.
pub(crate) async fn join_approved(admin: &Person, person: &Person, ws: &str) {
    person
        .browser
        .post(&format!("/workspaces/{ws}/join"), &[])
        .await
        .assert_redirect_to("/");
    admin
        .browser
        .post(
            &format!("/workspaces/{ws}/members/{}/approve", person.user.id),
            &[],
        )
        .await
        .assert_redirect_to(&users_page(ws));
}

pub(crate) fn users_page(ws: &str) -> String {
    format!("/workspaces/{ws}/settings/users")
}

#[actix_web::test]
async fn a_clinician_asks_to_join_the_admin_approves_and_the_clinician_switches_then_leaves() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let ws = create_workspace(&amy, org, "Maternity - Ward 2").await;

    // Dave finds it and asks to join with a message.
    let discover = dave
        .browser
        .get(&format!("/organisations/{org}/workspaces"))
        .await;
    assert_eq!(discover.status, 200);
    assert!(discover
        .body
        .contains("<span>Maternity - Ward 2</span></td>"));
    assert!(discover.body.contains("Obstetrics"));
    assert!(discover
        .body
        .contains("Pick the workspace specific to your team"));
    dave.browser
        .post(
            &format!("/workspaces/{ws}/join"),
            &[("message", "New registrar on Ward 2")],
        )
        .await
        .assert_redirect_to("/");
    let home = dave.browser.get("/").await;
    assert!(home.body.contains("Pending approval"));

    // Amy is emailed and prompted on every page.
    let request = app.smtp.wait_for("amy@nhs.net").await;
    assert_eq!(
        request.subject(),
        "Dave Patel asked to join Maternity - Ward 2"
    );
    assert!(request.text().contains("New registrar on Ward 2"));
    assert_eq!(
        request.link_to("/settings/users"),
        format!("{}{}", app.base_url, users_page(&ws))
    );
    for path in ["/", "/workspaces", "/account/password"] {
        assert!(
            amy.browser
                .get(path)
                .await
                .body
                .contains("1 person waiting for approval"),
            "{path}"
        );
    }
    assert!(!dave
        .browser
        .get("/")
        .await
        .body
        .contains("waiting for approval</a>"));

    let users = amy.browser.get(&users_page(&ws)).await;
    assert!(users.body.contains("New registrar on Ward 2"));
    let dave_id = dave.user.id.to_string();
    amy.browser
        .post(&format!("/workspaces/{ws}/members/{dave_id}/approve"), &[])
        .await
        .assert_redirect_to(&users_page(&ws));
    assert!(!amy
        .browser
        .get("/")
        .await
        .body
        .contains("waiting for approval"));

    let outcome = app.smtp.wait_for("dave@nhs.net").await;
    assert_eq!(outcome.subject(), "You can now use Maternity - Ward 2");
    let switcher = dave.browser.get("/workspaces").await;
    assert!(switcher.body.contains("Approved"));
    dave.browser
        .post(&format!("/workspaces/{ws}/switch"), &[])
        .await
        .assert_redirect_to("/");
    let home = dave.browser.get("/").await;
    assert!(home
        .body
        .contains("<h1 class=\"nhsuk-heading-xl\">Maternity - Ward 2</h1>"));
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'member_approved' AND detail = 'Dave Patel approved by Amy Okonkwo'"),
        1
    );

    // Users → Actions → Leave workspace.
    dave.browser
        .post(&format!("/workspaces/{ws}/leave"), &[])
        .await
        .assert_redirect_to("/");
    assert!(!in_switcher(&dave, &ws).await);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'member_left'"),
        1
    );
}

#[actix_web::test]
async fn someone_outside_the_organisation_cannot_see_or_join_its_workspaces() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let other = app.create_org("Riverside Practice", &["riverside.example"]);
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let eve = app
        .person(other, "eve@riverside.example", "Eve", "Mallory")
        .await;
    let ws = create_workspace(&amy, org, "Maternity - Ward 2").await;

    assert_eq!(
        eve.browser
            .get(&format!("/organisations/{org}/workspaces"))
            .await
            .status,
        404
    );
    assert_eq!(
        eve.browser
            .post(&format!("/workspaces/{ws}/join"), &[])
            .await
            .status,
        404
    );
    assert_eq!(eve.browser.get(&users_page(&ws)).await.status, 404);
    assert_eq!(
        eve.browser
            .get(&format!("/workspaces/{ws}/settings"))
            .await
            .status,
        404
    );
    assert_eq!(
        eve.browser
            .post(&format!("/workspaces/{ws}/switch"), &[])
            .await
            .status,
        404
    );
    assert_eq!(
        eve.browser
            .post(&format!("/organisations/{org}/join"), &[])
            .await
            .status,
        404
    );
    let page = format!("/organisations/{org}/workspaces");
    assert_eq!(
        eve.browser
            .post(&page, &[("name", "Eve's"), ("specialty", "501")])
            .await
            .status,
        404
    );
    assert_eq!(app.count("SELECT count(*) FROM workspace_members"), 1);
}

#[actix_web::test]
async fn a_pending_member_sees_no_actions_and_cannot_approve_anyone() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    let ws = create_workspace(&amy, org, "Maternity - Ward 2").await;
    dave.browser
        .post(&format!("/workspaces/{ws}/join"), &[])
        .await;
    kim.browser
        .post(&format!("/workspaces/{ws}/join"), &[])
        .await;

    let page = dave.browser.get(&users_page(&ws)).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("/approve"));
    assert!(!page.body.contains("Kim Lee"));
    assert!(page.body.contains("Withdraw your request"));
    assert_eq!(
        dave.browser
            .get(&format!("/workspaces/{ws}/settings"))
            .await
            .status,
        404
    );
    assert_eq!(
        dave.browser
            .get(&format!("/workspaces/{ws}/history"))
            .await
            .status,
        404
    );
    let kim_id = kim.user.id.to_string();
    for action in ["approve", "decline", "remove", "role"] {
        let response = dave
            .browser
            .post(
                &format!("/workspaces/{ws}/members/{kim_id}/{action}"),
                &[("role", "admin")],
            )
            .await;
        assert_eq!(response.status, 404, "{action}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM workspace_members WHERE status = 'pending'"),
        2
    );
}

#[actix_web::test]
async fn a_member_cannot_approve_and_an_admin_of_one_workspace_cannot_approve_in_another() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let ben = app.person(org, "ben@nhs.net", "Ben", "Adeyemi").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let ward = create_workspace(&amy, org, "Maternity - Ward 2").await;
    let theatres = create_workspace(&ben, org, "Theatres").await;
    // Ben becomes an approved member of Amy's ward.
    join_approved(&amy, &ben, &ward).await;
    dave.browser
        .post(&format!("/workspaces/{ward}/join"), &[])
        .await;

    let by_member = ben
        .browser
        .post(
            &format!("/workspaces/{ward}/members/{}/approve", dave.user.id),
            &[],
        )
        .await;
    assert_eq!(by_member.status, 404);
    assert!(!ben
        .browser
        .get(&users_page(&ward))
        .await
        .body
        .contains("/approve"));
    // Amy administers the ward, not Ben's theatres.
    dave.browser
        .post(&format!("/workspaces/{theatres}/join"), &[])
        .await;
    let across = amy
        .browser
        .post(
            &format!("/workspaces/{theatres}/members/{}/approve", dave.user.id),
            &[],
        )
        .await;
    assert_eq!(across.status, 404);
    assert_eq!(app.count("SELECT count(*) FROM workspace_members WHERE user_id = (SELECT id FROM users WHERE email = 'dave@nhs.net') AND status = 'approved'"), 0);
}

#[actix_web::test]
async fn declining_emails_the_requester_and_removes_the_pending_membership() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let ws = create_workspace(&amy, org, "Maternity - Ward 2").await;
    dave.browser
        .post(&format!("/workspaces/{ws}/join"), &[])
        .await;

    amy.browser
        .post(
            &format!("/workspaces/{ws}/members/{}/decline", dave.user.id),
            &[],
        )
        .await
        .assert_redirect_to(&users_page(&ws));

    let mail = app.smtp.wait_for("dave@nhs.net").await;
    assert_eq!(
        mail.subject(),
        "Your request to join Maternity - Ward 2 was declined"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM workspace_members WHERE status = 'pending'"),
        0
    );
    assert!(!in_switcher(&dave, &ws).await);
}

#[actix_web::test]
async fn a_duplicate_workspace_name_is_refused_with_the_typed_values_kept_but_another_organisation_may_use_it(
) {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let other = app.create_org("Homerton Healthcare", &["nhs.net"]);
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    create_workspace(&amy, org, "Maternity - Ward 2").await;

    let page = format!("/organisations/{org}/workspaces");
    let refused = amy
        .browser
        .submit(
            &page,
            &page,
            &[
                ("name", "maternity - ward 2"),
                ("specialty", "501"),
                ("description", "Night team"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("already has a workspace called"));
    assert!(refused.body.contains("value=\"maternity - ward 2\""));
    assert!(refused.body.contains("Night team"));
    assert!(refused.body.contains("<option value=\"501\" selected>"));

    amy.browser
        .post(&format!("/organisations/{other}/join"), &[])
        .await;
    let elsewhere = format!("/organisations/{other}/workspaces");
    amy.browser
        .submit(
            &elsewhere,
            &elsewhere,
            &[("name", "Maternity - Ward 2"), ("specialty", "501")],
        )
        .await
        .assert_redirect_to("/");
    assert_eq!(
        app.count("SELECT count(*) FROM workspaces WHERE name = 'Maternity - Ward 2'"),
        2
    );
}

#[actix_web::test]
async fn joining_an_example_workspace_creates_it_with_the_joiner_as_admin() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let page = amy
        .browser
        .get(&format!("/organisations/{org}/workspaces"))
        .await;
    assert!(page.body.contains("Example workspaces"));
    assert!(
        page.body.contains("name=\"specialty\" value=\"420\""),
        "Paediatrics has no workspace yet"
    );

    amy.browser
        .post(
            &format!("/organisations/{org}/examples/join"),
            &[("specialty", "420")],
        )
        .await
        .assert_redirect_to("/");

    assert_eq!(
        app.count("SELECT count(*) FROM workspaces w JOIN workspace_members m ON m.workspace_id = w.id WHERE w.name = 'Paediatrics' AND w.specialty_code = '420' AND m.role = 'admin' AND m.status = 'approved'"),
        1
    );
    let after = amy
        .browser
        .get(&format!("/organisations/{org}/workspaces"))
        .await;
    assert!(
        !after.body.contains("name=\"specialty\" value=\"420\""),
        "no longer an example"
    );
}

#[actix_web::test]
async fn the_last_admin_cannot_leave_while_others_remain_and_the_last_member_leaving_archives_the_workspace(
) {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let ws = create_workspace(&amy, org, "Maternity - Ward 2").await;
    join_approved(&amy, &dave, &ws).await;

    let refused = amy
        .browser
        .post(&format!("/workspaces/{ws}/leave"), &[])
        .await;
    assert_eq!(refused.status, 409);
    assert!(refused.body.contains("You are the only admin"));
    let demote_self = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/members/{}/role", amy.user.id),
            &[("role", "member")],
        )
        .await;
    assert_eq!(demote_self.status, 409);

    // Amy makes Dave an admin, then may leave; Dave, the last member, leaves too.
    amy.browser
        .post(
            &format!("/workspaces/{ws}/members/{}/role", dave.user.id),
            &[("role", "admin")],
        )
        .await
        .assert_redirect_to(&users_page(&ws));
    amy.browser
        .post(&format!("/workspaces/{ws}/leave"), &[])
        .await
        .assert_redirect_to("/");
    dave.browser
        .post(&format!("/workspaces/{ws}/leave"), &[])
        .await
        .assert_redirect_to("/");

    assert_eq!(
        app.count("SELECT count(*) FROM workspaces WHERE archived_at IS NOT NULL"),
        1
    );
    assert!(!in_switcher(&dave, &ws).await);
    assert!(!dave
        .browser
        .get(&format!("/organisations/{org}/workspaces"))
        .await
        .body
        .contains("<span>Maternity - Ward 2</span></td>"));
    assert_eq!(dave.browser.get(&users_page(&ws)).await.status, 404);
}

#[actix_web::test]
async fn an_admin_removes_a_member_who_is_emailed() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let ws = create_workspace(&amy, org, "Maternity - Ward 2").await;
    join_approved(&amy, &dave, &ws).await;

    amy.browser
        .post(
            &format!("/workspaces/{ws}/members/{}/remove", dave.user.id),
            &[],
        )
        .await
        .assert_redirect_to(&users_page(&ws));

    assert_eq!(
        app.smtp.wait_for_nth("dave@nhs.net", 2).await.subject(),
        "You have been removed from Maternity - Ward 2"
    );
    assert_eq!(
        dave.browser.get(&users_page(&ws)).await.status,
        404,
        "the Users page is for members only"
    );
    assert!(!in_switcher(&dave, &ws).await);
}

#[actix_web::test]
async fn two_admins_approving_and_declining_one_request_at_once_leave_one_outcome() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let ben = app.person(org, "ben@nhs.net", "Ben", "Adeyemi").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let ws = create_workspace(&amy, org, "Maternity - Ward 2").await;
    join_approved(&amy, &ben, &ws).await;
    amy.browser
        .post(
            &format!("/workspaces/{ws}/members/{}/role", ben.user.id),
            &[("role", "admin")],
        )
        .await;
    dave.browser
        .post(&format!("/workspaces/{ws}/join"), &[])
        .await;
    let (csrf_a, csrf_b) = (amy.browser.csrf().await, ben.browser.csrf().await);
    let (approve, decline) = (
        format!("/workspaces/{ws}/members/{}/approve", dave.user.id),
        format!("/workspaces/{ws}/members/{}/decline", dave.user.id),
    );

    let (form_a, form_b) = (
        [("csrf_token", csrf_a.as_str())],
        [("csrf_token", csrf_b.as_str())],
    );
    let (a, b) = tokio::join!(
        amy.browser.post_raw(&approve, &form_a),
        ben.browser.post_raw(&decline, &form_b)
    );

    let statuses = [a.status, b.status];
    assert!(
        statuses.contains(&303) && statuses.contains(&409),
        "{statuses:?}"
    );
    let approved = app.count("SELECT count(*) FROM workspace_members WHERE user_id = (SELECT id FROM users WHERE email = 'dave@nhs.net') AND status = 'approved'");
    let decided = app.count(
        "SELECT count(*) FROM audit_events WHERE action IN ('member_approved', 'request_declined') AND target_user_id = (SELECT id FROM users WHERE email = 'dave@nhs.net')",
    );
    assert_eq!(decided, 1);
    assert_eq!(approved, if a.status == 303 { 1 } else { 0 });
    assert_eq!(
        app.smtp.settled_count("dave@nhs.net").await,
        1,
        "one outcome emailed"
    );
}

#[actix_web::test]
async fn two_last_admins_leaving_or_demoting_each_other_at_once_keep_an_admin() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let ben = app.person(org, "ben@nhs.net", "Ben", "Adeyemi").await;
    let cai = app.person(org, "cai@nhs.net", "Cai", "Jones").await;
    let ws = create_workspace(&amy, org, "Maternity - Ward 2").await;
    for p in [&ben, &cai] {
        join_approved(&amy, p, &ws).await;
    }
    let admins = || {
        app.count(&format!("SELECT count(*) FROM workspace_members WHERE workspace_id = '{ws}' AND role = 'admin' AND status = 'approved'"))
    };

    // Demoting each other at once.
    amy.browser
        .post(
            &format!("/workspaces/{ws}/members/{}/role", ben.user.id),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(admins(), 2);
    let (csrf_a, csrf_b) = (amy.browser.csrf().await, ben.browser.csrf().await);
    let (demote_ben, demote_amy) = (
        format!("/workspaces/{ws}/members/{}/role", ben.user.id),
        format!("/workspaces/{ws}/members/{}/role", amy.user.id),
    );
    let form_a = [("role", "member"), ("csrf_token", csrf_a.as_str())];
    let form_b = [("role", "member"), ("csrf_token", csrf_b.as_str())];
    let _ = tokio::join!(
        amy.browser.post_raw(&demote_ben, &form_a),
        ben.browser.post_raw(&demote_amy, &form_b)
    );
    assert_eq!(admins(), 1);

    // Leaving at once (both admins again, Cai stays).
    let remaining_admin = if app.count(&format!("SELECT count(*) FROM workspace_members WHERE workspace_id = '{ws}' AND user_id = '{}' AND role = 'admin'", amy.user.id)) == 1 { &amy } else { &ben };
    let other = if std::ptr::eq(remaining_admin, &amy) {
        &ben
    } else {
        &amy
    };
    remaining_admin
        .browser
        .post(
            &format!("/workspaces/{ws}/members/{}/role", other.user.id),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(admins(), 2);
    let (csrf_a, csrf_b) = (amy.browser.csrf().await, ben.browser.csrf().await);
    let leave = format!("/workspaces/{ws}/leave");
    let (form_a, form_b) = (
        [("csrf_token", csrf_a.as_str())],
        [("csrf_token", csrf_b.as_str())],
    );
    let (a, b) = tokio::join!(
        amy.browser.post_raw(&leave, &form_a),
        ben.browser.post_raw(&leave, &form_b)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [303, 409]);
    assert_eq!(admins(), 1);
}

#[actix_web::test]
async fn an_admin_changes_the_workspace_settings_and_a_member_cannot() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let ws = create_workspace(&amy, org, "Maternity - Ward 2").await;
    join_approved(&amy, &dave, &ws).await;
    let settings = format!("/workspaces/{ws}/settings");

    let refused = amy
        .browser
        .submit(
            &settings,
            &settings,
            &[("name", " "), ("invite_policy", "admins")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("Enter a name for the workspace"));
    amy.browser
        .submit(
            &settings,
            &settings,
            &[
                ("name", "Maternity - Ward 2 nights"),
                ("description", "Night team"),
                ("invite_policy", "admins"),
            ],
        )
        .await
        .assert_redirect_to(&settings);

    assert_eq!(
        app.count("SELECT count(*) FROM workspaces WHERE name = 'Maternity - Ward 2 nights' AND invite_policy = 'admins' AND NOT guests_allowed AND description = 'Night team'"),
        1
    );
    let by_member = dave
        .browser
        .post(
            &settings,
            &[("name", "Taken over"), ("invite_policy", "members")],
        )
        .await;
    assert_eq!(by_member.status, 404);
    let summary = dave.browser.get(&settings).await;
    assert!(summary.body.contains("Admins only"));
    assert!(!summary.body.contains("name=\"invite_policy\""));
}

#[actix_web::test]
async fn the_history_shows_who_caused_each_change_and_downloads_as_csv() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let other = app.create_org("Riverside Practice", &["riverside.example"]);
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    let eve = app
        .person(other, "eve@riverside.example", "Eve", "Mallory")
        .await;
    let ws = create_workspace(&amy, org, "Maternity - Ward 2").await;
    join_approved(&amy, &dave, &ws).await;
    kim.browser
        .post(&format!("/workspaces/{ws}/join"), &[])
        .await;

    let history = dave.browser.get(&format!("/workspaces/{ws}/history")).await;
    assert_eq!(history.status, 200);
    assert!(history.body.contains("Dave Patel approved by Amy Okonkwo"));
    assert!(history.body.contains("Kim Lee asked to join"));
    let csv = dave
        .browser
        .get(&format!("/workspaces/{ws}/history.csv"))
        .await;
    assert_eq!(
        csv.headers.get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(csv.body.starts_with("time,action,detail\r\n"));
    assert!(csv
        .body
        .contains("\"Request approved\",\"Dave Patel approved by Amy Okonkwo\""));

    assert_eq!(
        kim.browser
            .get(&format!("/workspaces/{ws}/history"))
            .await
            .status,
        404,
        "pending"
    );
    assert_eq!(
        eve.browser
            .get(&format!("/workspaces/{ws}/history.csv"))
            .await
            .status,
        404,
        "another organisation"
    );
}

#[actix_web::test]
async fn member_actions_only_reach_people_in_the_workspace_and_a_guest_cannot_be_promoted() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let other = app.create_org("Riverside Practice", &["riverside.example"]);
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let stranger = app.create_named_user(org, "jane@nhs.net", "Jane", "Smith");
    let outsider = app.create_named_user(other, "olu@riverside.example", "Olu", "Bello");
    let ws = create_workspace(&amy, org, "Maternity - Ward 2").await;

    // Someone who is not in the workspace: 404, and their name is not revealed.
    let probe = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/members/{}/approve", stranger.id),
            &[],
        )
        .await;
    assert_eq!(probe.status, 409);
    assert!(!probe.body.contains("Jane Smith"));
    let nobody = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/members/{}/approve", uuid::Uuid::new_v4()),
            &[],
        )
        .await;
    assert_eq!(
        nobody.status, probe.status,
        "an id that exists answers like one that does not"
    );
    for action in ["remove", "role"] {
        let response = amy
            .browser
            .post(
                &format!("/workspaces/{ws}/members/{}/{action}", stranger.id),
                &[("role", "admin")],
            )
            .await;
        assert_eq!(response.status, 404, "{action}");
    }

    // A guest from outside the organisation stays a guest.
    app.sql(&format!(
        "INSERT INTO workspace_members (workspace_id, user_id, status, role) VALUES ('{ws}', '{}', 'approved', 'guest')",
        outsider.id
    ));
    let promote = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/members/{}/role", outsider.id),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(promote.status, 409);
    assert!(promote.body.contains("can only be a guest"));
    assert_eq!(
        app.count("SELECT count(*) FROM workspace_members WHERE role = 'guest'"),
        1
    );

    // The guest sees neither the people nor the history.
    let guest = app.new_browser();
    guest.log_in("olu@riverside.example", PASSWORD).await;
    guest.enrol().await;
    let users = guest.get(&users_page(&ws)).await;
    assert_eq!(users.status, 200);
    assert!(!users.body.contains("amy@nhs.net"));
    assert!(users.body.contains("Leave workspace"));
    assert_eq!(
        guest.get(&format!("/workspaces/{ws}/history")).await.status,
        404
    );
    assert_eq!(
        guest
            .get(&format!("/workspaces/{ws}/settings"))
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn two_creates_with_one_name_at_once_make_one_workspace_and_one_clear_refusal() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let ben = app.person(org, "ben@nhs.net", "Ben", "Adeyemi").await;
    let page = format!("/organisations/{org}/workspaces");
    let (csrf_a, csrf_b) = (
        amy.browser.get(&page).await.csrf(),
        ben.browser.get(&page).await.csrf(),
    );
    let form_a = [
        ("name", "Maternity - Ward 2"),
        ("specialty", "501"),
        ("csrf_token", csrf_a.as_str()),
    ];
    let form_b = [
        ("name", "MATERNITY - WARD 2"),
        ("specialty", "501"),
        ("csrf_token", csrf_b.as_str()),
    ];

    let (a, b) = tokio::join!(
        amy.browser.post_raw(&page, &form_a),
        ben.browser.post_raw(&page, &form_b)
    );

    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [303, 422]);
    let refused = if a.status == 422 { &a } else { &b };
    assert!(refused.body.contains("already has a workspace called"));
    assert_eq!(app.count("SELECT count(*) FROM workspaces"), 1);
}

#[actix_web::test]
async fn discover_finds_workspaces_and_examples_by_name_or_specialty_whatever_the_case() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    create_workspace(&amy, org, "Maternity - Ward 2").await;
    let page = format!("/organisations/{org}/workspaces");

    let found = amy.browser.get(&format!("{page}?q=WARD")).await;
    assert_eq!(found.status, 200);
    assert!(found
        .inner_text("workspaces")
        .contains("Maternity - Ward 2"));
    assert!(
        found.body.contains("value=\"WARD\""),
        "the search stays in its box"
    );

    let found = amy.browser.get(&format!("{page}?q=cardio")).await;
    assert!(!found.body.contains("id=\"workspaces\""));
    let examples = found.inner_text("examples");
    assert!(examples.contains("Cardiology") && examples.contains("Paediatric Cardiology"));
    assert!(!examples.contains("Dermatology"));

    let none = amy.browser.get(&format!("{page}?q=%3Cscript%3E")).await;
    assert_eq!(none.status, 200);
    let said = none.inner_text("no-matches");
    assert!(said.contains("&#60;script&#62;"), "{said}");
    assert!(!none.body.contains("<script>"));
}
