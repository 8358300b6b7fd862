//! Manage Users & Roles: trust administrators create accounts, give scoped roles, resend the
//! confirmation, deactivate and reset two-factor, import rostered medics, merge duplicates and
//! read the audit; nobody else reaches any of it.

use staffroom::domain::{OrganisationId, UserId};

use crate::helpers::*;

fn admin(org: OrganisationId, rest: &str) -> String {
    format!("/organisations/{org}/admin/{rest}")
}

fn user_id_by_email(app: &TestApp, email: &str) -> UserId {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    let row: Row = diesel::RunQueryDsl::get_result(
        diesel::sql_query(format!("SELECT id FROM users WHERE email = '{email}'")),
        &mut *app.conn(),
    )
    .unwrap();
    UserId(row.id)
}

/// Tara adds someone through "Add new user".
async fn add_user(
    tara: &Person,
    org: OrganisationId,
    first_name: &str,
    surname: &str,
    email: &str,
    medical_secretary: bool,
) -> Page {
    let mut fields = vec![
        ("first_name", first_name),
        ("surname", surname),
        ("email", email),
    ];
    if medical_secretary {
        fields.push(("medical_secretary", "yes"));
    }
    tara.browser
        .submit(&admin(org, "users/new"), &admin(org, "users/new"), &fields)
        .await
}

/// A multipart upload of `csv` as the field `file`, with the CSRF token in its own part of
/// the body, first, as the Import page's form sends it.
async fn upload(browser: &Browser, org: OrganisationId, csv: &str, action: &str) -> Page {
    let form = browser.get(&admin(org, "import")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let action_url = admin(org, "import");
    assert!(form.body.contains(&format!("action=\"{action_url}\"")));
    let csrf = form.csrf();
    let boundary = "XyZboundary42";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\n{action}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"roster.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let response = browser
        .client
        .post(format!("{}{action_url}", browser.base_url))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    if response.status().as_u16() == 303 {
        // A finished import redirects to its report (Post/Redirect/Get): follow it, and keep
        // where it was.
        let location = response.headers()["location"].to_str().unwrap().to_string();
        assert!(
            location.starts_with(&format!("{action_url}/reports/")),
            "{location}"
        );
        let mut report = browser.get(&location).await;
        report.location = Some(location);
        return report;
    }
    Page {
        status: response.status().as_u16(),
        location: None,
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

#[actix_web::test]
async fn a_medical_secretary_is_created_confirms_by_the_newest_link_only_and_then_signs_in() {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;

    // Act: create the account, then resend the confirmation.
    let created = add_user(&tara, org, "Mary", "Sekyere", "Mary.Sekyere@NHS.net", true).await;
    let mary = user_id_by_email(&app, "mary.sekyere@nhs.net");
    created.assert_redirect_to(&format!("{}/roles", admin(org, &format!("users/{mary}"))));
    let first = app.smtp.wait_for("mary.sekyere@nhs.net").await;
    let old_link = first.link_to("/verify/");
    let details = admin(org, &format!("users/{mary}"));
    let page = tara.browser.get(&details).await;
    assert!(page.body.contains("Awaiting confirmation"));
    assert!(page.body.contains("Resend account confirmation"));
    assert!(
        !page.body.contains("type=\"password\""),
        "an administrator never sets a password"
    );
    tara.browser
        .submit(&details, &format!("{details}/resend-confirmation"), &[])
        .await
        .assert_redirect_to(&details);
    let second = app.smtp.wait_for_nth("mary.sekyere@nhs.net", 2).await;
    let new_link = second.link_to("/verify/");

    // Assert: the old link is dead, the new one asks for a password and signs nobody in.
    assert_ne!(old_link, new_link);
    let visitor = app.new_browser();
    let dead = visitor
        .post(&old_link, &[("password", "a brand new passphrase")])
        .await;
    assert_eq!(dead.status, 410, "{}", dead.body);
    let form = visitor.get(&new_link).await;
    assert!(form.body.contains("name=\"password\""));
    visitor
        .submit(
            &new_link,
            &new_link,
            &[("password", "a brand new passphrase")],
        )
        .await
        .assert_redirect_to("/login");
    assert_eq!(
        visitor.get("/").await.status,
        303,
        "the link signs nobody in"
    );
    visitor
        .log_in("mary.sekyere@nhs.net", "a brand new passphrase")
        .await
        .assert_redirect_to("/account/two-factor/setup");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM users WHERE id = '{mary}' AND medical_secretary \
             AND NOT imported AND email_verified_at IS NOT NULL"
        )),
        1
    );
    assert!(second.text().contains("24 hours"));
    // Once confirmed there is nothing to resend.
    let refused = tara
        .browser
        .submit(&details, &format!("{details}/resend-confirmation"), &[])
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("has already confirmed"));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_events WHERE actor_user_id = '{}' \
             AND target_user_id = '{mary}' AND action IN ('account_created', 'account_confirmation_resent') \
             AND detail LIKE 'Tara Adeyemi %'",
            tara.user.id
        )),
        2
    );
}

