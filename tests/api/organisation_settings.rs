//! The organisation settings page: a trust administrator changes the allowed email domains and
//! whether members may create workspaces; nobody else can see or change them.

use staffroom::domain::OrganisationId;

use crate::helpers::*;

fn settings(org: OrganisationId) -> String {
    format!("/organisations/{org}/settings")
}

fn domains_of(app: &TestApp, org: OrganisationId) -> Vec<String> {
    let conn = &mut *app.conn();
    staffroom::db::models::organisations::domains(conn, org).unwrap()
}

fn members_may_create(app: &TestApp, org: OrganisationId) -> bool {
    app.count(&format!(
        "SELECT count(*) FROM organisations WHERE id = '{org}' AND members_may_create_workspaces"
    )) == 1
}

#[actix_web::test]
async fn a_trust_administrator_changes_the_allowed_domains_and_who_may_create_workspaces() {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let discover = format!("/organisations/{org}/workspaces");
    let create_form = format!("method=\"post\" action=\"/organisations/{org}/workspaces\"");
    assert!(tara
        .browser
        .get(&discover)
        .await
        .body
        .contains(&format!("href=\"{}\"", settings(org))));
    assert!(!dave
        .browser
        .get(&discover)
        .await
        .body
        .contains(&format!("href=\"{}\"", settings(org))));
    let form = tara.browser.get(&settings(org)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains(">nhs.net\nnhs.uk</textarea>"));
    assert!(form.body.contains("value=\"yes\" checked"));
    assert!(dave
        .browser
        .get(&discover)
        .await
        .body
        .contains(&create_form));

    // Act
    let saved = tara
        .browser
        .submit(
            &settings(org),
            &settings(org),
            &[("domains", "nhs.net\nhomerton.nhs.uk")],
        )
        .await;

    // Assert
    saved.assert_redirect_to(&settings(org));
    assert_eq!(domains_of(&app, org), ["homerton.nhs.uk", "nhs.net"]);
    assert!(!members_may_create(&app, org));
    let page = tara.browser.get(&settings(org)).await;
    assert!(page.body.contains("Organisation settings saved."));
    assert!(page.body.contains(">homerton.nhs.uk\nnhs.net</textarea>"));
    assert!(!page.body.contains("value=\"yes\" checked"));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_events WHERE action = 'organisation_settings_changed' \
             AND actor_user_id = '{}' AND organisation_id = '{org}' \
             AND detail = 'domains: homerton.nhs.uk, nhs.net; members may create workspaces: no'",
            tara.user.id
        )),
        1
    );
    let refused = dave
        .browser
        .post(
            &discover,
            &[
                ("name", "Maternity - Ward 2"),
                ("specialty", "501"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, 404);
    assert_eq!(app.count("SELECT count(*) FROM workspaces"), 0);
    assert!(!dave
        .browser
        .get(&discover)
        .await
        .body
        .contains(&create_form));
}

#[actix_web::test]
async fn a_plain_member_and_another_organisations_administrator_get_404() {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let other = app.create_org("Riverside Practice", &["riverside.example"]);
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let eve = app.trust_admin(other, "eve@riverside.example").await;

    for person in [&dave, &eve] {
        // Act
        let form = person.browser.get(&settings(org)).await;
        let post = person
            .browser
            .post(&settings(org), &[("domains", "riverside.example")])
            .await;

        // Assert
        assert_eq!(form.status, 404, "{}", person.user.email);
        assert_eq!(post.status, 404, "{}", person.user.email);
    }
    assert_eq!(domains_of(&app, org), ["nhs.net", "nhs.uk"]);
    assert!(members_may_create(&app, org));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_events WHERE action = 'organisation_settings_changed'"
        ),
        0
    );
}

#[actix_web::test]
async fn bad_domains_are_refused_beside_the_field_with_what_was_typed_kept() {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;

    // Act
    let bad = tara
        .browser
        .submit(
            &settings(org),
            &settings(org),
            &[
                ("domains", "not a domain!!"),
                ("members_may_create_workspaces", "yes"),
            ],
        )
        .await;
    let locked_out = tara
        .browser
        .submit(
            &settings(org),
            &settings(org),
            &[("domains", "homerton.nhs.uk")],
        )
        .await;

    // Assert
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("Error: Organisation settings"));
    assert!(bad.body.contains("id=\"domains-error\""));
    assert!(bad.body.contains("is not an email domain, like nhs.net"));
    assert!(bad.body.contains(">not a domain!!</textarea>"));
    assert!(bad.body.contains("value=\"yes\" checked"));
    assert_eq!(locked_out.status, 422, "{}", locked_out.body);
    assert!(locked_out
        .body
        .contains("Keep a domain that admits your own address, tara@nhs.net"));
    assert!(locked_out.body.contains("id=\"domains-error\""));
    assert!(locked_out.body.contains(">homerton.nhs.uk</textarea>"));
    assert!(!locked_out.body.contains("value=\"yes\" checked"));
    assert_eq!(domains_of(&app, org), ["nhs.net", "nhs.uk"]);
    assert!(members_may_create(&app, org));
}

#[actix_web::test]
async fn a_post_without_the_csrf_token_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;

    // Act
    let refused = tara
        .browser
        .post_raw(&settings(org), &[("domains", "nhs.net")])
        .await;

    // Assert
    assert_eq!(refused.status, 403);
    assert_eq!(domains_of(&app, org), ["nhs.net", "nhs.uk"]);
    assert!(members_may_create(&app, org));
}
