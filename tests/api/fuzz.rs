//! The fuzz test: every POST route the app registers (read from its route table under
//! src/web, so a new route is fuzzed without anyone remembering to add it), each with a valid
//! CSRF token, given NUL and other control characters, invalid UTF-8 (percent-encoded and raw),
//! 100 KB and 1 MB fields, duplicate and missing fields, ids that are not ids in the body and in
//! the path; then the pages that read a query string, given the same. Nothing may answer 5xx,
//! every Location is a plain path, and a refused request (4xx) may not have written a row.
//! Deterministic: a fixed set of bodies per route, not random thousands.

use std::collections::BTreeMap;
use std::path::Path;

use crate::helpers::*;
use crate::workspaces::{create_workspace, join_approved};

// ---------------------------------------------------------------- the route table

/// Every POST route registered under src/web: the path literal nearest before each
/// `web::post()` (`{base}` and `{{ }}` resolved as `format!` would).
fn post_routes() -> Vec<String> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web"),
        &mut files,
    );
    let mut routes = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let base = source
            .split("let base = \"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("");
        for (at, _) in source.match_indices("web::post()") {
            let before = &source[..at];
            let end = before.rfind('"').expect("a path before web::post()");
            let start = before[..end].rfind('"').unwrap() + 1;
            let route = before[start..end]
                .replace("{base}", base)
                .replace("{{", "{")
                .replace("}}", "}");
            assert!(route.starts_with('/'), "{}: {route}", file.display());
            routes.push(route);
        }
    }
    routes.sort();
    routes.dedup();
    routes
}

fn rust_files(dir: &Path, into: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// Who posts to a route.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Who {
    /// Tara: trust administrator, and admin of the workspace.
    Admin,
    /// Pat, for what changes the poster's own account (password, sign-out).
    Own,
    /// Nobody signed in.
    SignedOut,
    /// Password accepted, authenticator code owed.
    SecondFactor,
    /// Password accepted, authenticator not yet set up.
    Enrolling,
}