#[actix_web::test]
async fn the_medical_secretary_flag_and_the_email_cannot_be_changed_after_creation() {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    add_user(&tara, org, "Kim", "Lee", "kim.lee@nhs.net", false).await;
    let kim = user_id_by_email(&app, "kim.lee@nhs.net");
    let details = admin(org, &format!("users/{kim}"));

    // Act
    let saved = tara
        .browser
        .submit(
            &details,
            &details,
            &[
                ("first_name", "Kimberley"),
                ("surname", "Lee"),
                ("medical_secretary", "yes"),
                ("email", "someone.else@nhs.net"),
                ("password", "an administrator's choice"),
            ],
        )
        .await;
    let empty = tara
        .browser
        .submit(
            &details,
            &details,
            &[("first_name", ""), ("surname", "Lee")],
        )
        .await;

    // Assert
    saved.assert_redirect_to(&details);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM users WHERE id = '{kim}' AND first_name = 'Kimberley' \
             AND NOT medical_secretary AND email = 'kim.lee@nhs.net' AND password_hash IS NULL"
        )),
        1
    );
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("id=\"first_name-error\""));
    let page = tara.browser.get(&details).await;
    assert!(
        !page.body.contains("name=\"medical_secretary\""),
        "read-only"
    );
    assert!(page.body.contains("id=\"medical-secretary\">No"));
}

#[actix_web::test]
async fn adding_an_address_that_has_an_account_elsewhere_invites_it_and_bad_input_is_kept() {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let other = app.create_org("Homerton Healthcare", &["nhs.net"]);
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let dave = app.create_named_user(other, "dave@nhs.net", "Dave", "Patel");

    // Act
    let invited = add_user(&tara, org, "David", "Patel", "DAVE@nhs.net", false).await;
    let told = tara.browser.get(&admin(org, "users")).await;
    let refused = add_user(&tara, org, "Gina", "Ray", "gina@gmail.com", true).await;

    // Assert: invited, not pulled in; the account is neither shown nor described.
    invited.assert_redirect_to(&admin(org, "users"));
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'dave@nhs.net'"),
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM organisation_members WHERE user_id = '{}'",
            dave.id
        )),
        1
    );
    assert!(told.body.contains("Invitation sent to dave@nhs.net."));
    assert!(!told.body.contains("already has an account"));
    assert_eq!(
        tara.browser
            .get(&admin(org, &format!("users/{}", dave.id)))
            .await
            .status,
        404
    );
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("id=\"email-error\""));
    assert!(refused.body.contains("value=\"gina@gmail.com\""));
    assert!(refused.body.contains("value=\"Gina\""));
    assert!(refused
        .body
        .contains("value=\"yes\" aria-describedby=\"medical_secretary-hint\" checked"));
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'gina@gmail.com'"),
        0
    );
}

