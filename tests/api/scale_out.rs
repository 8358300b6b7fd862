//! Many servers on one PostgreSQL, as real processes: the built `staffroom` binary spawned
//! twice on one database (sessions, logout, throttles, the outbox and reminders shared), a
//! rolling restart behind a real nginx run with the deploy kit's own `upstream` and `location`
//! blocks, a failover from a primary to a standby made with `pg_basebackup`, two servers
//! migrating one empty database at once, a migration that fails, and SIGTERM with a slow
//! request and claimed mail in flight.
//!
//! nginx and pg_basebackup are found where Debian puts them; when one is missing the test that
//! needs it says so and passes, unless `CI=true`, where it fails.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use staffroom::db::PgPool;
use staffroom::domain::OrganisationId;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::helpers::*;
use crate::workspaces::create_workspace;

/// The one key every server shares, so that a cookie signed by one is good on the other.
const SHARED_KEY: [u8; 64] = [42; 64];
/// Generous: the machine may be compiling while the tests run.
const START_WITHIN: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------- a server process

#[derive(Clone)]
struct ServerConfig {
    database_url: String,
    smtp_port: u16,
    /// 0: any free port.
    port: u16,
    shutdown_timeout_s: u64,
    trusted_proxies: Option<String>,
}

impl ServerConfig {
    fn new(database_url: &str, smtp_port: u16) -> Self {
        Self {
            database_url: database_url.to_string(),
            smtp_port,
            port: 0,
            shutdown_timeout_s: 30,
            trusted_proxies: None,
        }
    }
}