/// How to post to a route: as whom, and a body that would pass (values may name ids as
/// `{placeholder}`). Routes this table does not know are still fuzzed, as the administrator,
/// with every field name the app uses.
fn spec(route: &str) -> (Who, Vec<(&'static str, &'static str)>) {
    use Who::*;
    let fields = match route {
        "/signup" => {
            return (
                SignedOut,
                vec![
                    ("first_name", "Nina"),
                    ("surname", "Novak"),
                    ("email", "nina.novak@nhs.net"),
                    ("password", "a long enough passphrase"),
                    ("invitation", ""),
                ],
            )
        }
        "/verify/{token}" => return (SignedOut, vec![("password", "a long enough passphrase")]),
        "/login" => {
            return (
                SignedOut,
                vec![
                    ("email", "kim@nhs.net"),
                    ("password", PASSWORD),
                    ("next", "/workspaces"),
                ],
            )
        }
        "/password/forgot" => return (SignedOut, vec![("email", "kim@nhs.net")]),
        "/password/reset/{token}" => {
            return (SignedOut, vec![("password", "a brand new passphrase")])
        }
        "/setup/{token}" => {
            return (
                SignedOut,
                vec![
                    ("organisation_name", "Barts Health"),
                    ("domains", "nhs.net"),
                    ("first_name", "Sam"),
                    ("surname", "Setup"),
                    ("email", "sam.setup@nhs.net"),
                    ("password", "a long enough passphrase"),
                ],
            )
        }
        "/invitations/{token}/ask" => return (SignedOut, vec![]),
        "/login/two-factor" => return (SecondFactor, vec![("code", "123456")]),
        "/account/two-factor/setup" => return (Enrolling, vec![("code", "123456")]),
        "/account/password" => {
            return (
                Own,
                vec![
                    ("current_password", PASSWORD),
                    ("password", "another long passphrase"),
                ],
            )
        }
        "/logout" => return (Own, vec![]),
        "/organisations/{org_id}/workspaces" => vec![
            ("name", "Ward 9"),
            ("specialty", "501"),
            ("description", "The ward's team"),
        ],
        "/organisations/{org_id}/examples/join" => vec![("specialty", "502")],
        "/organisations/{org_id}/settings" => vec![
            ("domains", "nhs.net\nnhs.uk"),
            ("members_may_create_workspaces", "yes"),
        ],
        "/workspaces/{id}/join" => vec![("message", "New registrar on the ward")],
        "/workspaces/{id}/members/{user_id}/{action}" => vec![("role", "member")],
        "/workspaces/{id}/settings" => vec![
            ("name", "Ward 2"),
            ("description", "Ward 2 team"),
            ("invite_policy", "admins"),
            ("guests_allowed", "yes"),
        ],
        "/workspaces/{id}/invitations" => vec![
            ("emails", "someone.else@nhs.net"),
            ("role", "member"),
            ("guest_until", ""),
        ],
        "/workspaces/{id}/link/enable" | "/workspaces/{id}/link/regenerate" => vec![
            ("expires_on", ""),
            ("max_uses", "10"),
            ("approve_on_join", "yes"),
        ],
        "/workspaces/{id}/patients" => vec![
            ("nhs_number", "9434765927"),
            ("first_name", "Pat"),
            ("surname", "Patient"),
            ("date_of_birth", "1984-03-31"),
            ("mobile", "07700 900123"),
            ("email", "pat.patient@example.com"),
            ("personal", ""),
        ],
        "/workspaces/{id}/patients/{patient_id}" => vec![
            ("nhs_number", "943 476 5919"),
            ("first_name", "Pat"),
            ("surname", "Patient"),
            ("date_of_birth", "1984-03-31"),
            ("mobile", "07700 900123"),
            ("email", "pat.patient@example.com"),
            ("personal", ""),
        ],
        "/workspaces/{id}/templates" => vec![
            ("name", "Clinic reminder"),
            ("body", "Your clinic is on Monday.\nBring your letter."),
            ("shared", "on"),
        ],
        "/workspaces/{id}/messages" => vec![
            ("patient_id", "{patient_id}"),
            ("channel", "sms"),
            ("body", "Your results are back.\nPlease ring the ward."),
            ("template_id", ""),
        ],
        "/workspaces/{id}/conversations/{conversation_id}/assign" => {
            vec![("user_id", "{user_id}")]
        }
        "/organisations/{org_id}/admin/users/new" => vec![
            ("first_name", "Mo"),
            ("surname", "Farah"),
            ("email", "mo.farah@nhs.net"),
            ("medical_secretary", "yes"),
        ],
        "/organisations/{org_id}/admin/users/{user_id}" => {
            vec![("first_name", "Kim"), ("surname", "Lee")]
        }
        "/organisations/{org_id}/admin/users/{user_id}/roles" => {
            vec![("role_id", "{role_id}"), ("scope_workspace_id", "{id}")]
        }
        "/organisations/{org_id}/admin/users/{user_id}/roles/{assignment_id}" => {
            vec![("role_id", "{role_id}"), ("scope_workspace_id", "")]
        }
        "/organisations/{org_id}/admin/users/{user_id}/merge" => {
            vec![("other", "profile:{profile_id}")]
        }
        "/organisations/{org_id}/admin/profiles/{profile_id}/invite" => vec![
            ("email", "ravi.rota@nhs.net"),
            ("workspace_id", "{id}"),
            ("role", "member"),
        ],
        "/organisations/{org_id}/admin/roles" => vec![
            ("name", "Ward managers"),
            ("manage_users", "yes"),
            ("view_audit", "yes"),
        ],
        "/organisations/{org_id}/teams" => vec![("name", "Day midwives")],
        "/organisations/{org_id}/teams/{team_id}/members" => {
            vec![("user_id", "{user_id}"), ("q", "kim")]
        }
        "/organisations/{org_id}/contacts" => vec![
            ("first_name", "Chris"),
            ("surname", "Carer"),
            ("email", "chris.carer@example.com"),
            ("mobile", "07700 900456"),
            ("then", "quietly"),
            ("workspace_id", "{id}"),
        ],
        "/organisations/{org_id}/contacts/{contact_id}/merge" => vec![("other", "{contact_id}")],
        "/workspaces/{id}/people/{contact_id}/invite" => vec![("email", "jo.contact@example.com")],
        known_without_fields if KNOWN_WITHOUT_FIELDS.contains(&known_without_fields) => vec![],
        _ => ALL_FIELDS.iter().map(|f| (*f, "x")).collect(),
    };
    (Admin, fields)
}

