//! Request logs, read from the real binary's stderr: one line per request with its route pattern,
//! status and request id, in text and in JSON, and never a token from a path or a query string,
//! nor any personal data (addresses, mobile and NHS numbers, names) from what the server did.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::helpers::*;

/// `staffroom serve` on a fresh database, its stderr kept line by line; killed on drop.
struct Server {
    child: Child,
    base_url: String,
    /// The one-time setup link the server prints on stdout: a real token to send back.
    setup_link: String,
    stderr: Arc<Mutex<Vec<String>>>,
    database_url: String,
}

impl Server {
    fn start(log_format: &str) -> Self {
        Self::start_with(log_format, None)
    }

    /// With `smtp_port`, mail goes over SMTP to that port (the outbox worker's real path).
    fn start_with(log_format: &str, smtp_port: Option<u16>) -> Self {
        let database_url = fresh_database();
        let mut command = Command::new(env!("CARGO_BIN_EXE_staffroom"));
        if let Some(port) = smtp_port {
            command.env("SMTP_URL", format!("smtp://127.0.0.1:{port}"));
        } else {
            command.env_remove("SMTP_URL");
        }
        let mut child = command
            .arg("serve")
            .env("DATABASE_URL", &database_url)
            .env("STAFFROOM_BIND", "127.0.0.1:0")
            .env("STAFFROOM_SECRET_KEY", hex::encode([9u8; 64]))
            .env("STAFFROOM_LOG_FORMAT", log_format)
            .env_remove("STAFFROOM_BASE_URL")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = stderr.clone();
        let pipe = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in pipe.lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let mut server = Self {
            child,
            base_url: String::new(),
            setup_link: String::new(),
            stderr,
            database_url,
        };
        server.base_url = server
            .wait_for_line(|l| {
                l.strip_prefix("Staffroom is running at ")
                    .map(str::to_string)
            })
            .expect("the server says where it runs");
        let mut stdout = BufReader::new(server.child.stdout.take().unwrap());
        stdout.read_line(&mut server.setup_link).unwrap();
        server.setup_link = server.setup_link.trim().to_string();
        assert!(
            server.setup_link.contains("/setup/"),
            "{}",
            server.setup_link
        );
        server
    }