#[actix_web::test]
async fn search_finds_people_by_first_name_surname_full_name_and_email_a_page_at_a_time() {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    app.create_named_user(org, "amy.okonkwo@nhs.net", "Amy", "Okonkwo");
    app.create_named_user(org, "kim.lee@nhs.net", "Kim", "Lee");
    for i in 0..30 {
        app.create_named_user(org, &format!("p{i}@nhs.uk"), "Pat", &format!("Smith{i:02}"));
    }
    let outsider_org = app.create_org("Riverside", &["riverside.example"]);
    app.create_named_user(outsider_org, "amy@riverside.example", "Amy", "Okonkwo");
    let search = |q: &str| admin(org, &format!("users?q={}", q.replace(' ', "+")));

    // Act
    let by_first = tara.browser.get(&search("amy")).await;
    let by_surname = tara.browser.get(&search("OKONKWO")).await;
    let by_full = tara.browser.get(&search("Amy Okonkwo")).await;
    let by_email = tara.browser.get(&search("kim.lee@")).await;
    let literal = tara.browser.get(&search("%")).await;
    let first_page = tara.browser.get(&search("Pat")).await;
    let next = next_page_link(&first_page.body);
    let second_page = tara.browser.get(&next).await;

    // Assert
    for page in [&by_first, &by_surname, &by_full] {
        assert_eq!(page.status, 200);
        assert!(page.body.contains("amy.okonkwo@nhs.net"));
        assert!(!page.body.contains("kim.lee@nhs.net"));
        assert!(
            !page.body.contains("amy@riverside.example"),
            "another organisation's"
        );
        assert!(page
            .element_text("result-count")
            .starts_with("1 person matching"));
    }
    assert!(by_email.body.contains("Kim Lee"));
    assert!(!by_email.body.contains("Amy Okonkwo"));
    assert!(literal.body.contains("0 people"));
    assert!(first_page.body.contains("30 people"));
    assert!(next.contains("after="), "{next}");
    assert!(first_page.body.contains("Smith00"));
    assert!(!first_page.body.contains("Smith29"));
    assert!(second_page.body.contains("Smith29"));
    assert!(!second_page.body.contains("Smith00"));
}

/// The Next link of a page of people (keyset: it carries the last row's key).
fn next_page_link(body: &str) -> String {
    let end = body.find("\" rel=\"next\"").expect("a Next link");
    let start = body[..end].rfind("href=\"").unwrap() + "href=\"".len();
    body[start..end].replace("&amp;", "&").replace("&#38;", "&")
}

#[actix_web::test]
async fn the_search_uses_the_trigram_indexes() {
    let app = spawn_app().await;
    #[derive(diesel::QueryableByName)]
    struct Plan {
        #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
        line: String,
    }
    let conn = &mut *app.conn();
    diesel::RunQueryDsl::execute(diesel::sql_query("SET enable_seqscan = off"), conn).unwrap();
    let plan: Vec<Plan> = diesel::RunQueryDsl::load(
        diesel::sql_query(
            "EXPLAIN SELECT id FROM users WHERE (users.first_name || ' ' || users.surname) \
             ILIKE '%okonkwo%' OR email ILIKE '%okonkwo%'",
        ),
        conn,
    )
    .unwrap();
    let plan: String = plan.into_iter().map(|p| p.line + "\n").collect();
    assert!(plan.contains("users_full_name_trgm"), "{plan}");
    assert!(plan.contains("users_email_trgm"), "{plan}");
}

