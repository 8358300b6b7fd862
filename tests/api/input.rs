//! Bad input, as an attacker types it: a NUL in each free-text field is refused beside the
//! field with what was typed shown back (and nothing stored); a NUL token in a link's path is
//! encoded into the Location, never a 500; invalid UTF-8 anywhere is a 400 that stores
//! nothing; the import's CSRF token travels in the multipart body and nowhere else.

use crate::helpers::*;
use crate::workspaces::{create_workspace, join_approved};

const CONTROL_REFUSED: &str = "must not include hidden control characters";

/// A form body exactly as these bytes (so that raw, invalid UTF-8 can be sent).
async fn post_wire(browser: &Browser, path: &str, body: Vec<u8>) -> Page {
    let response = browser
        .client
        .post(format!("{}{path}", browser.base_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    Page {
        status: response.status().as_u16(),
        location: response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string()),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// Asserts a 422 whose page has the field's error (with `words`) and shows `typed` back.
fn refused_beside(page: &Page, field: &str, words: &str, typed: &str) {
    assert_eq!(page.status, 422, "{field}: {}", page.body);
    let marker = format!("id=\"{field}-error\">");
    let at = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no error beside {field}:\n{}", page.body));
    let error = &page.body[at..];
    let error = &error[..error.find("</span></span>").unwrap_or(error.len()).min(600)];
    assert!(error.contains(words), "{field}: {error}");
    assert!(
        page.body.contains(typed),
        "{field}: what was typed ({typed:?}) is not shown back"
    );
    assert!(
        page.body.contains("There is a problem"),
        "{field}: no error summary"
    );
}

#[actix_web::test]
async fn a_nul_in_each_free_text_field_is_refused_beside_it_with_what_was_typed_shown_back() {
    // Arrange: Tara's ward with a patient; Kim, not yet in it.
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    let ws = create_workspace(&tara, org, "Ward 2").await;
    let patients = format!("/workspaces/{ws}/patients");
    tara.browser
        .post(
            &patients,
            &[
                ("nhs_number", "943 476 5919"),
                ("first_name", "Pat"),
                ("surname", "Patient"),
                ("date_of_birth", "1984-03-31"),
                ("mobile", "07700 900123"),
            ],
        )
        .await
        .assert_redirect_to(&patients);
    let patient = app.text("SELECT id FROM patients");
    let rows = |app: &TestApp| {
        app.count(
            "SELECT (SELECT count(*) FROM workspaces) + (SELECT count(*) FROM workspace_members)
                  + (SELECT count(*) FROM message_templates) + (SELECT count(*) FROM messages)
                  + (SELECT count(*) FROM outbox)",
        )
    };
    let before = rows(&app);

    // The sign-in address, signed out.
    let visitor = app.new_browser();
    let page = visitor
        .submit(
            "/login",
            "/login",
            &[("email", "kim@nhs.net\0"), ("password", PASSWORD)],
        )
        .await;
    refused_beside(&page, "email", CONTROL_REFUSED, "kim@nhs.net\0");

    // The message asking to join: the page opens that workspace's request again.
    let page = kim
        .browser
        .post(
            &format!("/workspaces/{ws}/join"),
            &[("message", "New registrar\0on Ward 2")],
        )
        .await;
    refused_beside(
        &page,
        "message",
        CONTROL_REFUSED,
        "New registrar\0on Ward 2",
    );
    assert!(page
        .body
        .contains(&format!("action=\"/workspaces/{ws}/join\"")));

    // The workspace's description.
    let page = tara
        .browser
        .post(
            &format!("/organisations/{org}/workspaces"),
            &[
                ("name", "Ward 9"),
                ("specialty", "501"),
                ("description", "The ward\0team"),
            ],
        )
        .await;
    refused_beside(&page, "description", CONTROL_REFUSED, "The ward\0team");
    assert!(page.body.contains("value=\"Ward 9\""));

    // The description in the workspace's settings, and control characters other than NUL.
    let page = tara
        .browser
        .post(
            &format!("/workspaces/{ws}/settings"),
            &[
                ("name", "Ward 2"),
                ("description", "Nurses\u{1b}[2J"),
                ("invite_policy", "admins"),
            ],
        )
        .await;
    refused_beside(&page, "description", CONTROL_REFUSED, "Nurses\u{1b}[2J");

    // A template's name and body, both at once.
    let page = tara
        .browser
        .post(
            &format!("/workspaces/{ws}/templates"),
            &[("name", "Res\0ults"), ("body", "Your results\0are in")],
        )
        .await;
    refused_beside(&page, "name", CONTROL_REFUSED, "Res\0ults");
    refused_beside(&page, "body", CONTROL_REFUSED, "Your results\0are in");

    // A message's body; its line breaks are text, the NUL is not.
    let page = tara
        .browser
        .post(
            &format!("/workspaces/{ws}/messages"),
            &[
                ("patient_id", &patient),
                ("channel", "sms"),
                ("body", "Dear Pat,\nyour results\0are back"),
            ],
        )
        .await;
    refused_beside(
        &page,
        "body",
        CONTROL_REFUSED,
        "Dear Pat,\nyour results\0are back",
    );

    // A role's name.
    let roles = format!("/organisations/{org}/admin/roles");
    let page = tara
        .browser
        .post(&roles, &[("name", "Ward\0managers")])
        .await;
    refused_beside(&page, "name", CONTROL_REFUSED, "Ward\0managers");

    assert_eq!(rows(&app), before, "nothing refused was stored");
    assert_eq!(
        app.count("SELECT count(*) FROM roles WHERE name LIKE 'Ward%'"),
        0
    );

    // The searches refuse it with a message on the page, and match nobody.
    let users = tara
        .browser
        .get(&format!("/organisations/{org}/admin/users?q=Tara%00"))
        .await;
    refused_beside(&users, "q", CONTROL_REFUSED, "Tara\0");
    assert!(users.body.contains("0 people"));
    let audit = tara
        .browser
        .get(&format!("/organisations/{org}/admin/audit?person=Tara%00"))
        .await;
    refused_beside(&audit, "person", CONTROL_REFUSED, "Tara\0");
    assert!(audit.body.contains("No events match the filter"));
    // An action the log does not know is no filter at all.
    let any = tara
        .browser
        .get(&format!("/organisations/{org}/admin/audit?action=%00"))
        .await;
    assert_eq!(any.status, 200, "{}", any.body);
    let csv = tara
        .browser
        .get(&format!("/organisations/{org}/admin/audit.csv?person=%00"))
        .await;
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv.body.lines().count(),
        1,
        "the header alone: nobody matches"
    );

    // What was refused can be sent again, corrected.
    kim.browser
        .post(
            &format!("/workspaces/{ws}/join"),
            &[("message", "New registrar\non Ward 2")],
        )
        .await
        .assert_redirect_to("/");
    assert_eq!(
        app.text("SELECT request_message FROM workspace_members WHERE user_id = (SELECT id FROM users WHERE email = 'kim@nhs.net')"),
        "New registrar\non Ward 2"
    );
}

#[actix_web::test]
async fn a_link_with_a_nul_token_answers_with_an_encoded_location_never_a_500() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let ws = create_workspace(&tara, org, "Ward 2").await;
    tara.browser
        .post(&format!("/workspaces/{ws}/link/enable"), &[])
        .await
        .assert_redirect_to(&format!("/workspaces/{ws}/settings#share-link"));
    let link = tara
        .browser
        .get(&format!("/workspaces/{ws}/settings"))
        .await;
    let link = link.element_text("share-link-href");
    let token = link.rsplit('/').next().unwrap().to_string();
    let stranger = app.new_browser();

    // Act and assert: signed out, each goes to sign in, the path encoded as one value.
    let accept = stranger.post("/invitations/%00/accept", &[]).await;
    accept.assert_redirect_to("/login?next=%2Finvitations%2F%2500");
    let join = stranger.post("/join/%00", &[]).await;
    join.assert_redirect_to("/login?next=%2Fjoin%2F%2500");
    let visit = stranger.get("/join/%00").await;
    visit.assert_redirect_to("/login?next=%2Fjoin%2F%2500");
    // A line break in the token cannot add a header.
    let split = stranger.get("/join/a%0D%0ASet-Cookie:%20x=y").await;
    split.assert_redirect_to("/login?next=%2Fjoin%2Fa%250D%250ASet-Cookie%253A%2520x%253Dy");
    assert!(split
        .headers
        .get_all("set-cookie")
        .iter()
        .all(|c| !c.to_str().unwrap().starts_with("x=")));
    // A real token is unchanged by the encoding.
    stranger
        .get(&format!("/join/{token}"))
        .await
        .assert_redirect_to(&format!("/login?next=%2Fjoin%2F{token}"));

    // The sign-in page given the encoded next keeps only a path on this site: the NUL one
    // is dropped, the real one kept.
    let login = stranger.get("/login?next=%2Fjoin%2F%2500").await;
    assert_eq!(login.status, 200);
    assert!(!login.body.contains("%00"));
    let login = stranger
        .get(&format!("/login?next=%2Fjoin%2F{token}"))
        .await;
    assert!(login.body.contains(&format!("/join/{token}")));

    // Signed in, a NUL token is a link that does not work.
    let dead = tara.browser.get("/invitations/%00").await;
    assert_eq!(dead.status, 410, "{}", dead.body);
    let dead = tara.browser.get("/join/%00").await;
    assert!(dead.status == 404 || dead.status == 410, "{}", dead.status);
    let dead = tara.browser.post("/invitations/%00/accept", &[]).await;
    assert_eq!(dead.status, 410, "{}", dead.body);
}

#[actix_web::test]
async fn invalid_utf8_in_a_form_a_query_or_a_path_answers_400_and_stores_nothing() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let create = format!("/organisations/{org}/workspaces");
    let csrf = tara.browser.csrf().await;
    let form = |name: &[u8]| {
        [
            b"name=".as_slice(),
            name,
            format!("&specialty=501&description=x&csrf_token={csrf}").as_bytes(),
        ]
        .concat()
    };

    // Percent-encoded and raw, in the body.
    for bad in [&b"Ward%FF2"[..], b"Ward%C3", b"Ward\xff\xfe2", b"%ED%A0%80"] {
        let page = post_wire(&tara.browser, &create, form(bad)).await;
        assert_eq!(page.status, 400, "{bad:?}: {}", page.body);
        assert!(page.body.contains("not UTF-8"), "{}", page.body);
    }
    assert_eq!(app.count("SELECT count(*) FROM workspaces"), 0);
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE first_name LIKE '%\u{fffd}%'"),
        0
    );

    // In a query string and in a path.
    for path in [
        format!("/organisations/{org}/admin/users?q=%FF"),
        format!("/organisations/{org}/admin/audit?person=Zo%C3"),
        "/join/%FF%FE".to_string(),
        "/login?next=/%C0%AF".to_string(),
    ] {
        let page = tara.browser.get(&path).await;
        assert_eq!(page.status, 400, "{path}: {}", page.body);
    }
    let signed_out = app.new_browser();
    let csrf = signed_out.csrf().await;
    let page = post_wire(
        &signed_out,
        "/login",
        format!("email=kim%FF%40nhs.net&password=x&csrf_token={csrf}").into_bytes(),
    )
    .await;
    assert_eq!(page.status, 400);

    // Text that is UTF-8, encoded, is text.
    let page = post_wire(&tara.browser, &create, form(b"Zo%C3%AB%27s+ward")).await;
    page.assert_redirect_to("/");
    assert_eq!(app.text("SELECT name FROM workspaces"), "Zoë's ward");

    // A form larger than any form takes is 413, read to its end so the browser sees it.
    let big = post_wire(&tara.browser, &create, form(&vec![b'x'; 1024 * 1024])).await;
    assert_eq!(big.status, 413);
    assert_eq!(app.count("SELECT count(*) FROM workspaces"), 1);
}

