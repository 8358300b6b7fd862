//! Trust control of membership, each test written as the attack it stops: a leaver who joined
//! another organisation is suspended or removed by the trust and reaches nothing of it from the
//! next request; another organisation's administrator cannot pull an existing account in (it is
//! invited, and accepts itself) nor read its sign-ins; merging takes over nobody; the operator
//! deactivates an account everywhere from the command line.

use std::process::Command;

use staffroom::domain::{OrganisationId, UserId};

use crate::helpers::*;
use crate::workspaces::{create_workspace, join_approved};

fn admin(org: OrganisationId, rest: &str) -> String {
    format!("/organisations/{org}/admin/{rest}")
}

fn person_page(org: OrganisationId, person: UserId) -> String {
    admin(org, &format!("users/{person}"))
}

/// Adds a patient to the workspace's list as `person`; the patient's id.
async fn add_patient(app: &TestApp, person: &Person, ws: &str) -> String {
    let page = format!("/workspaces/{ws}/patients");
    person
        .browser
        .submit(
            &page,
            &page,
            &[
                ("nhs_number", "943 476 5919"),
                ("first_name", "Pat"),
                ("surname", "Patient"),
                ("date_of_birth", "1984-03-31"),
                ("mobile", "07700 900123"),
                ("email", "pat.patient@example.com"),
            ],
        )
        .await
        .assert_redirect_to(&page);
    app.text(&format!(
        "SELECT id FROM patients WHERE workspace_id = '{ws}'"
    ))
}

/// Gives `person` the organisation's built-in "Trust administrator" role.
fn make_trust_admin(app: &TestApp, org: OrganisationId, person: UserId) {
    app.sql(&format!(
        "INSERT INTO role_assignments (id, organisation_id, role_id, user_id) \
         SELECT gen_random_uuid(), '{org}', id, '{person}' FROM roles \
         WHERE organisation_id = '{org}' AND built_in"
    ));
}

/// A role with only the permissions named (`manage_users`, `manage_roles`, ...), given to
/// `person` across the organisation.
fn give_role(app: &TestApp, org: OrganisationId, person: UserId, name: &str, permissions: &[&str]) {
    let columns = permissions.join(", ");
    let values = permissions
        .iter()
        .map(|_| "true")
        .collect::<Vec<_>>()
        .join(", ");
    app.sql(&format!(
        "INSERT INTO roles (id, organisation_id, name, {columns}) \
         VALUES (gen_random_uuid(), '{org}', '{name}', {values})"
    ));
    app.sql(&format!(
        "INSERT INTO role_assignments (id, organisation_id, role_id, user_id) \
         SELECT gen_random_uuid(), '{org}', id, '{person}' FROM roles \
         WHERE organisation_id = '{org}' AND name = '{name}'"
    ));
}

/// The shareable link of `ws`, turned on by its admin.
async fn share_link(admin: &Person, ws: &str) -> String {
    admin
        .browser
        .post(
            &format!("/workspaces/{ws}/link/enable"),
            &[("approve_on_join", "yes")],
        )
        .await
        .assert_redirect_to(&format!("/workspaces/{ws}/settings#share-link"));
    let made = admin
        .browser
        .get(&format!("/workspaces/{ws}/settings"))
        .await;
    made.element_text("share-link-href")
}