#[actix_web::test]
async fn a_scoped_role_is_added_edited_and_deleted_and_grants_its_permission_in_that_workspace_only(
) {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    for name in ["Ward 2", "Ward 3"] {
        tara.browser
            .post(
                &format!("/organisations/{org}/workspaces"),
                &[("name", name), ("specialty", "501"), ("description", "")],
            )
            .await;
    }
    let ws = |name: &str| {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: uuid::Uuid,
        }
        let row: Row = diesel::RunQueryDsl::get_result(
            diesel::sql_query(format!("SELECT id FROM workspaces WHERE name = '{name}'")),
            &mut *app.conn(),
        )
        .unwrap();
        row.id.to_string()
    };
    let (ward2, ward3) = (ws("Ward 2"), ws("Ward 3"));
    let roles_page = tara.browser.get(&admin(org, "roles")).await;
    assert!(roles_page.body.contains("Trust administrator"));
    assert!(roles_page
        .body
        .contains("manage users, manage roles, import users, view audit, manage workspaces"));
    tara.browser
        .submit(
            &admin(org, "roles"),
            &admin(org, "roles"),
            &[("name", "Ward manager"), ("manage_workspaces", "yes")],
        )
        .await
        .assert_redirect_to(&admin(org, "roles"));
    let role_id = attribute_after(
        &tara
            .browser
            .get(&admin(org, &format!("users/{}/roles", kim.user.id)))
            .await
            .body,
        "<option value=\"",
    )
    .unwrap();
    let page = tara
        .browser
        .get(&admin(org, &format!("users/{}/roles", kim.user.id)))
        .await;
    let ward_manager = page
        .body
        .split("<option value=\"")
        .find(|s| s.contains(">Ward manager<"))
        .map(|s| s.split('"').next().unwrap().to_string())
        .unwrap();
    assert_ne!(role_id, ward_manager);
    let roles = admin(org, &format!("users/{}/roles", kim.user.id));

    // Act: add, scoped to Ward 2.
    tara.browser
        .submit(
            &roles,
            &roles,
            &[("role_id", &ward_manager), ("scope_workspace_id", &ward2)],
        )
        .await
        .assert_redirect_to(&roles);
    let twice = tara
        .browser
        .submit(
            &roles,
            &roles,
            &[("role_id", &ward_manager), ("scope_workspace_id", &ward2)],
        )
        .await;
    let foreign = tara
        .browser
        .submit(
            &roles,
            &roles,
            &[
                ("role_id", &ward_manager),
                ("scope_workspace_id", &uuid::Uuid::new_v4().to_string()),
            ],
        )
        .await;

    // Assert: Kim manages Ward 2, not Ward 3, and reaches no administration page.
    assert_eq!(twice.status, 422);
    assert!(twice.body.contains("already have Ward manager for Ward 2"));
    assert_eq!(foreign.status, 422);
    assert!(foreign.body.contains("id=\"scope_workspace_id-error\""));
    assert_eq!(
        kim.browser
            .get(&format!("/workspaces/{ward2}/settings/users"))
            .await
            .status,
        200
    );
    assert!(kim
        .browser
        .get(&format!("/workspaces/{ward2}/settings"))
        .await
        .body
        .contains("Save settings"));
    assert!(!kim
        .browser
        .get(&format!("/workspaces/{ward3}/settings/users"))
        .await
        .body
        .contains("Make admin"));
    assert_eq!(kim.browser.get(&admin(org, "users")).await.status, 404);
    let listed = tara.browser.get(&roles).await;
    assert!(listed.body.contains("Ward manager"));
    let assignment = listed
        .body
        .split("id=\"assignment-")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();

    // Act: edit to Ward 3 (the pencil), then delete (the bin).
    let edit = format!("{roles}/{assignment}");
    assert!(tara.browser.get(&edit).await.body.contains("Save role"));
    tara.browser
        .submit(
            &edit,
            &edit,
            &[("role_id", &ward_manager), ("scope_workspace_id", &ward3)],
        )
        .await
        .assert_redirect_to(&roles);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM role_assignments WHERE user_id = '{}' AND scope_workspace_id = '{ward3}'",
            kim.user.id
        )),
        1
    );
    tara.browser
        .submit(&roles, &format!("{edit}/delete"), &[])
        .await
        .assert_redirect_to(&roles);

    // Assert
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM role_assignments WHERE user_id = '{}'",
            kim.user.id
        )),
        0
    );
    for action in [
        "role_created",
        "role_assigned",
        "role_changed",
        "role_removed",
    ] {
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM audit_events WHERE action = '{action}' \
                 AND actor_user_id = '{}' AND detail LIKE 'Tara Adeyemi %'",
                tara.user.id
            )),
            1,
            "{action}"
        );
    }
    // Nobody changes their own roles.
    let own = admin(org, &format!("users/{}/roles", tara.user.id));
    let refused = tara
        .browser
        .post(
            &own,
            &[("role_id", &ward_manager), ("scope_workspace_id", "")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("cannot change your own roles"));
}

