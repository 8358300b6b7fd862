//! Test harness: the shared embedded cluster, `spawn_app`, a cookie-keeping browser that does
//! not follow redirects, an SMTP listener that keeps what it receives, and people to sign in.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use diesel::{Connection, PgConnection, RunQueryDsl};
use staffroom::config::{MailTuning, Settings};
use staffroom::db::embedded::{EmbeddedPostgres, Options};
use staffroom::db::PgPool;
use staffroom::domain::{OrganisationId, UserId};
use staffroom::startup::Application;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

pub const PASSWORD: &str = "correct horse battery";

// ---------------------------------------------------------------- the shared cluster

struct Cluster {
    embedded: Mutex<EmbeddedPostgres>,
    template_url: String,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

extern "C" fn stop_cluster() {
    if let Some(cluster) = CLUSTER.get() {
        if let Ok(mut embedded) = cluster.embedded.lock() {
            embedded.shutdown();
            let _ = std::fs::remove_dir_all(embedded.cluster_dir());
        }
        let _ = std::fs::remove_dir_all(cluster_root().join(std::process::id().to_string()));
    }
}

/// Each test process gets a cluster of its own (two `cargo test` runs must not share one).
fn cluster_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-clusters")
}

/// Clusters left by test processes that were killed: stop their server and remove them.
fn remove_abandoned_clusters() {
    let Ok(entries) = std::fs::read_dir(cluster_root()) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // SAFETY: signal 0 only asks whether the process exists.
        if unsafe { libc::kill(pid, 0) } == 0 {
            continue;
        }
        if let Ok(mut abandoned) =
            EmbeddedPostgres::start(&entry.path(), Options { ephemeral: true })
        {
            abandoned.shutdown();
            let _ = std::fs::remove_dir_all(abandoned.cluster_dir());
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

const TEMPLATE: &str = "staffroom_template";

fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        remove_abandoned_clusters();
        let dir = cluster_root().join(std::process::id().to_string());
        let embedded = EmbeddedPostgres::start(&dir, Options { ephemeral: true })
            .expect("the embedded PostgreSQL starts (are PostgreSQL's server binaries installed?)");
        // SAFETY: registering a plain extern "C" function with no captured state.
        unsafe { libc::atexit(stop_cluster) };
        let mut admin = PgConnection::establish(&embedded.database_url("postgres")).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {TEMPLATE}"))
            .execute(&mut admin)
            .unwrap();
        let template_url = embedded.database_url(TEMPLATE);
        staffroom::db::run_migrations(&template_url).expect("migrations apply");
        Cluster {
            embedded: Mutex::new(embedded),
            template_url,
        }
    })
}

/// A fresh database for one test, cloned from the migrated template.
pub fn fresh_database() -> String {
    let cluster = cluster();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin_url = cluster
        .template_url
        .replace(&format!("/{TEMPLATE}?"), "/postgres?");
    let mut admin = PgConnection::establish(&admin_url).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
        .execute(&mut admin)
        .unwrap();
    cluster
        .template_url
        .replace(&format!("/{TEMPLATE}?"), &format!("/{name}?"))
}

// ---------------------------------------------------------------- the app

#[allow(dead_code)]
pub struct TestApp {
    pub base_url: String,
    pub database_url: String,
    pub pool: PgPool,
    pub smtp: SmtpServer,
    pub browser: Browser,
    pub handle: actix_web::dev::ServerHandle,
    pub port: u16,
}

pub fn test_settings(database_url: &str, smtp_port: u16) -> Settings {
    Settings {
        database_url: Some(database_url.to_string().into()),
        data_dir: std::env::temp_dir(),
        bind: "127.0.0.1:0".into(),
        base_url: "http://127.0.0.1:0".into(),
        secret_key: Some(hex::encode([7u8; 64]).into()),
        smtp_url: Some(format!("smtp://127.0.0.1:{smtp_port}").into()),
        mail_from: "Staffroom <no-reply@staffroom.test>".into(),
        mail: MailTuning {
            poll_interval: Duration::from_millis(100),
            retry_base: Duration::from_millis(300),
            retry_max: Duration::from_secs(2),
            max_attempts: 50,
        },
        hashing: Default::default(),
        trusted_proxies: Vec::new(),
        dev_mailbox: false,
        log_format: Default::default(),
        shutdown_timeout: Duration::from_secs(30),
        oidc: Vec::new(),
    }
}