/// Waits (up to 20 s) for a message to `to` with this subject (others may have come first).
async fn mail_titled(app: &TestApp, to: &str, subject: &str) -> ReceivedMail {
    for _ in 0..200 {
        if let Some(found) = app
            .smtp
            .received()
            .into_iter()
            .find(|m| m.to.iter().any(|t| t == to) && m.subject() == subject)
        {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no message \"{subject}\" to {to}");
}

/// What `person` reaches of the trust: (patients page, conversations, the organisation's
/// workspaces page, its administration) as statuses.
async fn reach(person: &Person, org: OrganisationId, ws: &str) -> [u16; 4] {
    [
        person
            .browser
            .get(&format!("/workspaces/{ws}/patients"))
            .await
            .status,
        person
            .browser
            .get(&format!("/workspaces/{ws}/conversations"))
            .await
            .status,
        person
            .browser
            .get(&format!("/organisations/{org}/workspaces"))
            .await
            .status,
        person.browser.get(&admin(org, "users")).await.status,
    ]
}

#[actix_web::test]
async fn a_leaver_who_joined_another_organisation_is_suspended_and_reaches_nothing_of_the_trust_from_the_next_request(
) {
    // Arrange: Dave, an administrator and a member of Ward 2 at the trust, joins Barts by
    // himself (every organisation admits nhs.net) before he leaves.
    let app = spawn_app().await;
    let trust = app.create_org("East London NHS Foundation Trust", &["nhs.net"]);
    let barts = app.create_org("Barts Health", &["nhs.net"]);
    let tara = app.trust_admin(trust, "tara@nhs.net").await;
    let amy = app.person(trust, "amy@nhs.net", "Amy", "Okonkwo").await;
    let dave = app.person(trust, "dave@nhs.net", "Dave", "Patel").await;
    let ws = create_workspace(&amy, trust, "Ward 2").await;
    let link = share_link(&amy, &ws).await;
    join_approved(&amy, &dave, &ws).await;
    make_trust_admin(&app, trust, dave.user.id);
    add_patient(&app, &dave, &ws).await;
    dave.browser
        .post(&format!("/organisations/{barts}/join"), &[])
        .await
        .assert_redirect_to(&format!("/organisations/{barts}/workspaces"));
    assert_eq!(reach(&dave, trust, &ws).await, [200, 200, 200, 200]);
    let details = person_page(trust, dave.user.id);

    // The account is shared now, so deactivating it is not the trust's: it is told to suspend.
    let refused = tara
        .browser
        .submit(&details, &format!("{details}/deactivate"), &[])
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("suspend or remove them here instead"));

    // Act: Tara confirms and suspends him.
    let confirm = tara.browser.get(&format!("{details}/suspend")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm
        .body
        .contains("Are you sure you want to suspend Dave Patel?"));
    tara.browser
        .submit(
            &format!("{details}/suspend"),
            &format!("{details}/suspend"),
            &[],
        )
        .await
        .assert_redirect_to(&details);

    // Assert: his very next requests reach nothing of the trust, whatever Barts says.
    assert_eq!(reach(&dave, trust, &ws).await, [404, 404, 404, 404]);
    let home = dave.browser.get("/").await;
    assert_eq!(home.status, 200, "still signed in: Barts is his");
    assert!(!home.body.contains("Ward 2"), "not in the switcher");
    assert!(!home.body.contains(">Administration<"));
    assert_eq!(
        dave.browser
            .get(&format!("/organisations/{barts}/workspaces"))
            .await
            .status,
        200
    );
    // Nor can he rejoin by himself: the Join button, the workspace, the shareable link, an
    // example workspace.
    let organisations = dave.browser.get("/organisations").await;
    assert!(!organisations
        .body
        .contains(&format!("/organisations/{trust}/join")));
    assert_eq!(
        dave.browser
            .post(&format!("/organisations/{trust}/join"), &[])
            .await
            .status,
        404
    );
    assert_eq!(
        dave.browser
            .post(&format!("/workspaces/{ws}/join"), &[])
            .await
            .status,
        404
    );
    assert_eq!(dave.browser.post(&link, &[]).await.status, 403);
    assert_eq!(
        dave.browser
            .post(
                &format!("/organisations/{trust}/examples/join"),
                &[("specialty", "100")]
            )
            .await
            .status,
        404
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM organisation_members WHERE organisation_id = '{trust}' \
             AND user_id = '{}' AND suspended_at IS NOT NULL",
            dave.user.id
        )),
        1,
        "still suspended"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM workspaces WHERE organisation_id = '{trust}'"
        )),
        1,
        "no example workspace made"
    );
    let users = tara.browser.get(&admin(trust, "users")).await;
    assert!(users.body.contains("Suspended"));

    // Act: Tara lifts it.
    tara.browser
        .submit(&details, &format!("{details}/unsuspend"), &[])
        .await
        .assert_redirect_to(&details);

    // Assert: everything is back as it was.
    assert_eq!(reach(&dave, trust, &ws).await, [200, 200, 200, 200]);
    assert!(dave.browser.get("/").await.body.contains("Ward 2"));
    for action in [
        "organisation_member_suspended",
        "organisation_member_unsuspended",
    ] {
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM audit_events WHERE action = '{action}' \
                 AND organisation_id = '{trust}' AND target_user_id = '{}' AND actor_user_id = '{}'",
                dave.user.id, tara.user.id
            )),
            1,
            "{action}"
        );
    }
    app.stop().await;
}