#[actix_web::test]
async fn every_admin_page_is_404_for_a_plain_member_and_another_organisations_administrator() {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let other = app.create_org("Riverside Practice", &["riverside.example"]);
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let eve = app.trust_admin(other, "eve@riverside.example").await;
    let assignment = uuid::Uuid::new_v4();
    let u = tara.user.id;
    let gets = [
        admin(org, "users"),
        admin(org, "users?q=tara"),
        admin(org, "users/new"),
        admin(org, &format!("users/{u}")),
        admin(org, &format!("users/{u}/roles")),
        admin(org, &format!("users/{u}/roles/{assignment}")),
        admin(org, "import"),
        admin(org, "roles"),
        admin(org, "audit"),
        admin(org, "audit.csv"),
    ];
    let posts = [
        admin(org, "users/new"),
        admin(org, &format!("users/{u}")),
        admin(org, &format!("users/{u}/roles")),
        admin(org, &format!("users/{u}/roles/{assignment}")),
        admin(org, &format!("users/{u}/roles/{assignment}/delete")),
        admin(org, &format!("users/{u}/resend-confirmation")),
        admin(org, &format!("users/{u}/deactivate")),
        admin(org, &format!("users/{u}/reactivate")),
        admin(org, &format!("users/{u}/reset-two-factor")),
        admin(org, &format!("users/{u}/merge")),
        admin(org, "roles"),
    ];

    for person in [&dave, &eve] {
        for path in &gets {
            // Act
            let page = person.browser.get(path).await;
            // Assert
            assert_eq!(page.status, 404, "GET {path} as {}", person.user.email);
        }
        for path in &posts {
            let page = person
                .browser
                .post(
                    path,
                    &[
                        ("first_name", "X"),
                        ("surname", "Y"),
                        ("email", "x.y@nhs.net"),
                        ("name", "Sneaky"),
                        ("role_id", ""),
                    ],
                )
                .await;
            assert_eq!(page.status, 404, "POST {path} as {}", person.user.email);
        }
        let csrf = person.browser.csrf().await;
        let import = person
            .browser
            .client
            .post(format!("{}{}", person.browser.base_url, admin(org, "import")))
            .header("content-type", "multipart/form-data; boundary=b")
            .body(format!("--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nfirst_name,surname,email\nX,Y,x.y@nhs.net\r\n--b--\r\n"))
            .send()
            .await
            .unwrap();
        assert_eq!(import.status().as_u16(), 404);
    }
    // Signed out: to sign in.
    let stranger = app.new_browser();
    for path in &gets {
        let page = stranger.get(path).await;
        assert_eq!(page.status, 303, "GET {path} signed out");
        assert!(page.location.unwrap().starts_with("/login"));
    }
    // Half signed in (password but no second factor): no administration either.
    let half = app.new_browser();
    half.log_in(&tara.user.email, PASSWORD)
        .await
        .assert_redirect_to("/login/two-factor");
    assert_eq!(half.get(&admin(org, "users")).await.status, 303);
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'x.y@nhs.net'"),
        0
    );
    assert_eq!(
        app.count("SELECT count(*) FROM roles WHERE name = 'Sneaky'"),
        0
    );
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE deactivated_at IS NOT NULL"),
        0
    );
    // Only administrators see the header link.
    assert!(tara
        .browser
        .get("/")
        .await
        .body
        .contains(&format!("href=\"{}\"", admin(org, "users"))));
    assert!(!dave
        .browser
        .get("/")
        .await
        .body
        .contains(">Administration<"));
}

#[actix_web::test]
async fn deactivation_ends_every_session_at_once_and_reactivation_lets_them_back() {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let details = admin(org, &format!("users/{}", dave.user.id));
    assert_eq!(dave.browser.get("/").await.status, 200);

    // Act
    tara.browser
        .submit(&details, &format!("{details}/deactivate"), &[])
        .await
        .assert_redirect_to(&details);

    // Assert
    assert_eq!(dave.browser.get("/").await.status, 303);
    let again = app.new_browser();
    assert_eq!(again.log_in(&dave.user.email, PASSWORD).await.status, 403);
    assert!(tara
        .browser
        .get(&admin(org, "users"))
        .await
        .body
        .contains("Deactivated"));
    let own = admin(org, &format!("users/{}", tara.user.id));
    let self_deactivate = tara
        .browser
        .submit(&own, &format!("{own}/deactivate"), &[])
        .await;
    assert_eq!(self_deactivate.status, 422);

    // Act
    tara.browser
        .submit(&details, &format!("{details}/reactivate"), &[])
        .await
        .assert_redirect_to(&details);

    // Assert
    again
        .log_in_fully(&dave.user, 1)
        .await
        .assert_redirect_to("/");
    for action in ["account_deactivated", "account_reactivated"] {
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM audit_events WHERE action = '{action}' AND target_user_id = '{}' \
                 AND actor_user_id = '{}'",
                dave.user.id, tara.user.id
            )),
            1
        );
    }
}

#[actix_web::test]
async fn resetting_two_factor_signs_them_out_and_the_next_sign_in_enrols_again() {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let details = admin(org, &format!("users/{}", dave.user.id));

    // Act
    tara.browser
        .submit(&details, &format!("{details}/reset-two-factor"), &[])
        .await
        .assert_redirect_to(&details);

    // Assert
    assert_eq!(dave.browser.get("/").await.status, 303);
    app.new_browser()
        .log_in(&dave.user.email, PASSWORD)
        .await
        .assert_redirect_to("/account/two-factor/setup");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM recovery_codes WHERE user_id = '{}'",
            dave.user.id
        )),
        0
    );
}

