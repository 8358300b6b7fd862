//! What the scale benchmarks share: a throwaway embedded PostgreSQL, the server in a child
//! process of its own (so that its memory is measured alone, from /proc), and signing in over
//! HTTP with the password and a code from a stored authenticator secret.

#![allow(dead_code)]

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use diesel::{Connection, PgConnection, RunQueryDsl};

/// The cluster (kept alive by the caller) and a fresh database's URL.
pub fn database(
    name: &str,
) -> anyhow::Result<(String, Option<staffroom::db::embedded::EmbeddedPostgres>)> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return Ok((url, None));
    }
    let dir = std::env::temp_dir().join(format!("staffroom-{name}"));
    let cluster = staffroom::db::embedded::EmbeddedPostgres::start(
        &dir,
        staffroom::db::embedded::Options { ephemeral: true },
    )?;
    let mut admin = PgConnection::establish(&cluster.database_url("postgres"))?;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)?;
    cluster.ensure_database(name)?;
    let url = cluster.database_url(name);
    staffroom::db::run_migrations(&url)?;
    Ok((url, Some(cluster)))
}

/// When this process is the child that `spawn_server` started: serve as `staffroom serve`
/// does (a pool of 10, the same Application), and never return.
pub fn serve_if_child() {
    if std::env::var_os("BENCH_SERVER_CHILD").is_none() {
        return;
    }
    let result = (|| -> anyhow::Result<()> {
        staffroom::telemetry::init(staffroom::config::LogFormat::Text);
        let settings = staffroom::config::Settings::from_env()?;
        let url = std::env::var("DATABASE_URL")?;
        let pool = staffroom::db::pool(&url, 10);
        actix_web::rt::System::new().block_on(async move {
            let app = staffroom::startup::Application::build(settings, pool).await?;
            app.run_until_stopped().await?;
            anyhow::Ok(())
        })
    })();
    if let Err(e) = result {
        eprintln!("server: {e:#}");
        std::process::exit(1);
    }
    std::process::exit(0);
}

/// The server, running in a child process on a free loopback port.
pub struct Server {
    pub child: Child,
    pub base_url: String,
}

impl Server {
    /// The child's resident memory now and at its peak (VmRSS, VmHWM), in MiB.
    pub fn memory_mib(&self) -> anyhow::Result<(f64, f64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let field = |name: &str| -> anyhow::Result<f64> {
            let line = status
                .lines()
                .find(|l| l.starts_with(name))
                .with_context(|| format!("no {name} in /proc/.../status"))?;
            let kb: f64 = line
                .split_whitespace()
                .nth(1)
                .context("a number")?
                .parse()?;
            Ok(kb / 1024.0)
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn spawn_server(url: &str, extra: &[(&str, &str)]) -> anyhow::Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let bind = format!("127.0.0.1:{port}");
    let mut command = Command::new(std::env::current_exe()?);
    command
        .env("BENCH_SERVER_CHILD", "1")
        .env("DATABASE_URL", url)
        .env("STAFFROOM_BIND", &bind)
        .env("STAFFROOM_DEV_MAILBOX", "off")
        .env(
            "STAFFROOM_SECRET_KEY",
            hex::encode(rand::random::<[u8; 32]>().repeat(2)),
        )
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        );
    for (name, value) in extra {
        command.env(name, value);
    }
    let child = command.spawn()?;
    let server = Server {
        child,
        base_url: format!("http://{bind}"),
    };
    let started = Instant::now();
    loop {
        if std::net::TcpStream::connect(&bind).is_ok() {
            return Ok(server);
        }
        ensure!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn csrf_in(html: &str) -> anyhow::Result<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).context("no CSRF token on the page")? + marker.len();
    let end = html[start..].find('"').context("unterminated CSRF token")? + start;
    Ok(html[start..end].to_string())
}

pub fn client() -> anyhow::Result<(reqwest::Client, std::sync::Arc<reqwest::cookie::Jar>)> {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    Ok((client, jar))
}

/// Password, then the authenticator code from `secret`: a client whose cookies carry the
/// session.
pub async fn sign_in(
    base_url: &str,
    email: &str,
    password: &str,
    secret: &[u8],
) -> anyhow::Result<reqwest::Client> {
    let (client, _jar) = client()?;
    let login = client
        .get(format!("{base_url}/login"))
        .send()
        .await?
        .text()
        .await?;
    let response = client
        .post(format!("{base_url}/login"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &csrf_in(&login)?),
        ])
        .send()
        .await?;
    ensure!(
        response.status().as_u16() == 303,
        "the password step answered {}",
        response.status()
    );
    let page = client
        .get(format!("{base_url}/login/two-factor"))
        .send()
        .await?
        .text()
        .await?;
    let code = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        secret.to_vec(),
        Some("Staffroom".into()),
        "bench".into(),
    )?
    .generate_current()?;
    let response = client
        .post(format!("{base_url}/login/two-factor"))
        .form(&[("code", code.as_str()), ("csrf_token", &csrf_in(&page)?)])
        .send()
        .await?;
    ensure!(
        response.status().as_u16() == 303,
        "the code step answered {}",
        response.status()
    );
    Ok(client)
}

/// Sorted durations' median and p99.
pub fn median_p99(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    if times.is_empty() {
        return (Duration::ZERO, Duration::ZERO);
    }
    let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
    (times[times.len() / 2], p99)
}

pub fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