#[actix_web::test]
async fn removing_a_leaver_ends_their_workspaces_and_roles_tells_the_admins_keeps_the_history_and_only_an_invitation_brings_them_back(
) {
    // Arrange: Dave is a member of Ward 2 (Amy its admin) and the only admin of Ward 9 (Kim
    // a member there), holds a role, and added a patient.
    let app = spawn_app().await;
    let trust = app.nhs_org();
    let tara = app.trust_admin(trust, "tara@nhs.net").await;
    let amy = app.person(trust, "amy@nhs.net", "Amy", "Okonkwo").await;
    let dave = app.person(trust, "dave@nhs.net", "Dave", "Patel").await;
    let kim = app.person(trust, "kim@nhs.net", "Kim", "Lee").await;
    let ward9 = create_workspace(&dave, trust, "Ward 9").await;
    join_approved(&dave, &kim, &ward9).await;
    let ward2 = create_workspace(&amy, trust, "Ward 2").await;
    join_approved(&amy, &dave, &ward2).await;
    make_trust_admin(&app, trust, dave.user.id);
    let patient = add_patient(&app, &dave, &ward2).await;
    let history_before = app.count(&format!(
        "SELECT count(*) FROM audit_events WHERE target_user_id = '{}' OR actor_user_id = '{}'",
        dave.user.id, dave.user.id
    ));
    let details = person_page(trust, dave.user.id);

    // Act
    let confirm = tara.browser.get(&format!("{details}/remove")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm
        .body
        .contains("Are you sure you want to remove Dave Patel?"));
    tara.browser
        .submit(
            &format!("{details}/remove"),
            &format!("{details}/remove"),
            &[],
        )
        .await
        .assert_redirect_to(&admin(trust, "users"));

    // Assert: out of the organisation, both workspaces and every role; the history stays.
    let dave_id = dave.user.id;
    for (table, condition) in [
        (
            "organisation_members",
            format!("organisation_id = '{trust}'"),
        ),
        ("workspace_members", "true".to_string()),
        ("role_assignments", format!("organisation_id = '{trust}'")),
    ] {
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM {table} WHERE user_id = '{dave_id}' AND {condition}"
            )),
            0,
            "{table}"
        );
    }
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM patients WHERE id = '{patient}' AND created_by = '{dave_id}'"
        )),
        1,
        "the patient he added stays"
    );
    assert!(
        app.count(&format!(
            "SELECT count(*) FROM audit_events WHERE target_user_id = '{dave_id}' OR actor_user_id = '{dave_id}'"
        )) > history_before,
        "the history is kept and the removal added to it"
    );
    // Each workspace's admins are told; Ward 9 keeps an admin: Kim.
    let told = mail_titled(&app, "amy@nhs.net", "Dave Patel is no longer in Ward 2").await;
    assert!(told
        .text()
        .contains("Tara Adeyemi, an administrator of East London NHS Foundation Trust"));
    assert!(!told.text().contains("you are now its admin"));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM workspace_members WHERE workspace_id = '{ward9}' \
             AND user_id = '{}' AND role = 'admin' AND status = 'approved'",
            kim.user.id
        )),
        1
    );
    let kim_told = mail_titled(&app, "kim@nhs.net", "Dave Patel is no longer in Ward 9").await;
    assert!(kim_told.text().contains("you are now its admin"));
    // He reaches nothing, and the trust's page of him is gone.
    assert_eq!(reach(&dave, trust, &ward2).await, [404, 404, 404, 404]);
    assert_eq!(tara.browser.get(&details).await.status, 404);
    // Joining by himself is refused.
    assert!(!dave
        .browser
        .get("/organisations")
        .await
        .body
        .contains(&format!("/organisations/{trust}/join")));
    assert_eq!(
        dave.browser
            .post(&format!("/organisations/{trust}/join"), &[])
            .await
            .status,
        404
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM organisation_members WHERE user_id = '{dave_id}' AND organisation_id = '{trust}'"
        )),
        0
    );

    // Act: an administrator invites him back (Add new user with his address).
    let added = tara
        .browser
        .submit(
            &admin(trust, "users/new"),
            &admin(trust, "users/new"),
            &[
                ("first_name", "Dave"),
                ("surname", "Patel"),
                ("email", "dave@nhs.net"),
            ],
        )
        .await;
    added.assert_redirect_to(&admin(trust, "users"));
    let mail = mail_titled(
        &app,
        "dave@nhs.net",
        "Join East London NHS Foundation Trust on Staffroom",
    )
    .await;
    let link = mail.link_to("/organisation-invitations/");
    dave.browser
        .submit(&link, &format!("{link}/accept"), &[])
        .await
        .assert_redirect_to(&format!("/organisations/{trust}/workspaces"));

    // Assert: back in the organisation (not in its workspaces: those are asked for again).
    assert_eq!(
        dave.browser
            .get(&format!("/organisations/{trust}/workspaces"))
            .await
            .status,
        200
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM organisation_removals WHERE user_id = '{dave_id}'"
        )),
        0
    );
    app.stop().await;
}