#[actix_web::test]
async fn importing_a_csv_with_a_bad_row_twice_creates_nobody_twice() {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    app.create_named_user(org, "kim.lee@nhs.net", "Kim", "Lee");
    let csv = "first_name,surname,email,grade\n\
               Ann,Bello,ann.bello@nhs.net,FY1\n\
               \"Kim\",Lee,KIM.LEE@nhs.net,ST3\n\
               Bad,Row,not-an-email,FY2\n\
               Out,Sider,out@gmail.com,\n\
               Rota,Only,,CT1\n";

    // Act: preview first, then import twice.
    let preview = upload(&tara.browser, org, csv, "preview").await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview
        .body
        .contains("Preview: nothing has been imported yet"));
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'ann.bello@nhs.net'"),
        0
    );
    let first = upload(&tara.browser, org, csv, "import").await;
    let second = upload(&tara.browser, org, csv, "import").await;

    // Assert
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        first.body.contains("2 created, 1 already there, 2 refused"),
        "{}",
        first.body
    );
    assert!(first.body.contains("not-an-email is not an email address"));
    assert!(first
        .body
        .contains("out@gmail.com is not in the organisation"));
    assert!(
        second
            .body
            .contains("0 created, 3 already there, 2 refused"),
        "{}",
        second.body
    );
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'ann.bello@nhs.net' AND imported"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'kim.lee@nhs.net' AND NOT imported"),
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM users"), 3);
    // The report is a page of its own: reloading it imports nothing, and it is the importer's.
    let report = first
        .location
        .clone()
        .expect("the import redirected to its report");
    assert_ne!(Some(report.clone()), second.location);
    let again = tara.browser.get(second.location.as_ref().unwrap()).await;
    assert_eq!(again.status, 200);
    assert!(again.body.contains("0 created, 3 already there, 2 refused"));
    assert_eq!(app.count("SELECT count(*) FROM users"), 3);
    assert_eq!(
        tara.browser.get(&report).await.status,
        404,
        "only the latest report is kept"
    );
    let other_admin = app.trust_admin(org, "theo@nhs.net").await;
    assert_eq!(
        other_admin
            .browser
            .get(second.location.as_ref().unwrap())
            .await
            .status,
        404
    );
    assert_eq!(
        app.count("SELECT count(*) FROM roster_profiles WHERE user_id IS NULL AND grade = 'CT1'"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM roster_profiles WHERE grade = 'FY1'"),
        1
    );
    let mail = app.smtp.wait_for("ann.bello@nhs.net").await;
    assert!(mail.link_to("/verify/").starts_with(&app.base_url));
    assert_eq!(app.smtp.settled_count("ann.bello@nhs.net").await, 1);
    let users = tara.browser.get(&admin(org, "users")).await;
    assert!(users.body.contains("Imported"));
    assert!(
        users.body.contains("Rota Only"),
        "the email-less profile is listed"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_events WHERE action = 'users_imported' AND actor_user_id = '{}'",
            tara.user.id
        )),
        2
    );
    // A file that is not a roster is refused beside the field.
    let wrong = upload(&tara.browser, org, "name,phone\nAnn,0123\n", "import").await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("id=\"file-error\""));
}

#[actix_web::test]
async fn the_import_users_command_runs_the_same_import_and_prints_the_report() {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let file = std::env::temp_dir().join(format!("roster-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(
        &file,
        "first_name,surname,email\nAnn,Bello,ann.bello@nhs.net\nBad,Row,nope\n",
    )
    .unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_staffroom"))
            .args([
                "import-users",
                "--org",
                &org.to_string(),
                file.to_str().unwrap(),
            ])
            .env("DATABASE_URL", &app.database_url)
            .env("STAFFROOM_BASE_URL", "http://staffroom.test")
            .output()
            .unwrap()
    };

    // Act
    let first = run();
    let second = run();

    // Assert
    let out = String::from_utf8(first.stdout).unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        out.contains("line 2: Created: Ann Bello <ann.bello@nhs.net>"),
        "{out}"
    );
    assert!(out.contains("line 3: Refused"), "{out}");
    assert!(
        out.contains("1 created, 0 already there, 1 refused"),
        "{out}"
    );
    let out = String::from_utf8(second.stdout).unwrap();
    assert!(
        out.contains("0 created, 1 already there, 1 refused"),
        "{out}"
    );
    assert_eq!(app.count("SELECT count(*) FROM users WHERE imported"), 1);
    let mail = app.smtp.wait_for("ann.bello@nhs.net").await;
    assert!(mail.text().contains("http://staffroom.test/verify/"));
    let _ = std::fs::remove_file(file);
}