    fn lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (up to 60 s) for a stderr line that `find` picks something from.
    fn wait_for_line<T>(&self, find: impl Fn(&str) -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(found) = self.lines().iter().find_map(|l| find(l)) {
                return Some(found);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The request line carrying this request id (the `x-request-id` the response had).
    fn request_line(&self, request_id: &str) -> String {
        self.wait_for_line(|l| {
            (l.contains(request_id) && l.contains("status")).then(|| l.to_string())
        })
        .unwrap_or_else(|| {
            panic!(
                "no request line for {request_id} in:\n{}",
                self.lines().join("\n")
            )
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A random token as the app makes them: 32 bytes, base64url, 43 characters.
fn token() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

struct Sent {
    route: &'static str,
    method: &'static str,
    status: u16,
    request_id: String,
}

/// Requests whose paths (and one query string) carry tokens; returns what each should be
/// logged as, and every token sent.
async fn send_requests_with_tokens(server: &Server) -> (Vec<Sent>, Vec<String>) {
    let browser = Browser::new(&server.base_url);
    let mut sent = Vec::new();
    let mut tokens = Vec::new();
    let setup_token = server.setup_link.rsplit('/').next().unwrap().to_string();
    let (invitation, verify, join, reset, unmatched, in_query) =
        (token(), token(), token(), token(), token(), token());
    let requests = [
        ("GET", format!("/setup/{setup_token}"), "/setup/{token}"),
        (
            "GET",
            format!("/invitations/{invitation}"),
            "/invitations/{token}",
        ),
        ("POST", format!("/verify/{verify}"), "/verify/{token}"),
        ("GET", format!("/join/{join}"), "/join/{token}"),
        (
            "GET",
            format!("/password/reset/{reset}"),
            "/password/reset/{token}",
        ),
        (
            "GET",
            format!("/invitations/{unmatched}/nowhere?next=/join/{in_query}"),
            "/invitations/{redacted}/nowhere",
        ),
    ];
    for (method, path, route) in requests {
        let url = format!("{}{path}", server.base_url);
        let response = match method {
            "GET" => browser.client.get(url),
            _ => browser.client.post(url).form(&[("password", "x")]),
        }
        .send()
        .await
        .unwrap();
        let request_id = response
            .headers()
            .get("x-request-id")
            .expect("every response carries its request id")
            .to_str()
            .unwrap()
            .to_string();
        sent.push(Sent {
            route,
            method,
            status: response.status().as_u16(),
            request_id,
        });
    }
    tokens.extend([
        setup_token,
        invitation,
        verify,
        join,
        reset,
        unmatched,
        in_query,
    ]);
    (sent, tokens)
}

fn assert_no_token_in(lines: &[String], tokens: &[String]) {
    for token in tokens {
        for line in lines {
            assert!(
                !line.contains(token.as_str()),
                "the token {token} is in the log:\n{line}"
            );
        }
    }
}

#[actix_web::test]
async fn json_logs_have_one_line_per_request_with_its_route_pattern_and_no_token() {
    let server = Server::start("json");
    let (sent, tokens) = send_requests_with_tokens(&server).await;

    for request in &sent {
        let line = server.request_line(&request.request_id);
        let json: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the request line is not JSON ({e}):\n{line}"));
        assert_eq!(json["message"], "request", "{line}");
        assert_eq!(json["status"], request.status, "{line}");
        assert!(json["duration_ms"].as_f64().is_some(), "{line}");
        assert_eq!(json["span"]["method"], request.method, "{line}");
        assert_eq!(json["span"]["route"], request.route, "{line}");
        assert_eq!(json["span"]["request_id"], request.request_id, "{line}");
    }
    // The CSRF refusal of the POST is logged inside the request's span, so it is traceable.
    let lines = server.lines();
    let refusal = lines
        .iter()
        .find(|l| l.contains("CSRF"))
        .expect("the CSRF refusal is logged");
    assert!(refusal.contains(&sent[2].request_id), "{refusal}");
    // Every log line is one JSON object; only the server's plain messages to a person
    // ("Staffroom is running at ...") are not.
    for line in lines.iter().filter(|l| l.starts_with('{')) {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not one JSON object ({e}):\n{line}"));
    }
    assert_no_token_in(&lines, &tokens);
}

#[actix_web::test]
async fn text_logs_have_one_line_per_request_with_its_route_pattern_and_no_token() {
    let server = Server::start("text");
    let (sent, tokens) = send_requests_with_tokens(&server).await;

    for request in &sent {
        let line = server.request_line(&request.request_id);
        for expected in [
            format!("method={}", request.method),
            format!("route={}", request.route),
            format!("status={}", request.status),
            "duration_ms=".to_string(),
        ] {
            assert!(line.contains(&expected), "no {expected} in:\n{line}");
        }
        assert!(!line.contains('\u{1b}'), "no colours in a pipe:\n{line}");
    }
    assert_no_token_in(&server.lines(), &tokens);
}

/// A signed-in person of the running server (enrolled through its pages).
async fn person_on(server: &Server, org: staffroom::domain::OrganisationId, email: &str) -> Person {
    let pool = staffroom::db::pool(&server.database_url, 2);
    let id = staffroom::cli::create_user(
        &pool,
        &server.base_url,
        staffroom::cli::NewAccount {
            org,
            email: email.into(),
            first_name: "Amelia".into(),
            surname: "Okonkwo".into(),
            trust_admin: false,
            password: Some(PASSWORD.into()),
        },
    )
    .unwrap();
    let browser = Browser::new(&server.base_url);
    browser
        .log_in(email, PASSWORD)
        .await
        .assert_redirect_to("/account/two-factor/setup");
    let (secret, _) = browser.enrol().await;
    Person {
        user: TestUser {
            id,
            email: email.into(),
            password: PASSWORD.into(),
            totp_secret: Some(secret),
        },
        browser,
    }
}

fn texts_in_outbox(database_url: &str) -> Vec<String> {
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Body {
        #[diesel(sql_type = diesel::sql_types::Text)]
        text_body: String,
    }
    let conn = &mut diesel::PgConnection::establish(database_url).unwrap();
    diesel::sql_query("SELECT text_body FROM outbox WHERE channel = 'sms' AND sent_at IS NOT NULL")
        .load::<Body>(conn)
        .unwrap()
        .into_iter()
        .map(|b| b.text_body)
        .collect()
}

/// The tokens in the links of a message's text.
fn tokens_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter_map(|word| word.split("://").nth(1))
        .filter_map(|rest| rest.rsplit('/').next())
        .filter(|token| token.len() >= 32)
        .map(str::to_string)
        .collect()
}

#[actix_web::test]
async fn no_address_number_name_or_token_reaches_the_logs_of_sign_up_invitations_reset_and_messages(
) {
    let smtp = SmtpServer::start().await;
    let server = Server::start_with("text", Some(smtp.port));
    let pool = staffroom::db::pool(&server.database_url, 2);
    let org = staffroom::cli::create_organisation(
        &pool,
        "East London NHS Foundation Trust",
        &["nhs.net".to_string()],
    )
    .unwrap();
    let amelia = person_on(&server, org, "amelia.okonkwo@nhs.net").await;
    let ws = crate::workspaces::create_workspace(&amelia, org, "Ward 2 Nurses").await;

    // Invitations by email and, for a guest, by text message.
    let until = (chrono::Utc::now() + chrono::Duration::days(60)).date_naive();
    for (emails, role) in [
        ("dave.invitee@nhs.net", "member"),
        ("07700 900456", "guest"),
    ] {
        let page = amelia
            .browser
            .post(
                &format!("/workspaces/{ws}/invitations"),
                &[
                    ("emails", emails),
                    ("role", role),
                    ("guest_until", &until.format("%Y-%m-%d").to_string()),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
    }
    // A sign-up and a password reset, signed out.
    let visitor = Browser::new(&server.base_url);
    visitor
        .sign_up(
            "Priyanka",
            "Shahzadi",
            "priyanka.shahzadi@nhs.net",
            PASSWORD,
        )
        .await
        .assert_redirect_to("/signup/check-email");
    visitor
        .submit(
            "/password/forgot",
            "/password/forgot",
            &[("email", "amelia.okonkwo@nhs.net")],
        )
        .await
        .assert_redirect_to("/password/forgot/check-email");
    // A patient, and a text message to them.
    let patients = format!("/workspaces/{ws}/patients");
    amelia
        .browser
        .submit(
            &patients,
            &patients,
            &[
                ("nhs_number", "943 476 5919"),
                ("first_name", "Perpetua"),
                ("surname", "Quartermaine"),
                ("date_of_birth", "1984-03-31"),
                ("mobile", "07700 900789"),
                ("email", "perpetua.q@example.com"),
            ],
        )
        .await
        .assert_redirect_to(&patients);
    let listing = amelia.browser.get(&patients).await.body;
    let patient = attribute_after(&listing, "messages/new?patient_id=")
        .map(|id| id.split('&').next().unwrap().to_string())
        .expect("the patient is listed");
    let sent = amelia
        .browser
        .post(
            &format!("/workspaces/{ws}/messages"),
            &[
                ("patient_id", patient.as_str()),
                ("channel", "sms"),
                ("body", "Hello {first_name}, your results are back."),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);

    // Everything went out through the worker.
    let mut tokens = Vec::new();
    for to in [
        "dave.invitee@nhs.net",
        "priyanka.shahzadi@nhs.net",
        "amelia.okonkwo@nhs.net",
    ] {
        tokens.extend(tokens_in(&smtp.wait_for(to).await.text()));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while texts_in_outbox(&server.database_url).len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let texts = texts_in_outbox(&server.database_url);
    assert_eq!(texts.len(), 2, "both text messages went through the worker");
    for text in &texts {
        tokens.extend(tokens_in(text));
    }
    assert!(tokens.len() >= 4, "{tokens:?}");
    // The worker's line for each text message is written once it is sent.
    server
        .wait_for_line(|l| l.contains("text message kept in the outbox").then_some(()))
        .expect("the text messages are logged");

    let lines = server.lines();
    let personal = [
        "amelia.okonkwo",
        "dave.invitee",
        "priyanka.shahzadi",
        "perpetua.q",
        "@nhs.net",
        "@example.com",
        "900456",
        "900789",
        "7700",
        "9434765919",
        "943 476 5919",
        "Amelia",
        "Okonkwo",
        "Priyanka",
        "Shahzadi",
        "Perpetua",
        "Quartermaine",
        PASSWORD,
    ];
    for line in &lines {
        for word in personal
            .iter()
            .copied()
            .chain(tokens.iter().map(String::as_str))
        {
            assert!(!line.contains(word), "{word:?} is in the log:\n{line}");
        }
    }
    assert!(
        lines.iter().any(|l| l.contains("route=/signup")),
        "the requests were logged"
    );
}