#[actix_web::test]
async fn another_organisations_admin_adding_an_existing_address_only_invites_it_and_never_sees_its_sign_ins(
) {
    // Arrange: Dave belongs to the trust and has signed in; Eve administers Barts, which
    // admits nhs.net too.
    let app = spawn_app().await;
    let trust = app.create_org("East London NHS Foundation Trust", &["nhs.net"]);
    let barts = app.create_org("Barts Health", &["nhs.net"]);
    let dave = app.person(trust, "dave@nhs.net", "Dave", "Patel").await;
    let amy = app.person(trust, "amy@nhs.net", "Amy", "Okonkwo").await;
    let eve = app.trust_admin(barts, "eve@nhs.net").await;

    // Act: Eve "adds" Dave's address under any name.
    let added = eve
        .browser
        .submit(
            &admin(barts, "users/new"),
            &admin(barts, "users/new"),
            &[
                ("first_name", "Someone"),
                ("surname", "Else"),
                ("email", "DAVE@nhs.net"),
            ],
        )
        .await;

    // Assert: she gets no account, no name, no page, no sign-ins.
    added.assert_redirect_to(&admin(barts, "users"));
    let users = eve.browser.get(&admin(barts, "users")).await;
    assert!(
        users.body.contains("Invitation sent to dave@nhs.net."),
        "{}",
        users.body
    );
    assert!(!users.body.contains("Patel"));
    assert!(!users.body.contains("already has an account"));
    let not_in = format!(
        "SELECT count(*) FROM organisation_members WHERE organisation_id = '{barts}' AND user_id = '{}'",
        dave.user.id
    );
    assert_eq!(app.count(&not_in), 0);
    assert_eq!(
        eve.browser
            .get(&person_page(barts, dave.user.id))
            .await
            .status,
        404
    );
    let audit = eve.browser.get(&admin(barts, "audit")).await;
    assert!(!audit.body.contains("Patel"));
    assert!(!audit.body.contains("Password accepted</span></td>"));
    assert!(!audit.body.contains("Signed in</span></td>"));
    // The trust's own audit shows the account's sign-ins to nobody either: they happened in
    // no organisation.
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'password_accepted' AND organisation_id IS NOT NULL"),
        0
    );

    // The invitation: Dave alone can accept it, once.
    let mail = app.smtp.wait_for("dave@nhs.net").await;
    assert_eq!(mail.subject(), "Join Barts Health on Staffroom");
    let link = mail.link_to("/organisation-invitations/");
    let path = link.trim_start_matches(&app.base_url).to_string();
    let signed_out = app.new_browser().get(&path).await;
    assert_eq!(signed_out.status, 200);
    assert!(signed_out.body.contains(&format!("/login?next={path}")));
    let wrong = amy.browser.get(&path).await;
    assert!(wrong.body.contains("This invitation is for someone else"));
    assert_eq!(
        amy.browser
            .post(&format!("{path}/accept"), &[])
            .await
            .status,
        403
    );
    let page = dave.browser.get(&path).await;
    assert!(page.body.contains("Join Barts Health"));
    assert_eq!(app.count(&not_in), 0, "opening the link changes nothing");

    // Act: two accepts at once (a double click).
    let csrf = dave.browser.csrf().await;
    let accept = format!("{path}/accept");
    let fields = [("csrf_token", csrf.as_str())];
    let (first, second) = tokio::join!(
        dave.browser.post_raw(&accept, &fields),
        dave.browser.post_raw(&accept, &fields),
    );

    // Assert: one joins, the other finds the link used.
    let mut statuses = [first.status, second.status];
    statuses.sort();
    assert_eq!(statuses, [303, 410]);
    assert_eq!(app.count(&not_in), 1);
    assert_eq!(
        eve.browser
            .get(&person_page(barts, dave.user.id))
            .await
            .status,
        200,
        "a member now, by his own choice"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_events WHERE action = 'organisation_invitation_accepted' AND organisation_id = '{barts}'"
        )),
        1
    );
    app.stop().await;
}