#[actix_web::test]
async fn a_likely_duplicate_is_merged_into_the_kept_account_in_one_go() {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let kept = app.create_named_user(org, "sam.jones@nhs.net", "Sam", "Jones");
    let dupe = app.person(org, "sam.jones@nhs.uk", "Samuel", "Jones").await;
    dupe.browser
        .post(
            &format!("/organisations/{org}/workspaces"),
            &[
                ("name", "Ward 9"),
                ("specialty", "501"),
                ("description", ""),
            ],
        )
        .await;
    app.sql(&format!(
        "INSERT INTO role_assignments (id, organisation_id, role_id, user_id) \
         SELECT gen_random_uuid(), '{org}', id, '{}' FROM roles WHERE organisation_id = '{org}'",
        dupe.user.id
    ));
    let users = tara.browser.get(&admin(org, "users")).await;
    assert!(users.body.contains("Possible duplicate"));
    let details = admin(org, &format!("users/{}", kept.id));
    assert!(tara
        .browser
        .get(&details)
        .await
        .body
        .contains(&format!("value=\"user:{}\"", dupe.user.id)));

    // Act
    let merged = tara
        .browser
        .submit(
            &details,
            &format!("{details}/merge"),
            &[("other", &format!("user:{}", dupe.user.id))],
        )
        .await;

    // Assert
    merged.assert_redirect_to(&details);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM workspace_members WHERE user_id = '{}' AND role = 'admin' AND status = 'approved'",
            kept.id
        )),
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM role_assignments WHERE user_id = '{}'",
            kept.id
        )),
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM workspace_members WHERE user_id = '{}'",
            dupe.user.id
        )),
        0
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM users WHERE id = '{}' AND deactivated_at IS NOT NULL",
            dupe.user.id
        )),
        1
    );
    assert_eq!(dupe.browser.get("/").await.status, 303, "signed out");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_events WHERE action = 'account_merged' AND target_user_id = '{}'",
            kept.id
        )),
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_events WHERE action = 'account_merged_away' AND target_user_id = '{}'",
            dupe.user.id
        )),
        1
    );
}

#[actix_web::test]
async fn the_audit_page_lists_events_with_names_and_addresses_filters_and_downloads_as_csv() {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let other = app.create_org("Riverside Practice", &["riverside.example"]);
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let _eve = app.trust_admin(other, "eve@riverside.example").await;
    add_user(&tara, org, "Kim", "Lee", "kim.lee@nhs.net", false).await;

    // Act
    let all = tara.browser.get(&admin(org, "audit")).await;
    let filtered = tara
        .browser
        .get(&admin(org, "audit?action=account_created&person=kim"))
        .await;
    let csv = tara
        .browser
        .get(&admin(org, "audit.csv?action=account_created"))
        .await;
    let unknown = tara
        .browser
        .get(&admin(org, "audit?action=no_such_action"))
        .await;

    // Assert
    assert_eq!(all.status, 200);
    assert!(all
        .body
        .contains("Tara Adeyemi created the account for Kim Lee"));
    assert!(all.body.contains("127.0.0.1"));
    assert!(
        !all.body.contains("Password accepted</span></td>"),
        "an account's sign-ins happened in no organisation: not listed"
    );
    assert!(
        all.body
            .contains("<option value=\"account_created\">Account created</option>"),
        "the filter shows the words and keeps the code"
    );
    assert!(!all.body.contains("eve@riverside.example"));
    assert!(
        !all.body.contains("Riverside"),
        "another organisation's events are not"
    );
    assert!(filtered
        .body
        .contains("Tara Adeyemi created the account for Kim Lee"));
    assert!(!filtered.body.contains("Password accepted</span></td>"));
    assert!(filtered
        .body
        .contains("<option value=\"account_created\" selected>Account created</option>"));
    assert_eq!(
        csv.headers["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(csv
        .body
        .starts_with("time,actor,action,target,workspace,address,detail\r\n"));
    assert!(csv
        .body
        .contains("\"Tara Adeyemi\",\"Account created\",\"Kim Lee\""));
    // Kim's account, and Tara's own made on the command line (no actor).
    assert_eq!(csv.body.lines().count(), 3);
    assert_eq!(unknown.status, 200, "an unknown action is no filter");
}

#[actix_web::test]
async fn an_account_shared_with_another_organisation_is_not_deactivated_reset_or_renamed_from_one()
{
    let app = spawn_app().await;
    let org = app.nhs_org();
    let other = app.create_org("Barts Health", &["nhs.net"]);
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    app.sql(&format!(
        "INSERT INTO organisation_members (organisation_id, user_id) VALUES ('{other}', '{}')",
        dave.user.id
    ));
    let details = admin(org, &format!("users/{}", dave.user.id));
    for action in ["deactivate", "reset-two-factor"] {
        let refused = tara
            .browser
            .submit(&details, &format!("{details}/{action}"), &[])
            .await;
        assert_eq!(refused.status, 422, "{action}");
        assert!(
            refused
                .body
                .contains("also belongs to another organisation"),
            "{action}"
        );
    }
    let rename = tara
        .browser
        .submit(
            &details,
            &details,
            &[("first_name", "David"), ("surname", "Patel")],
        )
        .await;
    assert_eq!(rename.status, 422);
    assert_eq!(dave.browser.get("/").await.status, 200, "still signed in");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM users WHERE first_name = 'Dave' AND deactivated_at IS NULL"
        ),
        1
    );
    app.stop().await;
}