/// `staffroom serve` and everything it wrote to stderr.
struct Server {
    child: Child,
    url: String,
    port: u16,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Spawns the server; does not wait for it.
    fn spawn(config: &ServerConfig) -> Self {
        let data_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("scale-out-{}", uuid::Uuid::new_v4().simple()));
        let mut command = Command::new(env!("CARGO_BIN_EXE_staffroom"));
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("DATABASE_URL", &config.database_url)
            .env("STAFFROOM_BIND", format!("127.0.0.1:{}", config.port))
            .env("STAFFROOM_DATA_DIR", &data_dir)
            .env("STAFFROOM_SECRET_KEY", hex::encode(SHARED_KEY))
            .env("SMTP_URL", format!("smtp://127.0.0.1:{}", config.smtp_port))
            .env("MAIL_FROM", "Staffroom <no-reply@staffroom.test>")
            .env("STAFFROOM_DEV_MAILBOX", "off")
            .env(
                "STAFFROOM_SHUTDOWN_TIMEOUT",
                config.shutdown_timeout_s.to_string(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(proxies) = &config.trusted_proxies {
            command.env("STAFFROOM_TRUSTED_PROXIES", proxies);
        }
        let mut child = command.spawn().expect("the staffroom binary runs");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Self {
            child,
            url: String::new(),
            port: config.port,
            log,
        }
    }

    /// Spawns the server and waits until it listens.
    async fn start(config: &ServerConfig) -> Self {
        let mut server = Self::spawn(config);
        server.listening().await;
        server
    }

    /// Waits for "Staffroom is running at ..." and learns the address.
    async fn listening(&mut self) {
        let line = self.wait_for_log("Staffroom is running at ").await;
        self.url = line
            .split("Staffroom is running at ")
            .nth(1)
            .unwrap()
            .trim()
            .to_string();
        self.port = self.url.rsplit(':').next().unwrap().parse().unwrap();
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn log_has(&self, needle: &str) -> bool {
        self.log().contains(needle)
    }

    /// Waits until a line of the log holds `needle`, and returns it; fails if the process ends
    /// first.
    async fn wait_for_log(&mut self, needle: &str) -> String {
        self.wait_for_line(needle, |line| line.contains(needle))
            .await
    }

    /// Waits until a line of the log passes `wanted`; `needle` says what was awaited.
    async fn wait_for_line(&mut self, needle: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + START_WITHIN;
        loop {
            if let Some(line) = self.log().lines().find(|l| wanted(l)) {
                return line.to_string();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader thread catch up with the last lines.
                tokio::time::sleep(Duration::from_millis(200)).await;
                panic!(
                    "the server ended ({status}) before logging {needle:?}:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in the log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn signal(&self, signal: i32) {
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the process to end (bounded) and gives its status.
    async fn exited(&mut self) -> ExitStatus {
        let deadline = Instant::now() + START_WITHIN;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                tokio::time::sleep(Duration::from_millis(200)).await;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls `/readyz` until it answers 200.
    async fn ready(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + START_WITHIN;
        loop {
            if let Ok(r) = client.get(format!("{}/readyz", self.url)).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "never ready:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn readyz(url: &str) -> u16 {
    match reqwest::get(format!("{url}/readyz")).await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Required tools: missing outside CI is a skip with a message, under CI=true a failure.
fn tool_available(what: &str, found: bool) -> bool {
    if found {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    assert!(
        !ci,
        "{what} is missing and CI=true: install it (.ci/run does)"
    );
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "scale-out test skipped: {what} is missing; set CI=true to require it"
    );
    false
}

// ---------------------------------------------------------------- the database, from outside

struct Db {
    pool: PgPool,
}

impl Db {
    fn new(url: &str) -> Self {
        Self {
            pool: staffroom::db::pool(url, 4),
        }
    }

    fn count(&self, query: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT ({query})::bigint AS n"))
            .get_result::<Count>(&mut *self.pool.get().unwrap())
            .unwrap()
            .n
    }

    fn sql(&self, statement: &str) -> usize {
        diesel::sql_query(statement)
            .execute(&mut *self.pool.get().unwrap())
            .unwrap()
    }

    fn org(&self) -> OrganisationId {
        staffroom::cli::create_organisation(
            &self.pool,
            "East London NHS Foundation Trust",
            &["nhs.net".to_string()],
        )
        .unwrap()
    }

    /// An account with `PASSWORD`, signed in (both factors) through `base_url`.
    async fn person(&self, base_url: &str, org: OrganisationId, email: &str) -> Person {
        let user = self.account(base_url, org, email);
        let browser = Browser::new(base_url);
        browser.log_in(email, PASSWORD).await;
        let (secret, _codes) = browser.enrol().await;
        Person {
            user: TestUser {
                totp_secret: Some(secret),
                ..user
            },
            browser,
        }
    }

    fn account(&self, base_url: &str, org: OrganisationId, email: &str) -> TestUser {
        let id = staffroom::cli::create_user(
            &self.pool,
            base_url,
            staffroom::cli::NewAccount {
                org,
                email: email.into(),
                first_name: "Amy".into(),
                surname: "Okonkwo".into(),
                trust_admin: false,
                password: Some(PASSWORD.into()),
            },
        )
        .unwrap();
        TestUser {
            id,
            email: email.into(),
            password: PASSWORD.into(),
            totp_secret: None,
        }
    }
}

/// A database with nothing in it (not cloned from the migrated template).
fn empty_database() -> String {
    let cloned = fresh_database();
    let name = cloned.split('/').nth(3).unwrap().split('?').next().unwrap();
    let admin_url = cloned.replace(&format!("/{name}?"), "/postgres?");
    let empty = format!("e_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(&admin_url).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {empty}"))
        .execute(&mut admin)
        .unwrap();
    cloned.replace(&format!("/{name}?"), &format!("/{empty}?"))
}

fn migrations_in_the_binary() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("up.sql").exists())
        .count()
}

/// After a moment for stragglers, each of `emails` has received exactly `n` messages.
async fn assert_each_emailed(smtp: &SmtpServer, emails: &[String], n: usize) {
    tokio::time::sleep(Duration::from_millis(800)).await;
    let received = smtp.received();
    for email in emails {
        let got = received.iter().filter(|m| m.to.contains(email)).count();
        assert_eq!(got, n, "{email} received {got} messages");
    }
}

/// One invitation POST (the person's CSRF token, fetched by `post`), to `base_url`.
async fn invite(person: &Person, base_url: &str, ws: &str, emails: &str) -> Page {
    person
        .browser
        .post(
            &format!("{base_url}/workspaces/{ws}/invitations"),
            &[("emails", emails), ("role", "member")],
        )
        .await
}

// ---------------------------------------------------------------- two servers, one database

#[actix_web::test]
async fn two_server_processes_share_sessions_logout_throttles_the_outbox_and_reminders() {
    let smtp = SmtpServer::start().await;
    let database = fresh_database();
    let db = Db::new(&database);
    let config = ServerConfig::new(&database, smtp.port);
    let (mut a, mut b) = (Server::spawn(&config), Server::spawn(&config));
    a.listening().await;
    b.listening().await;
    let org = db.org();

    // A session made on A works on B.
    let amy = db.person(&a.url, org, "amy@nhs.net").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    let on_b = amy.browser.get(&format!("{}/workspaces", b.url)).await;
    assert_eq!(on_b.status, 200, "{}", on_b.body);
    assert!(on_b.body.contains("Ward 2 Nurses"));

    // Thirty invitations, half through each server, each delivered once by the two workers.
    let mut invited = Vec::new();
    for i in 0..30 {
        let email = format!("colleague{i}@nhs.net");
        let server = if i % 2 == 0 { &a.url } else { &b.url };
        let page = invite(&amy, server, &ws, &email).await;
        assert_eq!(page.status, 303, "{}", page.body);
        invited.push(email);
    }
    for email in &invited {
        smtp.wait_for(email).await;
    }
    assert_each_emailed(&smtp, &invited, 1).await;

    // Reminders: two housekeeping rounds at once, on two connections, remind each once.
    db.sql("UPDATE invitations SET expires_at = now() + interval '2 days 23 hours'");
    let barrier = std::sync::Barrier::new(2);
    let base_url = a.url.clone();
    let rounds: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (pool, barrier, base_url) = (&db.pool, &barrier, &base_url);
                scope.spawn(move || {
                    let mut conn = pool.get().unwrap();
                    barrier.wait();
                    staffroom::housekeeping::run_once(&mut conn, base_url).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        rounds.iter().map(|r| r.reminders_sent).sum::<usize>(),
        invited.len(),
        "{rounds:?}"
    );
    for email in &invited {
        let reminder = smtp.wait_for_nth(email, 2).await;
        assert!(reminder.subject().starts_with("Reminder:"), "{email}");
    }
    assert_each_emailed(&smtp, &invited, 2).await;

    // A throttle counts across both: five free wrong passwords in all, then refused on either.
    let kim = db.account(&a.url, org, "kim@nhs.net");
    let (kim_a, kim_b) = (Browser::new(&a.url), Browser::new(&b.url));
    for attempt in 0..5 {
        let browser = if attempt % 2 == 0 { &kim_a } else { &kim_b };
        let page = browser.log_in(&kim.email, "not the password").await;
        assert_ne!(page.status, 429, "attempt {attempt} is free");
    }
    assert_eq!(
        kim_b.log_in(&kim.email, "not the password").await.status,
        429
    );
    assert_eq!(kim_a.log_in(&kim.email, PASSWORD).await.status, 429);

    // Logout on B ends the session on A too, even for a client that kept the cookie.
    let cookie = amy.browser.cookie_header();
    let logout = amy.browser.post(&format!("{}/logout", b.url), &[]).await;
    assert_eq!(logout.status, 303, "{}", logout.body);
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/workspaces", a.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303);
    assert!(replay.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));

    for server in [&mut a, &mut b] {
        server.signal(libc::SIGTERM);
        assert!(server.exited().await.success(), "{}", server.log());
    }
}

// ---------------------------------------------------------------- migrations

#[actix_web::test]
async fn two_servers_started_at_once_on_an_empty_database_migrate_it_once_and_both_serve() {
    let smtp = SmtpServer::start().await;
    let database = empty_database();
    // Hold the migrators' lock, so both servers are certainly starting at once when it goes.
    let mut holder = PgConnection::establish(&database).unwrap();
    diesel::sql_query(format!(
        "SELECT pg_advisory_lock({})",
        staffroom::db::migrations::LOCK
    ))
    .execute(&mut holder)
    .unwrap();
    let config = ServerConfig::new(&database, smtp.port);
    let (mut a, mut b) = (Server::spawn(&config), Server::spawn(&config));
    let waiting = "another server is applying the migrations; waiting";
    a.wait_for_log(waiting).await;
    b.wait_for_log(waiting).await;
    drop(holder);

    a.listening().await;
    b.listening().await;
    let n = migrations_in_the_binary();
    let db = Db::new(&database);
    assert_eq!(
        db.count("SELECT count(*) FROM __diesel_schema_migrations"),
        n as i64
    );
    let applied = format!("migrations applied applied={n}");
    let logs = [a.log(), b.log()];
    assert_eq!(
        logs.iter().filter(|l| l.contains(&applied)).count(),
        1,
        "exactly one server migrated:\n{}\n---\n{}",
        logs[0],
        logs[1]
    );
    assert_eq!(
        logs.iter()
            .filter(|l| l.contains("migrations: none pending"))
            .count(),
        1,
        "the other found nothing to do"
    );
    assert_eq!(readyz(&a.url).await, 200);
    assert_eq!(readyz(&b.url).await, 200);
    for server in [&mut a, &mut b] {
        server.signal(libc::SIGTERM);
        assert!(server.exited().await.success());
    }
}

#[actix_web::test]
async fn a_migration_that_fails_applies_nothing_and_the_server_does_not_start() {
    let smtp = SmtpServer::start().await;
    let database = empty_database();
    let db = Db::new(&database);
    // A late migration creates this table: it fails after the ones before it ran.
    db.sql("CREATE TABLE frame_versions (anything integer)");

    let mut server = Server::spawn(&ServerConfig::new(&database, smtp.port));
    let status = server.exited().await;

    assert!(!status.success(), "{}", server.log());
    let log = server.log();
    assert!(log.contains("a migration failed"), "{log}");
    assert!(log.contains("The server did not start."), "{log}");
    assert!(!log.contains("Staffroom is running"), "{log}");
    assert_eq!(
        db.count("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('users', 'organisations', '__diesel_schema_migrations')"),
        0,
        "nothing of the earlier migrations is left"
    );
}

#[actix_web::test]
async fn readyz_answers_503_until_every_migration_of_this_binary_is_applied() {
    let app = spawn_app().await;
    assert_eq!(app.browser.get("/readyz").await.body, "ready");

    let latest = app.text("SELECT max(version) FROM __diesel_schema_migrations");
    app.sql(&format!(
        "DELETE FROM __diesel_schema_migrations WHERE version = '{latest}'"
    ));
    let page = app.browser.get("/readyz").await;
    assert_eq!(page.status, 503);
    assert_eq!(page.body, "not ready: migrations are not all applied");
    assert_eq!(app.browser.get("/healthz").await.status, 200);

    app.sql(&format!(
        "INSERT INTO __diesel_schema_migrations (version) VALUES ('{latest}')"
    ));
    assert_eq!(app.browser.get("/readyz").await.status, 200);
}

// ---------------------------------------------------------------- graceful shutdown

/// An SMTP server that holds messages (every one, or those to one address) at the end of DATA
/// until the gate opens.
#[derive(Clone)]
struct GatedSmtp {
    port: u16,
    hold: Option<String>,
    open: Arc<tokio::sync::watch::Sender<bool>>,
    held: Arc<AtomicUsize>,
    received: Arc<Mutex<Vec<String>>>,
}

impl GatedSmtp {
    async fn start(hold: Option<&str>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (open, _) = tokio::sync::watch::channel(false);
        let smtp = Self {
            port: listener.local_addr().unwrap().port(),
            hold: hold.map(str::to_string),
            open: Arc::new(open),
            held: Arc::new(AtomicUsize::new(0)),
            received: Arc::new(Mutex::new(Vec::new())),
        };
        let server = smtp.clone();
        actix_web::rt::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = server.clone();
                actix_web::rt::spawn(async move {
                    let _ = server.converse(stream).await;
                });
            }
        });
        smtp
    }

    async fn converse(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = tokio::io::BufReader::new(read);
        write.write_all(b"220 gated.test ESMTP\r\n").await?;
        let mut to = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let upper = line.trim_end().to_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-gated.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
            } else if upper.starts_with("RCPT TO:") {
                let start = line.find('<').map_or(0, |i| i + 1);
                let end = line.rfind('>').unwrap_or(line.len());
                to.push(line[start..end].to_lowercase());
                b"250 OK\r\n"
            } else if upper == "DATA" {
                write.write_all(b"354 go ahead\r\n").await?;
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                }
                if self.hold.as_ref().is_none_or(|held| to.contains(held)) {
                    self.held.fetch_add(1, Ordering::SeqCst);
                    let _ = self.open.subscribe().wait_for(|open| *open).await;
                }
                self.received.lock().unwrap().append(&mut to);
                b"250 queued\r\n"
            } else if upper.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                b"250 OK\r\n"
            };
            write.write_all(reply).await?;
        }
    }