#[actix_web::test]
async fn the_roster_import_invites_an_existing_account_instead_of_adding_it() {
    // Arrange
    let app = spawn_app().await;
    let trust = app.create_org("East London NHS Foundation Trust", &["nhs.net"]);
    let barts = app.create_org("Barts Health", &["nhs.net"]);
    let dave = app.create_named_user(trust, "dave@nhs.net", "Dave", "Patel");
    let file = std::env::temp_dir().join(format!("roster-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(
        &file,
        "first_name,surname,email,grade\nD,P,dave@nhs.net,ST3\n",
    )
    .unwrap();

    // Act
    let out = Command::new(env!("CARGO_BIN_EXE_staffroom"))
        .args([
            "import-users",
            "--org",
            &barts.to_string(),
            file.to_str().unwrap(),
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("STAFFROOM_BASE_URL", &app.base_url)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);

    // Assert
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Invited"), "{stdout}");
    assert!(!stdout.contains("Patel"), "{stdout}");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM organisation_members WHERE organisation_id = '{barts}' AND user_id = '{}'",
            dave.id
        )),
        0
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM roster_profiles WHERE organisation_id = '{barts}'"
        )),
        0,
        "nothing recorded about him until he accepts"
    );
    let mail = app.smtp.wait_for("dave@nhs.net").await;
    assert_eq!(mail.subject(), "Join Barts Health on Staffroom");
    app.stop().await;
}