#[actix_web::test]
async fn each_search_result_has_a_menu_of_what_can_be_done_to_that_account() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    add_user(&tara, org, "Mary", "Sekyere", "mary.sekyere@nhs.net", false).await;
    let mary = user_id_by_email(&app, "mary.sekyere@nhs.net");
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    app.smtp.wait_for("mary.sekyere@nhs.net").await;
    let list = admin(org, "users");
    let page = tara.browser.get(&list).await;
    assert_eq!(page.status, 200);

    // Awaiting confirmation: resend it, or deactivate; active: deactivate (through its
    // confirmation page); the viewer's own row offers nothing.
    let menu = page.inner_text(&format!("actions-{mary}"));
    assert!(
        menu.contains("Resend account confirmation") && menu.contains("Deactivate"),
        "{menu}"
    );
    let menu = page.inner_text(&format!("actions-{}", kim.user.id));
    assert!(
        !menu.contains("Resend") && menu.contains("Deactivate"),
        "{menu}"
    );
    assert!(page.body.contains(&format!(
        "href=\"/organisations/{org}/admin/users/{}/deactivate\"",
        kim.user.id
    )));
    assert!(!page
        .body
        .contains(&format!("id=\"actions-{}\"", tara.user.id)));

    // The menu's resend is the contract's POST: a second confirmation goes out.
    tara.browser
        .submit(
            &list,
            &admin(org, &format!("users/{mary}/resend-confirmation")),
            &[],
        )
        .await
        .assert_redirect_to(&admin(org, &format!("users/{mary}")));
    app.smtp.wait_for_nth("mary.sekyere@nhs.net", 2).await;

    // Deactivated: Reactivate instead.
    app.sql(&format!(
        "UPDATE users SET deactivated_at = now() WHERE id = '{}'",
        kim.user.id
    ));
    let page = tara.browser.get(&list).await;
    let menu = page.inner_text(&format!("actions-{}", kim.user.id));
    assert!(
        menu.contains("Reactivate") && !menu.contains("Deactivate"),
        "{menu}"
    );

    // An account shared with another organisation is not this one's to deactivate: the menu
    // says so and points to suspending or removing instead, as the refusal would.
    let other = app.create_org("Barts Health", &["nhs.net"]);
    app.sql(&format!(
        "INSERT INTO organisation_members (organisation_id, user_id) VALUES ('{other}', '{mary}')"
    ));
    let page = tara.browser.get(&list).await;
    let menu = page.inner_text(&format!("actions-{mary}"));
    assert!(
        menu.contains("also belongs to another organisation")
            && menu.contains("Suspend or remove them")
            && !menu.contains("Deactivate"),
        "{menu}"
    );
    assert!(!page.body.contains(&format!(
        "href=\"/organisations/{org}/admin/users/{mary}/deactivate\""
    )));
    app.stop().await;
}