/// Routes that take no fields (the path says it all).
const KNOWN_WITHOUT_FIELDS: &[&str] = &[
    "/organisations/{org_id}/join",
    "/workspaces/{id}/switch",
    "/workspaces/{id}/leave",
    "/workspaces/{id}/invitations/{invitation_id}/resend",
    "/workspaces/{id}/invitations/{invitation_id}/rescind",
    "/invitations/{token}/accept",
    "/invitations/{token}/decline",
    "/account/invitations/{invitation_id}/accept",
    "/account/invitations/{invitation_id}/decline",
    "/workspaces/{id}/link/disable",
    "/join/{token}",
    "/workspaces/{id}/templates/{template_id}/delete",
    "/workspaces/{id}/conversations/{conversation_id}/done",
    "/organisations/{org_id}/admin/users/{user_id}/roles/{assignment_id}/delete",
    "/organisations/{org_id}/admin/users/{user_id}/resend-confirmation",
    "/organisations/{org_id}/admin/users/{user_id}/deactivate",
    "/organisations/{org_id}/admin/users/{user_id}/reactivate",
    "/organisations/{org_id}/admin/users/{user_id}/reset-two-factor",
    "/organisations/{org_id}/teams/{team_id}/members/{user_id}/remove",
    "/workspaces/{id}/teams/{team_id}/resend",
    "/workspaces/{id}/people/{contact_id}/resend",
];

/// Every field name the forms use, for routes the table does not know yet.
const ALL_FIELDS: &[&str] = &[
    "body",
    "channel",
    "code",
    "description",
    "email",
    "emails",
    "first_name",
    "message",
    "name",
    "other",
    "patient_id",
    "role",
    "role_id",
    "surname",
    "team_id",
    "user_id",
    "workspace_id",
];

/// Run after everything else, in this order: they end what the other routes need (the
/// invitation, the link, the template, Tara's membership, Pat's session).
const LAST: &[&str] = &[
    "/invitations/{token}/decline",
    "/workspaces/{id}/invitations/{invitation_id}/rescind",
    "/workspaces/{id}/link/disable",
    "/workspaces/{id}/templates/{template_id}/delete",
    "/workspaces/{id}/leave",
    "/logout",
];

// ---------------------------------------------------------------- the bodies

/// A form body, as bytes on the wire, with what it tries.
struct Body {
    label: String,
    bytes: Vec<u8>,
}