#[actix_web::test]
async fn merging_takes_over_nobody_only_flagged_pairs_by_holders_of_manage_roles_never_your_own() {
    // Arrange: Tara (trust administrator) controls a second account, "Tara Two"; Vic is an
    // admin of Ward 2; Sam has a real duplicate; Una may manage users but not roles.
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let puppet = app.create_named_user(org, "tara.two@nhs.net", "Tara", "Two");
    let vic = app.person(org, "vic@nhs.net", "Vic", "Tim").await;
    let ws = create_workspace(&vic, org, "Ward 2").await;
    let sam = app.create_named_user(org, "sam.jones@nhs.net", "Sam", "Jones");
    let sam_again = app.create_named_user(org, "sam.jones@nhs.uk", "Samuel", "Jones");
    let own_duplicate = app.create_named_user(org, "tara@nhs.uk", "Tara", "Adeyemi");
    let una = app.person(org, "una@nhs.net", "Una", "Users").await;
    give_role(&app, org, una.user.id, "People desk", &["manage_users"]);
    let merge = |keep: UserId| format!("{}/merge", person_page(org, keep));

    // Act + Assert: Vic into the account Tara controls: not a likely duplicate.
    let into_puppet = tara
        .browser
        .submit(
            &person_page(org, puppet.id),
            &merge(puppet.id),
            &[("other", &format!("user:{}", vic.user.id))],
        )
        .await;
    assert_eq!(into_puppet.status, 422);
    assert!(into_puppet
        .body
        .contains("do not look like the same person"));

    // Into her own account, or her own account into its duplicate: refused.
    let into_own = tara
        .browser
        .submit(
            &person_page(org, own_duplicate.id),
            &merge(tara.user.id),
            &[("other", &format!("user:{}", own_duplicate.id))],
        )
        .await;
    assert_eq!(into_own.status, 422);
    let from_own = tara
        .browser
        .submit(
            &person_page(org, own_duplicate.id),
            &merge(own_duplicate.id),
            &[("other", &format!("user:{}", tara.user.id))],
        )
        .await;
    assert_eq!(from_own.status, 422);

    // A real duplicate, by someone who may manage users but not roles: refused, and the page
    // does not offer it.
    let page = una.browser.get(&person_page(org, sam.id)).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("/merge\""));
    let by_una = una
        .browser
        .submit(
            &person_page(org, sam.id),
            &merge(sam.id),
            &[("other", &format!("user:{}", sam_again.id))],
        )
        .await;
    assert_eq!(by_una.status, 422);
    assert!(by_una.body.contains("needs the manage roles permission"));

    // Nothing moved, nobody was deactivated.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM workspace_members WHERE workspace_id = '{ws}' AND user_id = '{}' AND role = 'admin'",
            vic.user.id
        )),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE deactivated_at IS NOT NULL"),
        0
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action LIKE 'account_merged%'"),
        0
    );
    assert_eq!(vic.browser.get("/").await.status, 200, "still signed in");

    // The same real duplicate, by Tara: merged.
    tara.browser
        .submit(
            &person_page(org, sam.id),
            &merge(sam.id),
            &[("other", &format!("user:{}", sam_again.id))],
        )
        .await
        .assert_redirect_to(&person_page(org, sam.id));
    app.stop().await;
}

#[actix_web::test]
async fn trust_control_is_for_manage_users_of_that_organisation_and_never_on_yourself() {
    // Arrange: Dave belongs to the trust and to Barts; Eve administers Barts; Rita may only
    // manage roles at the trust; Kim is a plain member.
    let app = spawn_app().await;
    let trust = app.create_org("East London NHS Foundation Trust", &["nhs.net"]);
    let barts = app.create_org("Barts Health", &["nhs.net"]);
    let tara = app.trust_admin(trust, "tara@nhs.net").await;
    let eve = app.trust_admin(barts, "eve@nhs.net").await;
    let dave = app.person(trust, "dave@nhs.net", "Dave", "Patel").await;
    dave.browser
        .post(&format!("/organisations/{barts}/join"), &[])
        .await;
    let kim = app.person(trust, "kim@nhs.net", "Kim", "Lee").await;
    let rita = app.person(trust, "rita@nhs.net", "Rita", "Roles").await;
    give_role(&app, trust, rita.user.id, "Role desk", &["manage_roles"]);
    let ws = create_workspace(&kim, trust, "Ward 2").await;
    join_approved(&kim, &dave, &ws).await;
    let target = person_page(trust, dave.user.id);

    // Act + Assert: nobody without manage users at the trust reaches the controls: 404.
    for who in [&eve, &kim, &rita] {
        for action in ["suspend", "remove"] {
            assert_eq!(
                who.browser.get(&format!("{target}/{action}")).await.status,
                404,
                "GET {action} as {}",
                who.user.email
            );
        }
        for action in ["suspend", "unsuspend", "remove"] {
            assert_eq!(
                who.browser
                    .post(&format!("{target}/{action}"), &[])
                    .await
                    .status,
                404,
                "POST {action} as {}",
                who.user.email
            );
        }
    }
    // Not on yourself.
    let own = person_page(trust, tara.user.id);
    for action in ["suspend", "remove"] {
        let refused = tara
            .browser
            .submit(&own, &format!("{own}/{action}"), &[])
            .await;
        assert_eq!(refused.status, 422, "{action}");
        assert!(refused.body.contains("not do this to your own account"));
    }
    assert_eq!(
        app.count("SELECT count(*) FROM organisation_members WHERE suspended_at IS NOT NULL"),
        0
    );
    assert_eq!(app.count("SELECT count(*) FROM organisation_removals"), 0);

    // Barts suspends Dave in Barts: the trust is not Barts' to close.
    eve.browser
        .submit(
            &person_page(barts, dave.user.id),
            &format!("{}/suspend", person_page(barts, dave.user.id)),
            &[],
        )
        .await
        .assert_redirect_to(&person_page(barts, dave.user.id));
    assert_eq!(
        dave.browser
            .get(&format!("/workspaces/{ws}/patients"))
            .await
            .status,
        200
    );
    assert_eq!(
        dave.browser
            .get(&format!("/organisations/{barts}/workspaces"))
            .await
            .status,
        404
    );
    app.stop().await;
}