    fn received_by(&self, to: &str) -> usize {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| *r == to)
            .count()
    }
}

/// Polls `check` until it holds (bounded); `what` says what was awaited.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + START_WITHIN;
    while !check() {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn sigterm_lets_a_slow_request_finish_releases_claimed_mail_and_exits_cleanly() {
    let smtp = GatedSmtp::start(None).await;
    let database = fresh_database();
    let db = Db::new(&database);
    let config = ServerConfig::new(&database, smtp.port);
    let mut server = Server::start(&config).await;
    let org = db.org();
    let amy = db.person(&server.url, org, "amy@nhs.net").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;

    // Six emails; the worker claims all six, hands four over at once (its concurrency) and is
    // stuck there; the last two are not begun.
    let six = [
        "one@nhs.net",
        "two@nhs.net",
        "three@nhs.net",
        "five@nhs.net",
        "six@nhs.net",
        "seven@nhs.net",
    ];
    let listed = six
        .iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(", ");
    assert_eq!(
        invite(&amy, &server.url, &ws, &six.join("\n")).await.status,
        303
    );
    until("four emails are held by the SMTP server", || {
        smtp.held.load(Ordering::SeqCst) == 4
    })
    .await;
    let claimed = format!("SELECT count(*) FROM outbox WHERE recipient IN ({listed}) AND sent_at IS NULL AND locked_until IS NOT NULL");
    assert_eq!(db.count(&claimed), 6);

    // A slow request: its insert waits behind a lock the test holds.
    let mut blocker = PgConnection::establish(&database).unwrap();
    diesel::sql_query("BEGIN").execute(&mut blocker).unwrap();
    diesel::sql_query("LOCK TABLE invitations IN EXCLUSIVE MODE")
        .execute(&mut blocker)
        .unwrap();
    let csrf = amy.browser.csrf().await;
    let slow = {
        let client = amy.browser.client.clone();
        let url = format!("{}/workspaces/{ws}/invitations", server.url);
        actix_web::rt::spawn(async move {
            client
                .post(url)
                .form(&[
                    ("emails", "four@nhs.net"),
                    ("role", "member"),
                    ("csrf_token", csrf.as_str()),
                ])
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    };
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
    until("the slow request waits for the lock", || {
        db.count(waiting) == 1
    })
    .await;

    server.signal(libc::SIGTERM);
    server.wait_for_log("stopping: no new connections").await;
    let port = server.port;
    until("the listener is closed", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    })
    .await;

    // The emails being sent are finished and recorded; the two not begun are released at
    // once (their lease would have kept them for 20 s).
    smtp.open.send_replace(true);
    let released = format!("SELECT count(*) FROM outbox WHERE recipient IN ({listed}) AND sent_at IS NULL AND locked_until IS NULL");
    until("the unsent emails are released", || {
        db.count(&released) == 2
    })
    .await;
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM outbox WHERE recipient IN ({listed}) AND sent_at IS NOT NULL"
        )),
        4
    );
    assert!(server.is_running(), "the slow request is still in flight");

    diesel::sql_query("COMMIT").execute(&mut blocker).unwrap();
    assert_eq!(
        slow.await.unwrap().unwrap(),
        303,
        "the slow request completed"
    );
    let status = server.exited().await;
    assert!(status.success(), "{status}:\n{}", server.log());
    let log = server.log();
    for line in [
        "mail worker stopped",
        "housekeeping stopped",
        "Staffroom stopped.",
    ] {
        assert!(log.contains(line), "no {line:?} in:\n{log}");
    }
    assert_eq!(
        db.count("SELECT count(*) FROM invitations WHERE email = 'four@nhs.net'"),
        1
    );

    // The next server sends what was released and what the slow request wrote, once each.
    let mut next = Server::start(&config).await;
    for to in six.iter().copied().chain(["four@nhs.net"]) {
        until(&format!("mail to {to}"), || smtp.received_by(to) >= 1).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    for to in six.iter().copied().chain(["four@nhs.net"]) {
        assert_eq!(smtp.received_by(to), 1, "{to}");
    }
    next.signal(libc::SIGTERM);
    assert!(next.exited().await.success());
}

