//! Request logs, read from the real binary's stderr: one line per request with its route pattern,
//! status and request id, in text and in JSON, and never a token from a path or a query string.

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
}

impl Server {
    fn start(log_format: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_staffroom"))
            .arg("serve")
            .env("DATABASE_URL", fresh_database())
            .env("STAFFROOM_BIND", "127.0.0.1:0")
            .env("STAFFROOM_SECRET_KEY", hex::encode([9u8; 64]))
            .env("STAFFROOM_LOG_FORMAT", log_format)
            .env_remove("STAFFROOM_BASE_URL")
            .env_remove("SMTP_URL")
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