fn staffroom(database_url: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_staffroom"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("STAFFROOM_BASE_URL", "http://staffroom.test")
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8(out.stderr).unwrap())
}

#[actix_web::test]
async fn the_operator_deactivates_an_account_everywhere_from_the_command_line_ending_every_session_at_once(
) {
    // Arrange: Dave belongs to two organisations and is signed in twice.
    let app = spawn_app().await;
    let trust = app.create_org("East London NHS Foundation Trust", &["nhs.net"]);
    let barts = app.create_org("Barts Health", &["nhs.net"]);
    let dave = app.person(trust, "dave@nhs.net", "Dave", "Patel").await;
    dave.browser
        .post(&format!("/organisations/{barts}/join"), &[])
        .await;
    let elsewhere = app.new_browser();
    elsewhere
        .log_in_fully(&dave.user, 1)
        .await
        .assert_redirect_to("/");
    assert_eq!(dave.browser.get("/").await.status, 200);

    // Act
    let (ok, said) = staffroom(
        &app.database_url,
        &["user", "deactivate", "--email", "DAVE@nhs.net"],
    );

    // Assert: both sessions end at once; signing in again is refused.
    assert!(ok, "{said}");
    assert!(
        said.contains("deactivated and signed out everywhere"),
        "{said}"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM sessions WHERE user_id = '{}'",
            dave.user.id
        )),
        0
    );
    assert_eq!(dave.browser.get("/").await.status, 303);
    assert_eq!(elsewhere.get("/").await.status, 303);
    assert_eq!(
        app.new_browser()
            .log_in(&dave.user.email, PASSWORD)
            .await
            .status,
        403
    );
    // Again: nothing to do, and said so. An unknown address is an error.
    let (ok, said) = staffroom(
        &app.database_url,
        &["user", "deactivate", "--email", "dave@nhs.net"],
    );
    assert!(ok && said.contains("already deactivated"), "{said}");
    let (ok, said) = staffroom(
        &app.database_url,
        &["user", "deactivate", "--email", "nobody@nhs.net"],
    );
    assert!(
        !ok && said.contains("No account has the address nobody@nhs.net"),
        "{said}"
    );

    // Act
    let (ok, said) = staffroom(
        &app.database_url,
        &["user", "reactivate", "--email", "dave@nhs.net"],
    );

    // Assert
    // (The password is accepted again; the code step was used up by the sign-in above.)
    assert!(ok, "{said}");
    app.new_browser()
        .log_in(&dave.user.email, PASSWORD)
        .await
        .assert_redirect_to("/login/two-factor");
    for action in ["account_deactivated", "account_reactivated"] {
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM audit_events WHERE action = '{action}' \
                 AND target_user_id = '{}' AND actor_user_id IS NULL AND organisation_id IS NULL",
                dave.user.id
            )),
            1,
            "{action}"
        );
    }
    app.stop().await;
}