// ---------------------------------------------------------------- load

/// What a client saw: each request's outcome, and the invitations acknowledged.
#[derive(Default)]
struct Load {
    requests: usize,
    failures: Vec<String>,
    acknowledged: Vec<String>,
    unacknowledged: Vec<String>,
    /// When answers other than the expected ones were seen (first, last).
    bad_window: Option<(Instant, Instant)>,
    /// The longest an invitation took to be answered.
    slowest_post: Duration,
}

impl Load {
    fn failed(&mut self, what: String) {
        let now = Instant::now();
        self.bad_window = Some(match self.bad_window {
            None => (now, now),
            Some((first, _)) => (first, now),
        });
        self.failures.push(what);
    }
}

/// How many invitations the load has had acknowledged (303) and not.
#[derive(Default)]
struct Progress {
    acknowledged: AtomicUsize,
    refused: AtomicUsize,
}

/// A signed-in client: a page, then an invitation to a new address, paced, until `stop`.
/// Invitations rotate over `workspaces` (each may send 200 a day).
fn start_load(
    person: &Person,
    base_url: &str,
    workspaces: Vec<String>,
    prefix: &'static str,
    pages: bool,
    stop: Arc<AtomicBool>,
    progress: Arc<Progress>,
) -> actix_web::rt::task::JoinHandle<Load> {
    let client = person.browser.client.clone();
    let base_url = base_url.to_string();
    let page_url = format!("{base_url}/signup");
    actix_web::rt::spawn(async move {
        let token = client
            .get(&page_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = attribute_after(&token, "name=\"csrf_token\" value=\"").unwrap();
        let mut load = Load::default();
        let mut i = 0usize;
        while !stop.load(Ordering::SeqCst) && i < 190 * workspaces.len() {
            // Two requests per round would keep nginx's round robin sending every POST to the
            // same server; a round without the page now and then moves the POSTs across.
            if pages && !i.is_multiple_of(3) {
                load.requests += 1;
                match client.get(format!("{base_url}/")).send().await {
                    Ok(r) if r.status() == 200 => {}
                    Ok(r) => load.failed(format!("GET / answered {}", r.status())),
                    Err(e) => load.failed(format!("GET / failed: {e}")),
                }
            }
            let ws = &workspaces[i % workspaces.len()];
            let email = format!("{prefix}{i}@nhs.net");
            i += 1;
            load.requests += 1;
            let posted = Instant::now();
            let sent = client
                .post(format!("{base_url}/workspaces/{ws}/invitations"))
                .form(&[
                    ("emails", email.as_str()),
                    ("role", "member"),
                    ("csrf_token", csrf.as_str()),
                ])
                .send()
                .await;
            load.slowest_post = load.slowest_post.max(posted.elapsed());
            match sent {
                Ok(r) if r.status() == 303 => {
                    load.acknowledged.push(email);
                    progress.acknowledged.fetch_add(1, Ordering::SeqCst);
                }
                Ok(r) => {
                    load.failed(format!("POST invitation answered {}", r.status()));
                    load.unacknowledged.push(email);
                    progress.refused.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => {
                    load.failed(format!("POST invitation failed: {e}"));
                    load.unacknowledged.push(email);
                    progress.refused.fetch_add(1, Ordering::SeqCst);
                }
            }
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
        load
    })
}

// ---------------------------------------------------------------- nginx

fn nginx_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("nginx"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let debian = PathBuf::from("/usr/sbin/nginx");
        debian.is_file().then_some(debian)
    })
}

/// The text of the block that starts with `opening` (comments dropped).
fn kit_block(kit: &str, opening: &str) -> String {
    let text: String = kit
        .lines()
        .map(|l| l.split('#').next().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let start = text
        .find(opening)
        .unwrap_or_else(|| panic!("no {opening:?} in the kit"));
    let mut depth = 0;
    for (i, c) in text[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return text[start..=start + i].to_string();
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced block {opening:?}")
}

/// nginx in the foreground with the deploy kit's `upstream` and `location /` on loopback.
struct Nginx {
    child: Child,
    dir: PathBuf,
    url: String,
}

impl Nginx {
    fn start(binary: &Path, upstreams: [u16; 2]) -> Self {
        let kit = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/deploy/nginx/staffroom.conf"
        ))
        .unwrap();
        let upstream = kit_block(&kit, "upstream staffroom {")
            .replace("10.0.1.11:8080", &format!("127.0.0.1:{}", upstreams[0]))
            .replace("10.0.1.12:8080", &format!("127.0.0.1:{}", upstreams[1]));
        assert_eq!(upstream.matches("127.0.0.1:").count(), 2, "{upstream}");
        let location = kit_block(&kit, "location / {");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("nginx-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let d = dir.display();
        let config = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\nevents {{ worker_connections 256; }}\nhttp {{\n\
             access_log {d}/access.log;\nclient_body_temp_path {d}/body;\n\
             proxy_temp_path {d}/proxy;\nfastcgi_temp_path {d}/fastcgi;\n\
             uwsgi_temp_path {d}/uwsgi;\nscgi_temp_path {d}/scgi;\n{upstream}\n\
             server {{\nlisten 127.0.0.1:{port};\nserver_name localhost;\n{location}\n}}\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), config).unwrap();
        let child = Command::new(binary)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx runs");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not start: {}",
                std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            dir,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The whole site as an operator installs it (TLS server included) is one nginx accepts.
#[test]
fn the_deploy_kits_nginx_site_passes_nginx_t() {
    let Some(nginx_binary) = nginx_binary() else {
        assert!(!tool_available("nginx (Debian package nginx)", false));
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("nginx-t-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = RemoveDir(dir.clone());
    let (cert, key) = (dir.join("site.pem"), dir.join("site.key"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=staffroom.example.nhs.uk", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !tool_available("openssl (to make a test certificate)", made) {
        return;
    }
    let kit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/nginx/staffroom.conf"
    ))
    .unwrap()
    .replace(
        "/etc/ssl/certs/staffroom.example.nhs.uk.pem",
        &cert.display().to_string(),
    )
    .replace(
        "/etc/ssl/private/staffroom.example.nhs.uk.key",
        &key.display().to_string(),
    );
    std::fs::write(dir.join("staffroom.conf"), kit).unwrap();
    let d = dir.display();
    std::fs::write(
        dir.join("nginx.conf"),
        format!(
            "pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n\
             client_body_temp_path {d}/body;\nproxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\nuwsgi_temp_path {d}/uwsgi;\n\
             scgi_temp_path {d}/scgi;\ninclude {d}/staffroom.conf;\n}}\n"
        ),
    )
    .unwrap();
    let checked = Command::new(nginx_binary)
        .arg("-t")
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"))
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[actix_web::test]
async fn a_rolling_restart_behind_nginx_fails_no_request_and_does_each_post_once() {
    let Some(nginx_binary) = nginx_binary() else {
        assert!(!tool_available("nginx (Debian package nginx)", false));
        return;
    };
    let smtp = SmtpServer::start().await;
    let database = fresh_database();
    let db = Db::new(&database);
    let ports = [free_port(), free_port()];
    let configs: Vec<ServerConfig> = ports
        .iter()
        .map(|&port| ServerConfig {
            port,
            trusted_proxies: Some("127.0.0.1".into()),
            ..ServerConfig::new(&database, smtp.port)
        })
        .collect();
    let mut servers = [
        Server::start(&configs[0]).await,
        Server::start(&configs[1]).await,
    ];
    let nginx = Nginx::start(&nginx_binary, ports);
    let org = db.org();
    let amy = db.person(&nginx.url, org, "amy@nhs.net").await;
    let wards = vec![
        create_workspace(&amy, org, "Ward 2 Nurses").await,
        create_workspace(&amy, org, "Ward 3 Nurses").await,
    ];

    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(Progress::default());
    let load = start_load(
        &amy,
        &nginx.url,
        wards,
        "rolling",
        true,
        stop.clone(),
        progress,
    );
    for (which, config) in configs.iter().enumerate() {
        let server = &mut servers[which];
        let signalled = Instant::now();
        server.signal(libc::SIGTERM);
        let status = server.exited().await;
        let drained = signalled.elapsed();
        assert!(status.success(), "{status}:\n{}", server.log());
        assert!(server.log_has("stopping: no new connections"));
        // While it is down nginx is refused by it and carries on with the other.
        let refused = format!("127.0.0.1:{}", config.port);
        let deadline = Instant::now() + START_WITHIN;
        while !nginx
            .error_log()
            .lines()
            .any(|l| l.contains("Connection refused") && l.contains(&refused))
        {
            assert!(
                Instant::now() < deadline,
                "nginx never tried the stopped server"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        *server = Server::start(config).await;
        server.ready().await;
        eprintln!(
            "rolling restart: server {which} exited {:.2} s after SIGTERM, ready again {:.2} s after it",
            drained.as_secs_f64(),
            signalled.elapsed().as_secs_f64()
        );
        // Before the next one goes, nginx must be sending this one the client's traffic again.
        server
            .wait_for_line("a request of the load", |line| {
                line.contains("method=GET route=/ ")
                    || line.contains("method=POST route=/workspaces/{id}/invitations")
            })
            .await;
    }
    let settle = Instant::now();
    while Instant::now() < settle + Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let load = load.await.unwrap();

    assert!(
        load.failures.is_empty(),
        "{} of {} requests failed: {:?}",
        load.failures.len(),
        load.requests,
        load.failures
    );
    eprintln!(
        "rolling restart: {} requests, {} invitations, 0 failed; slowest invitation {:.2} s",
        load.requests,
        load.acknowledged.len(),
        load.slowest_post.as_secs_f64()
    );
    assert_eq!(
        db.count("SELECT count(*) FROM invitations WHERE email LIKE 'rolling%'"),
        load.acknowledged.len() as i64,
        "each POST took effect once"
    );
    for email in &load.acknowledged {
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM invitations WHERE email = '{email}'"
            )),
            1
        );
        smtp.wait_for(email).await;
    }
    assert_each_emailed(&smtp, &load.acknowledged, 1).await;
    for server in servers.iter_mut() {
        server.signal(libc::SIGTERM);
        assert!(server.exited().await.success());
    }
}

// ---------------------------------------------------------------- failover

/// A PostgreSQL server on a loopback TCP port, from the harness's binaries.
struct PgNode {
    dir: PathBuf,
    port: u16,
}

impl PgNode {
    fn run(program: &str, args: &[&str]) -> std::process::Output {
        let out = staffroom::db::embedded::server_program(program)
            .unwrap()
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn start(&self, extra: &str) {
        let parent = self.dir.parent().unwrap().display().to_string();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories='{parent}' \
             -c fsync=off -c wal_level=replica -c max_wal_senders=4 -c max_connections=60 {extra}",
            self.port
        );
        let dir = self.dir.display().to_string();
        let log = format!("{dir}.log");
        Self::run(
            "pg_ctl",
            &[
                "start", "-w", "-t", "60", "-D", &dir, "-l", &log, "-o", &options,
            ],
        );
    }

    /// A crash: the server stops without a shutdown checkpoint, its clients cut off.
    fn stop_now(dir: &Path) {
        let dir = dir.display().to_string();
        Self::run("pg_ctl", &["stop", "-m", "immediate", "-w", "-D", &dir]);
    }

    fn promote(dir: &Path) {
        let dir = dir.display().to_string();
        Self::run("pg_ctl", &["promote", "-w", "-t", "60", "-D", &dir]);
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://staffroom@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for PgNode {
    fn drop(&mut self) {
        let dir = self.dir.display().to_string();
        if let Ok(mut command) = staffroom::db::embedded::server_program("pg_ctl") {
            let _ = command
                .args(["stop", "-m", "immediate", "-D", &dir])
                .output();
        }
    }
}

/// Removes the directory holding both nodes once they are stopped.
struct RemoveDir(PathBuf);

impl Drop for RemoveDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[actix_web::test]
async fn a_standby_promoted_under_load_keeps_every_acknowledged_write_and_mails_each_once() {
    let found = staffroom::db::embedded::server_program("pg_basebackup").is_ok();
    if !tool_available("pg_basebackup (beside initdb)", found) {
        return;
    }
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("failover-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&root).unwrap();
    // The cluster's user (postgres, when the tests run as root) creates the nodes in here.
    std::fs::set_permissions(&root, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let _cleanup = RemoveDir(root.clone());
    let primary = PgNode {
        dir: root.join("primary"),
        port: free_port(),
    };
    let standby = PgNode {
        dir: root.join("standby"),
        port: free_port(),
    };
    let primary_dir = primary.dir.display().to_string();
    PgNode::run(
        "initdb",
        &[
            "-D",
            &primary_dir,
            "-U",
            "staffroom",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ],
    );
    // Synchronous replication, set on the command line only (the standby's copy of the
    // configuration must not wait for a standby of its own once promoted).
    primary.start("-c synchronous_standby_names='*'");
    let port = primary.port.to_string();
    PgNode::run(
        "pg_basebackup",
        &[
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "staffroom",
            "-D",
            &standby.dir.display().to_string(),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        ],
    );
    standby.start("");
    let primary_admin = Db::new(&primary.url("postgres"));
    until("the standby streams", || {
        primary_admin.count("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
            == 1
    })
    .await;
    primary_admin.sql("CREATE DATABASE staffroom");
    drop(primary_admin);

    let url = format!(
        "postgres://staffroom@127.0.0.1:{},127.0.0.1:{}/staffroom?target_session_attrs=read-write&connect_timeout=2",
        primary.port, standby.port
    );
    let smtp = GatedSmtp::start(Some("held@nhs.net")).await;
    let mut server = Server::start(&ServerConfig::new(&url, smtp.port)).await;
    server.ready().await;
    let db = Db::new(&url);
    let org = db.org();
    let amy = db.person(&server.url, org, "amy@nhs.net").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;

    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(Progress::default());
    let load = start_load(
        &amy,
        &server.url,
        vec![ws.clone()],
        "failover",
        false,
        stop.clone(),
        progress.clone(),
    );
    let acknowledged = || progress.acknowledged.load(Ordering::SeqCst);
    until("load before the failover", || acknowledged() >= 10).await;
    // One email the SMTP server will accept only once the primary is gone: the worker must
    // record it as sent on the new primary, not send it again.
    assert_eq!(
        invite(&amy, &server.url, &ws, "held@nhs.net").await.status,
        303
    );
    until("the SMTP server holds an email", || {
        smtp.held.load(Ordering::SeqCst) == 1
    })
    .await;

    let down = Instant::now();
    let dir = primary.dir.clone();
    blocking(move || PgNode::stop_now(&dir)).await;
    let mut saw_503 = false;
    let deadline = Instant::now() + START_WITHIN;
    let mut slowest = Duration::ZERO;
    while !saw_503 {
        let asked = Instant::now();
        saw_503 = readyz(&server.url).await == 503;
        slowest = slowest.max(asked.elapsed());
        assert!(Instant::now() < deadline, "/readyz never said 503");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    smtp.open.send_replace(true);
    until("the held email is accepted", || {
        smtp.received_by("held@nhs.net") == 1
    })
    .await;
    // ... and the worker has found that it cannot record it yet.
    let log = server.log.clone();
    until("the worker fails to record the delivery", || {
        let log = log.lock().unwrap();
        log.contains("cannot record a delivery yet") || log.contains("the outbox is unreachable")
    })
    .await;
    // Down long enough for the client to be refused at least once.
    until("a POST answered while no database accepts writes", || {
        progress.refused.load(Ordering::SeqCst) >= 1
    })
    .await;
    let asked = Instant::now();
    assert_eq!(readyz(&server.url).await, 503);
    slowest = slowest.max(asked.elapsed());
    eprintln!(
        "failover: /readyz answered 503 within {:.2} s at most while the database was away",
        slowest.as_secs_f64()
    );
    // The standby answers, but a server pointed at it alone would not be ready.
    let standby_only = staffroom::db::pool(&standby.url("staffroom"), 1);
    assert_eq!(
        blocking(move || staffroom::db::migrations::readiness(
            &standby_only,
            Duration::from_secs(5)
        ))
        .await,
        staffroom::db::migrations::Readiness::ReadOnly
    );
    let dir = standby.dir.clone();
    blocking(move || PgNode::promote(&dir)).await;
    let promoted = Instant::now();
    server.ready().await;
    let recovered = down.elapsed();
    eprintln!(
        "failover: ready {:.2} s after the standby was promoted",
        promoted.elapsed().as_secs_f64()
    );
    let before = acknowledged();
    until("load after the failover", || acknowledged() >= before + 10).await;
    stop.store(true, Ordering::SeqCst);
    let load = load.await.unwrap();

    let bad = load
        .bad_window
        .map_or(Duration::ZERO, |(first, last)| last - first);
    eprintln!(
        "failover: {} POSTs, {} acknowledged, {} not ({:.1} s from the first to the last); slowest {:.2} s; ready again {:.1} s after the primary stopped",
        load.requests,
        load.acknowledged.len(),
        load.unacknowledged.len(),
        bad.as_secs_f64(),
        load.slowest_post.as_secs_f64(),
        recovered.as_secs_f64()
    );
    assert!(saw_503);
    // Refused, never broken: an answer for every POST, and no 500. (While the session store
    // is away the CSRF check answers 403 rather than 503: the hardening issue's to change.)
    eprintln!(
        "failover: answers while no database accepted writes: {:?}",
        load.failures
    );
    assert!(
        load.failures
            .iter()
            .all(|f| f.contains("answered 503") || f.contains("answered 403")),
        "{:?}",
        load.failures
    );
    assert_eq!(readyz(&server.url).await, 200);
    let new_primary = Db::new(&standby.url("staffroom"));
    assert_eq!(new_primary.count("SELECT pg_is_in_recovery()::int"), 0);
    for email in &load.acknowledged {
        assert_eq!(
            new_primary.count(&format!(
                "SELECT count(*) FROM invitations WHERE email = '{email}'"
            )),
            1,
            "{email} was acknowledged"
        );
        until(&format!("mail to {email}"), || smtp.received_by(email) >= 1).await;
    }
    // The email accepted while the database was away was recorded as sent by the worker that
    // sent it, once the new primary answered.
    let held_sent =
        "SELECT count(*) FROM outbox WHERE recipient = 'held@nhs.net' AND sent_at IS NOT NULL";
    until("the held email is recorded as sent", || {
        new_primary.count(held_sent) == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    for email in load
        .acknowledged
        .iter()
        .chain(&load.unacknowledged)
        .map(String::as_str)
        .chain(["held@nhs.net"])
    {
        let n = smtp.received_by(email);
        assert!(n <= 1, "{email} was emailed {n} times");
    }
    assert_eq!(smtp.received_by("held@nhs.net"), 1);
    server.signal(libc::SIGTERM);
    assert!(server.exited().await.success(), "{}", server.log());
}