/// A multipart body of these parts: (name, filename, content).
fn multipart(parts: &[(&str, Option<&str>, &str)]) -> String {
    let mut body = String::new();
    for (name, filename, content) in parts {
        body.push_str(&format!(
            "--Bnd42\r\nContent-Disposition: form-data; name=\"{name}\""
        ));
        if let Some(filename) = filename {
            body.push_str(&format!(
                "; filename=\"{filename}\"\r\nContent-Type: text/csv"
            ));
        }
        body.push_str(&format!("\r\n\r\n{content}\r\n"));
    }
    body + "--Bnd42--\r\n"
}

async fn post_multipart(browser: &Browser, path: &str, body: String) -> Page {
    let response = browser
        .client
        .post(format!("{}{path}", browser.base_url))
        .header("content-type", "multipart/form-data; boundary=Bnd42")
        .body(body)
        .send()
        .await
        .unwrap();
    Page {
        status: response.status().as_u16(),
        location: None,
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

#[actix_web::test]
async fn the_import_takes_its_csrf_token_from_the_multipart_body_and_from_nowhere_else() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let import = format!("/organisations/{org}/admin/import");
    let page = tara.browser.get(&import).await;
    // The form carries its token as a field, never in its address.
    assert!(!page.body.contains("csrf_token="));
    assert!(page.body.contains(&format!("action=\"{import}\"")));
    let csrf = page.csrf();
    let csv = |email: &str| format!("first_name,surname,email\nAda,Lovelace,{email}\n");
    let imported = |app: &TestApp, email: &str| {
        app.count(&format!(
            "SELECT count(*) FROM users WHERE email = '{email}'"
        ))
    };

    // Without the token, or with it only in the query string, or another visitor's: refused
    // before the file is read, and nobody is imported.
    let file = csv("ada.one@nhs.net");
    let refused = [
        (import.clone(), multipart(&[("file", Some("r.csv"), &file)])),
        (
            format!("{import}?csrf_token={csrf}"),
            multipart(&[("file", Some("r.csv"), &file)]),
        ),
        (
            import.clone(),
            multipart(&[
                ("csrf_token", None, &app.new_browser().csrf().await),
                ("file", Some("r.csv"), &file),
            ]),
        ),
    ];
    for (path, body) in refused {
        let page = post_multipart(&tara.browser, &path, body).await;
        assert_eq!(page.status, 403, "{path}: {}", page.body);
        assert!(page.body.contains("This form has expired"));
    }
    assert_eq!(imported(&app, "ada.one@nhs.net"), 0);

    // Signed out, with a signed-out visitor's own token: refused too (no signed-out upload).
    let stranger = app.new_browser();
    let token = stranger.csrf().await;
    let page = post_multipart(
        &stranger,
        &import,
        multipart(&[("csrf_token", None, &token), ("file", Some("r.csv"), &file)]),
    )
    .await;
    assert_eq!(page.status, 403);

    // With the token in the body: imported, whether it comes before the file or after it.
    let page = post_multipart(
        &tara.browser,
        &import,
        multipart(&[
            ("csrf_token", None, &csrf),
            ("action", None, "import"),
            ("file", Some("r.csv"), &file),
        ]),
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(imported(&app, "ada.one@nhs.net"), 1);
    let file = csv("ada.two@nhs.net");
    let page = post_multipart(
        &tara.browser,
        &import,
        multipart(&[("file", Some("r.csv"), &file), ("csrf_token", None, &csrf)]),
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(imported(&app, "ada.two@nhs.net"), 1);

    // An upload cut short is refused at once (the parser would wait for its end for ever).
    let cut = multipart(&[
        ("csrf_token", None, &csrf),
        ("file", Some("r.csv"), &csv("ada.three@nhs.net")),
    ]);
    let cut = cut.trim_end_matches("--Bnd42--\r\n").to_string();
    let started = std::time::Instant::now();
    let page = post_multipart(&tara.browser, &import, cut).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(imported(&app, "ada.three@nhs.net"), 0);

    // A row with a NUL in a name is refused in the report; nobody is made of it.
    let page = post_multipart(
        &tara.browser,
        &import,
        multipart(&[
            ("csrf_token", None, &csrf),
            (
                "file",
                Some("r.csv"),
                "first_name,surname,email\nAda\u{0},L,a@nhs.net\n",
            ),
        ]),
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM users WHERE first_name LIKE 'Ada%' AND email = 'a@nhs.net'"
        ),
        0
    );
}

#[actix_web::test]
async fn a_join_request_longer_than_its_limit_is_refused_not_cut_short() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    let ws = create_workspace(&tara, org, "Ward 2").await;
    let long = "x".repeat(501);

    let page = kim
        .browser
        .post(&format!("/workspaces/{ws}/join"), &[("message", &long)])
        .await;

    refused_beside(&page, "message", "500 characters or fewer", &long);
    assert_eq!(app.count("SELECT count(*) FROM workspace_members"), 1);
    // Tara (an admin) is there; approving Kim later works as ever.
    join_approved(&tara, &kim, &ws).await;
}