/// A value: text to be form-encoded, or bytes sent exactly as they are.
enum Value {
    Text(String),
    Wire(&'static [u8]),
}

fn encode(pairs: &[(&str, Value)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        out.extend(serde_urlencoded::to_string([(name, "")]).unwrap().bytes());
        match value {
            Value::Text(text) => {
                let encoded = serde_urlencoded::to_string([("", text.as_str())]).unwrap();
                out.extend(encoded.trim_start_matches('=').bytes());
            }
            Value::Wire(bytes) => out.extend_from_slice(bytes),
        }
    }
    out
}

/// What each field is given in turn, the others keeping their good values.
fn bad_values(good: &str) -> Vec<(&'static str, Value)> {
    let middle = (0..=good.len() / 2)
        .rev()
        .find(|i| good.is_char_boundary(*i))
        .unwrap_or(0);
    vec![
        (
            "a NUL",
            Value::Text(format!("{}\0{}", &good[..middle], &good[middle..])),
        ),
        (
            "control characters",
            Value::Text(format!("{good}\u{1}\u{1b}[2J\u{7f}\u{85}\u{9b}")),
        ),
        ("100 KB", Value::Text("x".repeat(100_000))),
        ("invalid UTF-8, encoded", Value::Wire(b"%FF%FEab%C3")),
        ("invalid UTF-8, raw", Value::Wire(b"ab\xff\xfe")),
        ("not an id", Value::Text("not-a-uuid".into())),
        (
            "the nil id",
            Value::Text("00000000-0000-0000-0000-000000000000".into()),
        ),
        ("empty", Value::Text(String::new())),
    ]
}

fn bodies(fields: &[(&'static str, String)], csrf: &str) -> Vec<Body> {
    let token = || ("csrf_token", Value::Text(csrf.to_string()));
    let good = |except: Option<usize>| -> Vec<(&str, Value)> {
        fields
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != except)
            .map(|(_, (name, value))| (*name, Value::Text(value.clone())))
            .collect()
    };
    let mut whole = good(None);
    whole.push(token());
    let mut out = vec![
        Body {
            label: "the good body".into(),
            bytes: encode(&whole),
        },
        Body {
            label: "every field missing".into(),
            bytes: encode(&[token()]),
        },
    ];
    let mut twice = good(None);
    twice.extend(
        fields
            .iter()
            .map(|(name, _)| (*name, Value::Text("second\0value".into()))),
    );
    twice.push(token());
    out.push(Body {
        label: "every field twice".into(),
        bytes: encode(&twice),
    });
    let first = fields.first().map_or("x", |(name, _)| *name);
    out.push(Body {
        label: format!("1 MB in {first}"),
        bytes: encode(&[(first, Value::Text("x".repeat(1024 * 1024))), token()]),
    });
    for (i, (name, good_value)) in fields.iter().enumerate() {
        for (what, bad) in bad_values(good_value) {
            let mut pairs = good(Some(i));
            pairs.insert(i.min(pairs.len()), (name, bad));
            pairs.push(token());
            out.push(Body {
                label: format!("{what} in {name}"),
                bytes: encode(&pairs),
            });
        }
    }
    out
}

/// Path parameters that name something, and what each is given instead.
const BAD_IDS: &[&str] = &[
    "not-a-uuid",
    "%00",
    "%FF%FE",
    "00000000-0000-0000-0000-000000000000",
    "a%0D%0ALocation:%20//evil.example",
];

// ---------------------------------------------------------------- the world being fuzzed

/// Everything of the main tables that a refused request must leave as it was (the audit, the
/// throttles and the sessions record attempts; the outbox's delivery columns change as the
/// worker sends, so only its rows are counted).
fn fingerprint(app: &TestApp) -> String {
    let tables = [
        "users",
        "organisations",
        "organisation_domains",
        "organisation_members",
        "workspaces",
        "workspace_members",
        "invitations",
        "invitation_links",
        "workspace_join_links",
        "patients",
        "message_templates",
        "conversations",
        "messages",
        "roles",
        "role_assignments",
        "roster_profiles",
        "teams",
        "team_members",
        "team_invitations",
        "contacts",
        "workspace_contacts",
        "one_time_tokens",
        "recovery_codes",
    ];
    let parts: Vec<String> = tables
        .iter()
        .map(|t| {
            format!(
                "(SELECT md5(coalesce(string_agg(r::text, ',' ORDER BY r::text), '')) FROM {t} r)"
            )
        })
        .chain(["(SELECT count(*)::text FROM outbox)".to_string()])
        .collect();
    app.text(&format!("concat_ws('|', {})", parts.join(", ")))
}

/// A browser in each state, and the ids that the routes' paths and bodies name.
struct World {
    org: staffroom::domain::OrganisationId,
    tara: Person,
    pat: Person,
    ids: BTreeMap<&'static str, String>,
    tokens: BTreeMap<&'static str, String>,
}

async fn world(app: &TestApp) -> World {
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    let pat = app.person(org, "pat@nhs.net", "Pat", "Own").await;
    let ws = create_workspace(&tara, org, "Ward 2").await;
    join_approved(&tara, &kim, &ws).await;
    tara.browser
        .post("/workspaces/personal/switch", &[])
        .await
        .assert_redirect_to("/");

    let invited = tara
        .browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[("emails", "new.starter@nhs.net"), ("role", "member")],
        )
        .await;
    assert_eq!(invited.status, 303, "{}", invited.body);
    let invitation = app.text("SELECT id FROM invitations WHERE email = 'new.starter@nhs.net'");
    let invitation_token = token_in(
        &app.smtp.wait_for("new.starter@nhs.net").await,
        "/invitations/",
    );

    // Post/Redirect/Get: the settings page shows the link.
    tara.browser
        .post(&format!("/workspaces/{ws}/link/enable"), &[])
        .await
        .assert_redirect_to(&format!("/workspaces/{ws}/settings#share-link"));
    let link = tara
        .browser
        .get(&format!("/workspaces/{ws}/settings"))
        .await;
    let join_token = link
        .element_text("share-link-href")
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();

    let patients = format!("/workspaces/{ws}/patients");
    tara.browser
        .submit(
            &patients,
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
    let templates = format!("/workspaces/{ws}/templates");
    tara.browser
        .post(&templates, &[("name", "Results"), ("body", "Your results")])
        .await
        .assert_redirect_to(&templates);
    let template = app.text("SELECT id FROM message_templates");
    let sent = tara
        .browser
        .post(
            &format!("/workspaces/{ws}/messages"),
            &[
                ("patient_id", &patient),
                ("channel", "sms"),
                ("body", "Hello"),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let conversation = app.text("SELECT id FROM conversations");

    let role = app.text(&format!(
        "SELECT id FROM roles WHERE organisation_id = '{org}' AND built_in"
    ));
    let kim_id = kim.user.id.to_string();
    let added = tara
        .browser
        .post(
            &format!("/organisations/{org}/admin/users/{kim_id}/roles"),
            &[("role_id", &role), ("scope_workspace_id", &ws)],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let assignment = app.text(&format!(
        "SELECT id FROM role_assignments WHERE user_id = '{kim_id}'"
    ));
    let profile = uuid::Uuid::new_v4().to_string();
    app.sql(&format!(
        "INSERT INTO roster_profiles (id, organisation_id, first_name, surname, grade, imported_at)
         VALUES ('{profile}', '{org}', 'Ravi', 'Rota', 'FY1', now())"
    ));

    // A team with Kim in it, invited into the workspace; a contact without an email address
    // on the workspace's People page.
    let teams = format!("/organisations/{org}/teams");
    tara.browser
        .post(&teams, &[("name", "Night midwives")])
        .await;
    let team = app.text("SELECT id FROM teams");
    tara.browser
        .post(
            &format!("{teams}/{team}/members"),
            &[("user_id", &kim.user.id.to_string())],
        )
        .await;
    let contacts = format!("/organisations/{org}/contacts");
    let added = tara
        .browser
        .post(
            &contacts,
            &[
                ("first_name", "Jo"),
                ("surname", "Contact"),
                ("mobile", "07700 900123"),
                ("then", "quietly"),
                ("workspace_id", &ws),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let contact = app.text("SELECT id FROM contacts");

    let new_user = format!("/organisations/{org}/admin/users/new");
    tara.browser
        .post(
            &new_user,
            &[
                ("first_name", "Vic"),
                ("surname", "Verify"),
                ("email", "vic.verify@nhs.net"),
            ],
        )
        .await;
    let verify_token = token_in(&app.smtp.wait_for("vic.verify@nhs.net").await, "/verify/");
    app.create_user(org, "rhea.reset@nhs.net");
    app.new_browser()
        .post("/password/forgot", &[("email", "rhea.reset@nhs.net")])
        .await;
    let reset_token = token_in(
        &app.smtp.wait_for("rhea.reset@nhs.net").await,
        "/password/reset/",
    );

    let ids = BTreeMap::from([
        ("org_id", org.to_string()),
        ("id", ws),
        ("user_id", kim_id),
        ("invitation_id", invitation),
        ("patient_id", patient),
        ("template_id", template),
        ("conversation_id", conversation),
        ("assignment_id", assignment),
        ("profile_id", profile),
        ("role_id", role),
        ("team_id", team),
        ("contact_id", contact),
        ("action", "role".to_string()),
    ]);
    let tokens = BTreeMap::from([
        ("/invitations/", invitation_token),
        ("/join/", join_token),
        ("/verify/", verify_token),
        ("/password/reset/", reset_token),
        ("/setup/", "no-such-setup-token".to_string()),
    ]);
    World {
        org,
        tara,
        pat,
        ids,
        tokens,
    }
}

/// The token in the one link of `mail` whose path starts with `prefix`.
fn token_in(mail: &ReceivedMail, prefix: &str) -> String {
    let link = mail.link_to(prefix);
    let after = &link[link.find(prefix).unwrap() + prefix.len()..];
    after.split(['/', '?']).next().unwrap().to_string()
}

impl World {
    /// The route's path with real ids (and the right kind of token) in place.
    fn path(&self, route: &str) -> String {
        let mut path = route.to_string();
        for (name, id) in &self.ids {
            path = path.replace(&format!("{{{name}}}"), id);
        }
        if path.contains("{token}") {
            let token = self
                .tokens
                .iter()
                .find(|(prefix, _)| route.starts_with(*prefix))
                .map_or("unknown-token", |(_, t)| t.as_str());
            path = path.replace("{token}", token);
        }
        // A parameter the world has nothing for (a route added since): any id.
        while let (Some(open), Some(close)) = (path.find('{'), path.find('}')) {
            path.replace_range(open..=close, &uuid::Uuid::new_v4().to_string());
        }
        path
    }

    /// The route's path with one parameter replaced by `bad`, one path per parameter.
    fn bad_paths(&self, route: &str, bad: &str) -> Vec<(String, String)> {
        let names: Vec<&str> = route
            .split('{')
            .skip(1)
            .filter_map(|s| s.split('}').next())
            .collect();
        names
            .iter()
            .map(|name| {
                let placeholder = format!("{{{name}}}");
                let broken = route.replacen(&placeholder, "\u{1}", 1);
                (name.to_string(), self.path(&broken).replace('\u{1}', bad))
            })
            .collect()
    }

    fn fill(&self, value: &str) -> String {
        let mut value = value.to_string();
        for (name, id) in &self.ids {
            value = value.replace(&format!("{{{name}}}"), id);
        }
        value
    }
}

// ---------------------------------------------------------------- posting

struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

async fn post_bytes(browser: &Browser, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
    let sent = browser
        .client
        .post(format!("{}{path}", browser.base_url))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await;
    // No answer at all (the connection dropped) is judged as a failure, not a panic.
    let response = match sent {
        Ok(response) => response,
        Err(e) => {
            return Answer {
                status: 0,
                location: None,
                body: format!("no answer: {e:?}"),
            }
        }
    };
    Answer {
        status: response.status().as_u16(),
        location: response
            .headers()
            .get("location")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        body: response.text().await.unwrap_or_default(),
    }
}

/// Whatever the request was, the answer was not the server's fault, its Location is a plain
/// path on this site, and a refusal wrote nothing.
struct Judge<'a> {
    app: &'a TestApp,
    before: String,
    problems: Vec<String>,
    requests: usize,
}

impl<'a> Judge<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            before: fingerprint(app),
            problems: Vec::new(),
            requests: 0,
        }
    }

    fn judge(&mut self, what: &str, answer: &Answer) {
        self.requests += 1;
        let after = fingerprint(self.app);
        if answer.status >= 500 || answer.status == 0 {
            let excerpt: String = answer.body.chars().take(300).collect();
            self.problems
                .push(format!("{what}: {} {excerpt}", answer.status));
        }
        if (400..500).contains(&answer.status) && after != self.before {
            self.problems.push(format!(
                "{what}: refused with {} but the main tables changed",
                answer.status
            ));
        }
        if let Some(location) = &answer.location {
            let plain = location.starts_with('/')
                && !location.starts_with("//")
                && location.bytes().all(|b| b.is_ascii_graphic());
            if !plain {
                self.problems
                    .push(format!("{what}: Location {location:?} is not a plain path"));
            }
        }
        // Throttles are not what this test is about: every attempt starts afresh.
        self.app.sql("DELETE FROM throttles");
        self.before = after;
    }
}

/// A browser half-way through signing in as a new account: password accepted, then (when
/// `enrolled`) the authenticator set up and signed out, and the password given again.
async fn half_signed_in(
    app: &TestApp,
    org: staffroom::domain::OrganisationId,
    email: &str,
    enrolled: bool,
) -> Browser {
    let user = app.create_named_user(org, email, "Hal", "Fway");
    let browser = app.new_browser();
    if enrolled {
        browser.log_in(&user.email, &user.password).await;
        browser.enrol().await;
        browser.log_out().await;
    }
    let page = browser.log_in(&user.email, &user.password).await;
    assert_eq!(page.status, 303, "{}", page.body);
    browser
}

#[actix_web::test]
async fn every_post_route_survives_malformed_bodies_and_paths_with_no_5xx_and_no_half_written_row()
{
    let app = spawn_app().await;
    let world = world(&app).await;
    let second_factor = half_signed_in(&app, world.org, "hal.code@nhs.net", true).await;
    let enrolling = half_signed_in(&app, world.org, "hal.enrol@nhs.net", false).await;

    let mut routes = post_routes();
    assert!(
        routes.len() >= 50,
        "the route table was not read: {routes:?}"
    );
    routes.sort_by_key(|r| LAST.iter().position(|l| l == r));

    let mut judge = Judge::new(&app);
    for route in &routes {
        let (who, fields) = spec(route);
        // Each signed-out route gets a visitor of its own (signing in makes one half signed in).
        let stranger = app.new_browser();
        let browser = match who {
            Who::Admin => &world.tara.browser,
            Who::Own => &world.pat.browser,
            Who::SignedOut => &stranger,
            Who::SecondFactor => &second_factor,
            Who::Enrolling => &enrolling,
        };
        let csrf = browser.csrf().await;
        let fields: Vec<(&'static str, String)> =
            fields.iter().map(|(n, v)| (*n, world.fill(v))).collect();
        let path = world.path(route);
        let form = "application/x-www-form-urlencoded";
        if route.ends_with("/admin/import") {
            fuzz_import(&mut judge, browser, &path, &csrf).await;
            continue;
        }
        for body in bodies(&fields, &csrf) {
            let answer = post_bytes(browser, &path, form, body.bytes).await;
            if body.label == "the good body" {
                // With --nocapture: which routes the table's good bodies reach.
                eprintln!(
                    "{route} ({who:?}): the good body answered {}",
                    answer.status
                );
            }
            judge.judge(&format!("POST {route} ({who:?}) {}", body.label), &answer);
        }
        for bad in BAD_IDS {
            for (name, bad_path) in world.bad_paths(route, bad) {
                let mut pairs: Vec<(&str, Value)> = fields
                    .iter()
                    .map(|(n, v)| (*n, Value::Text(v.clone())))
                    .collect();
                pairs.push(("csrf_token", Value::Text(csrf.clone())));
                let answer = post_bytes(browser, &bad_path, form, encode(&pairs)).await;
                judge.judge(&format!("POST {route} ({who:?}) {name}={bad}"), &answer);
            }
        }
        if who == Who::Admin {
            // The same route signed out, with a signed-out visitor's own token.
            let csrf = stranger.csrf().await;
            for body in bodies(&fields, &csrf).into_iter().take(3) {
                let answer = post_bytes(&stranger, &path, form, body.bytes).await;
                judge.judge(
                    &format!("POST {route} (signed out) {}", body.label),
                    &answer,
                );
            }
            for bad in BAD_IDS {
                for (name, bad_path) in world.bad_paths(route, bad) {
                    let body = encode(&[("csrf_token", Value::Text(csrf.clone()))]);
                    let answer = post_bytes(&stranger, &bad_path, form, body).await;
                    judge.judge(&format!("POST {route} (signed out) {name}={bad}"), &answer);
                }
            }
        }
    }

    fuzz_query_strings(&mut judge, &world).await;

    assert!(judge.requests > 1000, "only {} requests", judge.requests);
    judge.problems.extend(stored_control_characters(&app));
    assert!(
        judge.problems.is_empty(),
        "{} of {} requests went wrong:\n{}",
        judge.problems.len(),
        judge.requests,
        judge.problems.join("\n")
    );
    // The administrator was signed in throughout (nothing above signed her out).
    assert_eq!(world.tara.browser.get("/workspaces").await.status, 200);
}

/// Text columns holding a control character (other than a line break or tab) or U+FFFD, the
/// mark of invalid UTF-8 decoded lossily: none of it may have been stored.
fn stored_control_characters(app: &TestApp) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Column {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        column_name: String,
    }
    let columns: Vec<Column> = diesel::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
              WHERE table_schema = 'public' AND data_type = 'text'
                AND table_name NOT IN ('sessions', 'throttles', '__diesel_schema_migrations')",
        ),
        &mut *app.conn(),
    )
    .unwrap();
    columns
        .iter()
        .filter_map(|c| {
            let (table, column) = (&c.table_name, &c.column_name);
            let found = app.count(&format!(
                "SELECT count(*) FROM {table} WHERE {column} ~ '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\ufffd]'"
            ));
            (found > 0).then(|| {
                let example = app.text(&format!(
                    "SELECT {column} FROM {table} WHERE {column} ~ '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\ufffd]' LIMIT 1"
                ));
                let example: String = example.chars().take(120).collect();
                format!("{found} rows of {table}.{column} hold control characters or U+FFFD, like {example:?}")
            })
        })
        .collect()
}

/// The import form is multipart: its token travels as a part of the body.
async fn fuzz_import(judge: &mut Judge<'_>, browser: &Browser, path: &str, csrf: &str) {
    let boundary = "FuzzBoundary7";
    let part = |name: &str, filename: Option<&str>, content: &[u8]| -> Vec<u8> {
        let mut out =
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").into_bytes();
        if let Some(filename) = filename {
            out.extend(format!("; filename=\"{filename}\"\r\nContent-Type: text/csv").bytes());
        }
        out.extend(b"\r\n\r\n");
        out.extend_from_slice(content);
        out.extend(b"\r\n");
        out
    };
    let header = b"first_name,surname,email,grade\n".to_vec();
    let csv = |rows: &[u8]| [header.clone(), rows.to_vec()].concat();
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            "a good file",
            csv(b"Ada,Lovelace,ada.lovelace@nhs.net,FY1\n"),
        ),
        (
            "a NUL in a row",
            csv(b"Ada\0,Love\0lace,ada\0@nhs.net,FY1\n"),
        ),
        (
            "control characters",
            csv(b"Ada\x1b[2J,Lovelace\x7f,ada.l@nhs.net,\x01\n"),
        ),
        (
            "invalid UTF-8",
            csv(b"Ada\xff,Lovelace,ada.x@nhs.net,FY1\n"),
        ),
        (
            "a 100 KB name",
            csv(format!("{},L,ada.y@nhs.net,FY1\n", "x".repeat(100_000)).as_bytes()),
        ),
        ("1 MB of one line", vec![b'x'; 1024 * 1024]),
        ("2.5 MB", vec![b'a'; 5 * 512 * 1024]),
        ("4 MB", vec![b'a'; 4 * 1024 * 1024]),
        ("a header only", header.clone()),
        ("no header", b"Ada,Lovelace,ada.z@nhs.net\n".to_vec()),
        (
            "quotes left open",
            csv(b"\"Ada,Lovelace,ada.q@nhs.net,FY1\n"),
        ),
        (
            "too many columns",
            csv(b"Ada,Lovelace,ada.c@nhs.net,FY1,extra,more\n"),
        ),
    ];
    let token = part("csrf_token", None, csrf.as_bytes());
    let end = format!("--{boundary}--\r\n").into_bytes();
    let content_type = format!("multipart/form-data; boundary={boundary}");
    for (what, file) in &files {
        for action in ["preview", "import"] {
            let body = [
                token.clone(),
                part("action", None, action.as_bytes()),
                part("file", Some("roster.csv"), file),
                end.clone(),
            ]
            .concat();
            let answer = post_bytes(browser, path, &content_type, body).await;
            judge.judge(&format!("POST import {action}: {what}"), &answer);
        }
    }
    let others: Vec<(&str, Vec<u8>)> = vec![
        ("no file", [token.clone(), end.clone()].concat()),
        (
            "no token",
            [part("file", Some("r.csv"), &files[0].1), end.clone()].concat(),
        ),
        (
            "two files",
            [
                token.clone(),
                part("file", Some("a.csv"), &files[0].1),
                part("file", Some("b.csv"), &files[1].1),
                end.clone(),
            ]
            .concat(),
        ),
        (
            "two tokens, one wrong",
            [
                part("csrf_token", None, b"wrong"),
                token.clone(),
                part("file", Some("r.csv"), &files[0].1),
                end.clone(),
            ]
            .concat(),
        ),
        (
            "a NUL in the part's name and file name",
            [
                token.clone(),
                part("fi\0le", Some("r\0.csv"), &files[0].1),
                end.clone(),
            ]
            .concat(),
        ),
        (
            "a body that is not multipart",
            b"csrf_token=x&file=y".to_vec(),
        ),
        (
            "no closing boundary",
            [token.clone(), part("file", Some("r.csv"), &files[0].1)].concat(),
        ),
        (
            "the previewed text",
            [
                token.clone(),
                part("csv", None, &files[0].1),
                part("action", None, b"import"),
                end.clone(),
            ]
            .concat(),
        ),
    ];
    for (what, body) in others {
        let answer = post_bytes(browser, path, &content_type, body).await;
        judge.judge(&format!("POST import: {what}"), &answer);
    }
}