pub async fn spawn_app() -> TestApp {
    let smtp = SmtpServer::start().await;
    let database_url = fresh_database();
    let settings = test_settings(&database_url, smtp.port);
    spawn_with(settings, smtp).await
}

pub async fn spawn_with(settings: Settings, smtp: SmtpServer) -> TestApp {
    let database_url = settings
        .database_url
        .as_ref()
        .map(|s| secrecy::ExposeSecret::expose_secret(s).to_string())
        .unwrap();
    let pool = staffroom::db::pool(&database_url, 8);
    let app = Application::build(settings, pool.clone())
        .await
        .expect("the app builds");
    let base_url = app.base_url().to_string();
    let handle = app.handle();
    let port = app.port();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        port,
        browser: Browser::new(&base_url),
        base_url,
        database_url,
        pool,
        smtp,
        handle,
    }
}

impl TestApp {
    pub fn new_browser(&self) -> Browser {
        Browser::new(&self.base_url)
    }

    pub fn conn(
        &self,
    ) -> diesel::r2d2::PooledConnection<diesel::r2d2::ConnectionManager<PgConnection>> {
        self.pool.get().unwrap()
    }

    pub fn sql(&self, statement: &str) -> usize {
        diesel::sql_query(statement)
            .execute(&mut *self.conn())
            .unwrap()
    }

    pub fn count(&self, query: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT ({query})::bigint AS n"))
            .get_result::<Count>(&mut *self.conn())
            .unwrap()
            .n
    }

    /// One value from SQL, as text.
    pub fn text(&self, query: &str) -> String {
        #[derive(diesel::QueryableByName)]
        struct Text {
            #[diesel(sql_type = diesel::sql_types::Text)]
            t: String,
        }
        diesel::sql_query(format!("SELECT ({query})::text AS t"))
            .get_result::<Text>(&mut *self.conn())
            .unwrap()
            .t
    }

    pub fn create_org(&self, name: &str, domains: &[&str]) -> OrganisationId {
        let domains: Vec<String> = domains.iter().map(|d| d.to_string()).collect();
        staffroom::cli::create_organisation(&self.pool, name, &domains).unwrap()
    }

    /// An organisation admitting nhs.net and nhs.uk.
    pub fn nhs_org(&self) -> OrganisationId {
        self.create_org("East London NHS Foundation Trust", &["nhs.net", "nhs.uk"])
    }

    /// A verified, active account with `PASSWORD`, not yet enrolled in two-factor.
    pub fn create_user(&self, org: OrganisationId, email: &str) -> TestUser {
        self.create_named_user(org, email, "Amy", "Okonkwo")
    }

    pub fn create_named_user(
        &self,
        org: OrganisationId,
        email: &str,
        first_name: &str,
        surname: &str,
    ) -> TestUser {
        let id = staffroom::cli::create_user(
            &self.pool,
            &self.base_url,
            staffroom::cli::NewAccount {
                org,
                email: email.into(),
                first_name: first_name.into(),
                surname: surname.into(),
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

    /// A user who has enrolled an authenticator; the browser is left signed out.
    pub async fn enrolled_user(&self, email: &str) -> TestUser {
        let org = self.nhs_org();
        let mut user = self.create_user(org, email);
        let browser = self.new_browser();
        browser.log_in(&user.email, &user.password).await;
        let (secret, _codes) = browser.enrol().await;
        user.totp_secret = Some(secret);
        browser.log_out().await;
        user
    }

    /// Someone in `org`, enrolled and signed in in a browser of their own.
    pub async fn person(
        &self,
        org: OrganisationId,
        email: &str,
        first_name: &str,
        surname: &str,
    ) -> Person {
        let user = self.create_named_user(org, email, first_name, surname);
        self.signed_in(user).await
    }

    /// A trust administrator of `org` (Tara Adeyemi, with the built-in role), enrolled and
    /// signed in.
    pub async fn trust_admin(&self, org: OrganisationId, email: &str) -> Person {
        let id = staffroom::cli::create_user(
            &self.pool,
            &self.base_url,
            staffroom::cli::NewAccount {
                org,
                email: email.into(),
                first_name: "Tara".into(),
                surname: "Adeyemi".into(),
                trust_admin: true,
                password: Some(PASSWORD.into()),
            },
        )
        .unwrap();
        let user = TestUser {
            id,
            email: email.into(),
            password: PASSWORD.into(),
            totp_secret: None,
        };
        self.signed_in(user).await
    }

    /// Signs the user in, in a browser of their own, enrolling their authenticator.
    async fn signed_in(&self, mut user: TestUser) -> Person {
        let browser = self.new_browser();
        browser.log_in(&user.email, &user.password).await;
        let (secret, _codes) = browser.enrol().await;
        user.totp_secret = Some(secret);
        Person { user, browser }
    }

    /// `false` stops new connections to the test's database and ends the open ones; `true`
    /// lets them in again.
    pub fn database_reachable(&self, reachable: bool) {
        let database_url = &self.database_url;
        use diesel::RunQueryDsl;
        let name = database_url
            .split('/')
            .nth(3)
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let admin_url = database_url.replace(&format!("/{name}?"), "/postgres?");
        let admin =
            &mut <diesel::PgConnection as diesel::Connection>::establish(&admin_url).unwrap();
        diesel::sql_query(format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS {reachable}"
        ))
        .execute(admin)
        .unwrap();
        if !reachable {
            diesel::sql_query(format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ))
            .execute(admin)
            .unwrap();
        }
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// A signed-in person and their browser.
pub struct Person {
    pub user: TestUser,
    pub browser: Browser,
}

#[allow(dead_code)]
pub struct TestUser {
    pub id: UserId,
    pub email: String,
    pub password: String,
    pub totp_secret: Option<Vec<u8>>,
}

impl TestUser {
    /// The code for the current step plus `offset` steps.
    pub fn code(&self, offset: i64) -> String {
        let secret = self.totp_secret.as_ref().expect("enrolled");
        staffroom::auth::totp::code_for_step(secret, staffroom::auth::totp::current_step() + offset)
    }
}

// ---------------------------------------------------------------- the browser

/// A cookie-keeping HTTP client that does not follow redirects.
pub struct Browser {
    pub client: reqwest::Client,
    pub base_url: String,
    jar: Arc<reqwest::cookie::Jar>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn csrf(&self) -> String {
        attribute_after(&self.body, "name=\"csrf_token\" value=\"")
            .expect("the page has a form with a CSRF token")
    }

    pub fn assert_redirect_to(&self, path: &str) {
        assert_eq!(
            self.status, 303,
            "expected a redirect to {path}, got {}:\n{}",
            self.status, self.body
        );
        assert_eq!(self.location.as_deref(), Some(path));
    }

    pub fn element_text(&self, id: &str) -> String {
        let start = self
            .body
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id} in:\n{}", self.body));
        let after = &self.body[start..];
        let open = after.find('>').unwrap() + 1;
        let close = after[open..].find('<').unwrap() + open;
        after[open..close].trim().to_string()
    }

    /// The text inside the element with this id, its children's included (tags dropped,
    /// whitespace collapsed).
    pub fn inner_text(&self, id: &str) -> String {
        let at = self
            .body
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id} in:\n{}", self.body));
        let start = self.body[..at].rfind('<').unwrap();
        let tag: String = self.body[start + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
        let mut depth = 0;
        let mut i = start;
        let end = loop {
            let next_open = self.body[i + 1..].find(&open).map(|n| n + i + 1);
            let next_close = self.body[i + 1..].find(&close).map(|n| n + i + 1).unwrap();
            match next_open {
                Some(o) if o < next_close => {
                    depth += 1;
                    i = o;
                }
                _ if depth == 0 => break next_close,
                _ => {
                    depth -= 1;
                    i = next_close;
                }
            }
        };
        let inner = &self.body[self.body[start..].find('>').unwrap() + start + 1..end];
        let mut text = String::new();
        let mut in_tag = false;
        for c in inner.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    text.push(' ');
                }
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

pub fn attribute_after(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

impl Browser {
    pub fn new(base_url: &str) -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        Self {
            jar: jar.clone(),
            client: reqwest::Client::builder()
                .cookie_provider(jar)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                // Below the server's 5-second keep-alive: a connection the server may have
                // closed while the test was busy is never reused.
                .pool_idle_timeout(Duration::from_secs(3))
                .build()
                .unwrap(),
            base_url: base_url.to_string(),
        }
    }

    /// The Cookie header this browser sends (to replay it from elsewhere).
    pub fn cookie_header(&self) -> String {
        use reqwest::cookie::CookieStore;
        self.jar
            .cookies(&self.base_url.parse().unwrap())
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base_url)
        }
    }

    async fn page(response: reqwest::Response) -> Page {
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

    pub async fn get(&self, path: &str) -> Page {
        Self::page(self.client.get(self.url(path)).send().await.unwrap()).await
    }

    /// POSTs exactly these fields (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        Self::page(
            self.client
                .post(self.url(path))
                .form(fields)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Opens `form_page`, takes its CSRF token, and POSTs `fields` with it to `action`.
    pub async fn submit(&self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.get(form_page).await.csrf();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &csrf));
        self.post_raw(action, &all).await
    }