/// The pages that read a query string, given the same treatment.
async fn fuzz_query_strings(judge: &mut Judge<'_>, world: &World) {
    let org = &world.ids["org_id"];
    let ws = &world.ids["id"];
    let pages = [
        (
            format!("/organisations/{org}/admin/users"),
            vec!["q", "page"],
        ),
        (
            format!("/organisations/{org}/admin/audit"),
            vec!["person", "action", "page"],
        ),
        (
            format!("/organisations/{org}/admin/audit.csv"),
            vec!["person", "action"],
        ),
        (
            format!("/workspaces/{ws}/conversations"),
            vec!["assigned", "status", "before"],
        ),
        (format!("/workspaces/{ws}/messages/new"), vec!["patient_id"]),
        ("/login".to_string(), vec!["next"]),
        ("/signup".to_string(), vec!["invitation"]),
    ];
    let values: &[(&str, &str)] = &[
        ("a NUL", "a%00b"),
        ("control characters", "a%01%1B%7F%C2%85"),
        ("invalid UTF-8", "%FF%FEab"),
        ("4 KB", &"x".repeat(4000)),
        ("not an id", "not-a-uuid"),
        ("a huge number", "99999999999999999999999"),
        ("a negative number", "-1"),
        ("a duplicate", "a&q=b&person=c&page=2"),
        ("an encoded line break", "a%0D%0ASet-Cookie:%20x=y"),
    ];
    for (page, names) in &pages {
        for name in names {
            for (what, value) in values {
                let path = format!("{page}?{name}={value}");
                let response = world
                    .tara
                    .browser
                    .client
                    .get(format!("{}{path}", world.tara.browser.base_url))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("GET {path}: {e}"));
                let answer = Answer {
                    status: response.status().as_u16(),
                    location: response
                        .headers()
                        .get("location")
                        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
                    body: response.text().await.unwrap_or_default(),
                };
                judge.judge(&format!("GET {page} {name}: {what}"), &answer);
            }
        }
    }
}