    /// POSTs with a CSRF token taken from the home page or sign-in page of this session.
    pub async fn post(&self, action: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &csrf));
        self.post_raw(action, &all).await
    }

    /// The session's CSRF token (from a page every session may open).
    pub async fn csrf(&self) -> String {
        self.get("/signup").await.csrf()
    }

    pub async fn sign_up(
        &self,
        first_name: &str,
        surname: &str,
        email: &str,
        password: &str,
    ) -> Page {
        self.submit(
            "/signup",
            "/signup",
            &[
                ("first_name", first_name),
                ("surname", surname),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// Presses the button on a `/verify/{token}` page, with the password it asks for.
    pub async fn confirm_address(&self, link: &str, password: &str) -> Page {
        self.submit(link, link, &[("password", password)]).await
    }

    /// The first factor.
    pub async fn log_in(&self, email: &str, password: &str) -> Page {
        self.submit(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// The password step with a CSRF token this browser (or another) was given.
    pub async fn log_in_with_token(&self, email: &str, password: &str, csrf: &str) -> Page {
        self.post_raw(
            "/login",
            &[
                ("email", email),
                ("password", password),
                ("csrf_token", csrf),
            ],
        )
        .await
    }

    /// Both factors, with the code `offset` steps from now.
    pub async fn log_in_fully(&self, user: &TestUser, offset: i64) -> Page {
        self.log_in(&user.email, &user.password)
            .await
            .assert_redirect_to("/login/two-factor");
        self.submit(
            "/login/two-factor",
            "/login/two-factor",
            &[("code", &user.code(offset))],
        )
        .await
    }

    /// Enrols an authenticator for the half-signed-in user: returns the secret and the
    /// recovery codes the page shows.
    pub async fn enrol(&self) -> (Vec<u8>, Vec<String>) {
        let page = self.get("/account/two-factor/setup").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let secret_text = page.element_text("totp-secret");
        let secret = totp_rs::Secret::Encoded(secret_text).to_bytes().unwrap();
        let code =
            staffroom::auth::totp::code_for_step(&secret, staffroom::auth::totp::current_step());
        let done = self
            .submit(
                "/account/two-factor/setup",
                "/account/two-factor/setup",
                &[("code", &code)],
            )
            .await;
        assert_eq!(done.status, 200, "{}", done.body);
        (secret, recovery_codes(&done.body))
    }

    pub async fn log_out(&self) -> Page {
        self.post("/logout", &[]).await
    }
}

/// The codes in the `<li>`s inside `#recovery-codes`.
pub fn recovery_codes(html: &str) -> Vec<String> {
    let start = html
        .find("id=\"recovery-codes\"")
        .expect("recovery codes shown");
    let end = html[start..].find("</ul>").unwrap() + start;
    html[start..end]
        .split("<li>")
        .skip(1)
        .map(|li| li.split("</li>").next().unwrap().trim().to_string())
        .collect()
}

// ---------------------------------------------------------------- the SMTP listener

#[derive(Debug, Clone)]
#[allow(dead_code)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl ReceivedMail {
    pub fn subject(&self) -> String {
        self.data
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_string()
    }

    /// The body of the part with this content type.
    pub fn part(&self, content_type: &str) -> String {
        let marker = format!("Content-Type: {content_type}");
        let start = self
            .data
            .find(&marker)
            .unwrap_or_else(|| panic!("no {content_type} part in:\n{}", self.data));
        let body_start = self.data[start..].find("\r\n\r\n").unwrap() + start + 4;
        let body_end = self.data[body_start..]
            .find("\r\n--")
            .map_or(self.data.len(), |e| e + body_start);
        self.data[body_start..body_end].to_string()
    }

    pub fn text(&self) -> String {
        self.part("text/plain")
    }

    /// Every absolute URL in the plain-text part.
    pub fn links(&self) -> Vec<String> {
        self.text()
            .split_whitespace()
            .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
            .map(str::to_string)
            .collect()
    }

    /// The one link whose path starts with `prefix` (e.g. "/verify/").
    pub fn link_to(&self, prefix: &str) -> String {
        self.links()
            .into_iter()
            .find(|l| l.contains(prefix))
            .unwrap_or_else(|| panic!("no {prefix} link in:\n{}", self.text()))
    }
}

/// A minimal SMTP server on loopback that accepts everything and keeps it.
#[derive(Clone)]
pub struct SmtpServer {
    pub port: u16,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
}

impl SmtpServer {
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    pub async fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let server = Self {
            port: listener.local_addr().unwrap().port(),
            received: Arc::new(Mutex::new(Vec::new())),
        };
        let received = server.received.clone();
        actix_web::rt::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let received = received.clone();
                actix_web::rt::spawn(async move {
                    let _ = converse(stream, received).await;
                });
            }
        });
        server
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to 20 s) for the `n`th message (1-based) to `to`.
    pub async fn wait_for_nth(&self, to: &str, n: usize) -> ReceivedMail {
        for _ in 0..200 {
            let found: Vec<ReceivedMail> = self
                .received()
                .into_iter()
                .filter(|m| m.to.iter().any(|t| t == to))
                .collect();
            if found.len() >= n {
                return found[n - 1].clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no message {n} to {to}; received: {:?}",
            self.received()
                .iter()
                .map(|m| (&m.to, m.subject()))
                .collect::<Vec<_>>()
        );
    }

    pub async fn wait_for(&self, to: &str) -> ReceivedMail {
        self.wait_for_nth(to, 1).await
    }

    /// How many messages `to` received after waiting a moment for stragglers.
    pub async fn settled_count(&self, to: &str) -> usize {
        tokio::time::sleep(Duration::from_millis(800)).await;
        self.received()
            .iter()
            .filter(|m| m.to.iter().any(|t| t == to))
            .count()
    }
}

async fn converse(
    stream: tokio::net::TcpStream,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 smtp.test ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_uppercase();
        if upper.starts_with("EHLO") {
            write
                .write_all(b"250-smtp.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                .await?;
        } else if upper.starts_with("HELO")
            || upper.starts_with("RSET")
            || upper.starts_with("NOOP")
        {
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            from = address_in(&command);
            to.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(address_in(&command));
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(
                    line.strip_prefix('.')
                        .filter(|_| line.starts_with(".."))
                        .unwrap_or(&line),
                );
            }
            received.lock().unwrap().push(ReceivedMail {
                from: from.clone(),
                to: to.clone(),
                data,
            });
            write.write_all(b"250 OK queued\r\n").await?;
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"502 Command not implemented\r\n").await?;
        }
    }
}

fn address_in(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command.rfind('>').unwrap_or(command.len());
    command[start..end].to_lowercase()
}
