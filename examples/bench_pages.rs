//! Requests per second and p99 of the signed-in home, a workspace's Users page (50 members) and
//! anonymous /login, each against a bare page served beside the app from the same pool: a
//! trivial actix-web handler, one query, an askama render, no session (TechEmpower's "fortunes").
//! The ratio to the bare page, not the absolute figure, is what carries from machine to machine.
//!
//! ```sh
//! apt-get install wrk        # the load generator
//! cargo run --release --example bench_pages
//! ```
//!
//! It starts a throwaway embedded PostgreSQL under the system's temporary directory (or uses
//! DATABASE_URL, where it adds its rows to a new organisation), seeds an organisation, a trust
//! administrator with a password and an authenticator, and a workspace of 50 members, signs the
//! administrator in over HTTP (password, then a code from the stored secret), and loads each
//! target with `wrk` (32 connections) in alternating rounds, the bare page in every round.
//! Settings: BENCH_ROUNDS (3), BENCH_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_POOL (10, the
//! pool size `serve` uses, shared by the app and the bare page), BENCH_ONLY (a word of one
//! target's label: that target alone beside the bare page). Request log lines are
//! off (RUST_LOG=warn) unless RUST_LOG says otherwise.

use std::process::Command;
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::{bail, ensure, Context};
use askama::Template;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use staffroom::config::Settings;
use staffroom::db::PgPool;
use staffroom::startup::Application;

const PASSWORD: &str = "a long benchmark passphrase";
const MEMBERS: i64 = 50;

fn setting(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    if Command::new("wrk").arg("--version").output().is_err() {
        bail!(
            "wrk is not installed. On Debian or Ubuntu: apt-get install wrk \
             (elsewhere: https://github.com/wg/wrk)"
        );
    }
    if std::env::var_os("RUST_LOG").is_none() {
        // One log line per request would measure the terminal.
        std::env::set_var("RUST_LOG", "warn");
    }
    staffroom::telemetry::init(staffroom::config::LogFormat::Text);

    let (url, _cluster) = match std::env::var("DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let dir = std::env::temp_dir().join("staffroom-bench-pages");
            let cluster = staffroom::db::embedded::EmbeddedPostgres::start(
                &dir,
                staffroom::db::embedded::Options { ephemeral: true },
            )?;
            // A fresh database each run: no sessions or throttles left from the last one.
            let mut admin = PgConnection::establish(&cluster.database_url("postgres"))?;
            diesel::sql_query("DROP DATABASE IF EXISTS bench_pages WITH (FORCE)")
                .execute(&mut admin)?;
            cluster.ensure_database("bench_pages")?;
            (cluster.database_url("bench_pages"), Some(cluster))
        }
    };
    staffroom::db::run_migrations(&url)?;
    // 10 is the size `staffroom serve` uses.
    let pool = staffroom::db::pool(&url, setting("BENCH_POOL", 10));
    let seeded = seed(&pool, &url)?;

    let mut settings = Settings::from_env()?;
    settings.database_url = Some(url.clone().into());
    settings.data_dir = std::env::temp_dir();
    settings.bind = "127.0.0.1:0".into();
    settings.base_url = "http://127.0.0.1:0".into();
    settings.secret_key = Some(hex::encode(rand::random::<[u8; 32]>().repeat(2)).into());
    settings.smtp_url = None;

    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings, pool.clone()).await?;
        let base_url = app.base_url().to_string();
        actix_web::rt::spawn(app.run_until_stopped());
        let bare_url = serve_bare_page(pool.clone())?;

        let cookie = sign_in(&base_url, &seeded).await?;
        let users_path = format!("/workspaces/{}/settings/users", seeded.workspace);
        let targets = [
            Target::new("bare page (fortunes)", bare_url, None),
            Target::new("signed-in home /", format!("{base_url}/"), Some(&cookie)),
            Target::new(
                "Users page, 50 members",
                format!("{base_url}{users_path}"),
                Some(&cookie),
            ),
            Target::new("anonymous /login", format!("{base_url}/login"), None),
        ];
        // BENCH_ONLY=home (a word of a label) loads that target alone beside the bare page.
        let only = std::env::var("BENCH_ONLY").unwrap_or_default();
        let targets: Vec<Target> = targets
            .into_iter()
            .enumerate()
            .filter(|(i, t)| *i == 0 || t.label.contains(only.as_str()))
            .map(|(_, t)| t)
            .collect();
        for target in &targets {
            target.check(&seeded).await?;
        }
        run_rounds(&targets, &seeded).await
    })
}

// ---------------------------------------------------------------- the seed

struct Seeded {
    email: String,
    totp_secret: Vec<u8>,
    workspace: uuid::Uuid,
    workspace_name: String,
    /// A member listed on the Users page.
    member_name: String,
}

fn seed(pool: &PgPool, url: &str) -> anyhow::Result<Seeded> {
    let suffix = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let org = staffroom::cli::create_organisation(
        pool,
        &format!("Bench NHS Trust {suffix}"),
        &["nhs.net".into()],
    )?;
    let email = format!("tara.adeyemi.{suffix}@nhs.net");
    let admin = staffroom::cli::create_user(
        pool,
        "http://127.0.0.1:8080",
        staffroom::cli::NewAccount {
            org,
            email: email.clone(),
            first_name: "Tara".into(),
            surname: "Adeyemi".into(),
            trust_admin: true,
            password: Some(PASSWORD.into()),
        },
    )?;
    let totp_secret = rand::random::<[u8; 20]>().to_vec();
    let workspace = uuid::Uuid::new_v4();
    let workspace_name = format!("Ward 2 Nurses {suffix}");
    let conn = &mut PgConnection::establish(url)?;
    let statements = [
        // An enrolled authenticator, as the set-up page leaves it.
        format!(
            "INSERT INTO user_totp (user_id, secret, confirmed_at)
             VALUES ('{admin}', '\\x{}', now())",
            hex::encode(&totp_secret)
        ),
        // The 50-member workspace (the administrator is its admin) and two small ones, so that
        // the switcher lists more than one.
        format!(
            "INSERT INTO workspaces (id, organisation_id, name, specialty_code, created_by)
             VALUES ('{workspace}', '{org}', '{workspace_name}', '950', '{admin}'),
                    (md5('{suffix}a')::uuid, '{org}', 'Cardiology {suffix}', '320', '{admin}'),
                    (md5('{suffix}b')::uuid, '{org}', 'Acute Medicine {suffix}', '326', '{admin}')"
        ),
        format!(
            "INSERT INTO workspace_members (workspace_id, user_id, status, role, approved_at)
             SELECT id, '{admin}', 'approved', 'admin', now() FROM workspaces
             WHERE organisation_id = '{org}'"
        ),
        format!(
            "INSERT INTO users (id, email, first_name, surname, email_verified_at)
             SELECT md5('{suffix}' || g)::uuid, 'member' || g || '.{suffix}@nhs.net',
                    (ARRAY['Amy', 'Ben', 'Chidi', 'Dev', 'Ewa', 'Farah', 'Gus'])[1 + g % 7],
                    'Member' || g, now()
             FROM generate_series(1, {others}) g",
            others = MEMBERS - 1
        ),
        format!(
            "INSERT INTO organisation_members (organisation_id, user_id)
             SELECT '{org}', md5('{suffix}' || g)::uuid FROM generate_series(1, {others}) g",
            others = MEMBERS - 1
        ),
        format!(
            "INSERT INTO workspace_members (workspace_id, user_id, status, role, approved_at,
                                            approved_by)
             SELECT '{workspace}', md5('{suffix}' || g)::uuid, 'approved', 'member', now(),
                    '{admin}'
             FROM generate_series(1, {others}) g",
            others = MEMBERS - 1
        ),
        // The bare page's table.
        "CREATE TABLE IF NOT EXISTS bench_fortunes (id int PRIMARY KEY, message text NOT NULL)"
            .to_string(),
        "INSERT INTO bench_fortunes (id, message) VALUES
            (1, 'fortune: No such file or directory'),
            (2, 'A computer scientist is someone who fixes things that aren''t broken.'),
            (3, 'After enough decimal places, nobody gives a damn.'),
            (4, 'A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1'),
            (5, 'A computer program does what you tell it to do, not what you want it to do.'),
            (6, 'Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen'),
            (7, 'Any program that runs right is obsolete.'),
            (8, 'A list is only as strong as its weakest link. — Donald Knuth'),
            (9, 'Feature: A bug with seniority.'),
            (10, 'Computers make very fast, very accurate mistakes.'),
            (11, '<script>alert(\"This should not be displayed in a browser alert box.\");</script>'),
            (12, 'フレームワークのベンチマーク')
         ON CONFLICT (id) DO NOTHING"
            .to_string(),
        "ANALYZE".to_string(),
    ];
    for statement in statements {
        diesel::sql_query(&statement)
            .execute(conn)
            .with_context(|| statement.clone())?;
    }
    Ok(Seeded {
        email,
        totp_secret,
        workspace,
        workspace_name,
        // The Users page shows its first 25 members by surname: any seeded member will do.
        member_name: "Member".to_string(),
    })
}

// ---------------------------------------------------------------- the bare page

#[derive(QueryableByName)]
struct Fortune {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    id: i32,
    #[diesel(sql_type = diesel::sql_types::Text)]
    message: String,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = "<!DOCTYPE html><html lang=\"en\"><head><title>Fortunes</title></head><body>\
<table><tr><th>id</th><th>message</th></tr>\
{% for f in fortunes %}<tr><td>{{ f.id }}</td><td>{{ f.message }}</td></tr>{% endfor %}\
</table></body></html>"
)]
struct FortunesPage {
    fortunes: Vec<Fortune>,
}

/// One query through the same pool and `web::block`, an askama render: the stack's own speed.
async fn fortunes(pool: web::Data<PgPool>) -> actix_web::Result<HttpResponse> {
    let pool = pool.clone();
    let mut rows = web::block(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        diesel::sql_query("SELECT id, message FROM bench_fortunes")
            .load::<Fortune>(&mut conn)
            .map_err(|e| e.to_string())
    })
    .await?
    .map_err(actix_web::error::ErrorInternalServerError)?;
    rows.push(Fortune {
        id: 0,
        message: "Additional fortune added at request time.".into(),
    });
    rows.sort_by(|a, b| a.message.cmp(&b.message));
    let html = FortunesPage { fortunes: rows }
        .render()
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// Serves the bare page on its own loopback port, with as many workers as the app.
fn serve_bare_page(pool: PgPool) -> anyhow::Result<String> {
    let pool = web::Data::new(pool);
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(pool.clone())
            .route("/fortunes", web::get().to(fortunes))
    })
    .listen(listener)?
    .workers(
        std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(2, 8),
    )
    .run();
    actix_web::rt::spawn(server);
    Ok(format!("http://127.0.0.1:{port}/fortunes"))
}

// ---------------------------------------------------------------- signing in over HTTP

fn csrf_in(html: &str) -> anyhow::Result<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).context("no CSRF token on the page")? + marker.len();
    let end = html[start..].find('"').context("unterminated CSRF token")? + start;
    Ok(html[start..end].to_string())
}

/// Password, then the authenticator code from the stored secret, then the 50-member workspace
/// chosen in the switcher. Returns the Cookie header that carries the session.
async fn sign_in(base_url: &str, seeded: &Seeded) -> anyhow::Result<String> {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let redirect = |response: &reqwest::Response| {
        response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };

    let login = client
        .get(format!("{base_url}/login"))
        .send()
        .await?
        .text()
        .await?;
    let response = client
        .post(format!("{base_url}/login"))
        .form(&[
            ("email", seeded.email.as_str()),
            ("password", PASSWORD),
            ("csrf_token", &csrf_in(&login)?),
        ])
        .send()
        .await?;
    ensure!(
        redirect(&response).as_deref() == Some("/login/two-factor"),
        "the password step answered {} {:?}",
        response.status(),
        redirect(&response)
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
        seeded.totp_secret.clone(),
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
        redirect(&response).as_deref() == Some("/"),
        "the code step answered {} {:?}",
        response.status(),
        redirect(&response)
    );

    let home = client
        .get(format!("{base_url}/"))
        .send()
        .await?
        .text()
        .await?;
    let response = client
        .post(format!("{base_url}/workspaces/{}/switch", seeded.workspace))
        .form(&[("csrf_token", csrf_in(&home)?)])
        .send()
        .await?;
    ensure!(
        response.status().as_u16() == 303,
        "choosing the workspace answered {}",
        response.status()
    );

    use reqwest::cookie::CookieStore;
    let cookie = jar
        .cookies(&base_url.parse()?)
        .context("no session cookie after signing in")?;
    Ok(cookie.to_str()?.to_string())
}

// ---------------------------------------------------------------- loading with wrk

struct Target {
    label: &'static str,
    url: String,
    cookie: Option<String>,
}

impl Target {
    fn new(label: &'static str, url: String, cookie: Option<&str>) -> Self {
        Self {
            label,
            url,
            cookie: cookie.map(str::to_string),
        }
    }

    /// The page answers 200 with what it should show, to the same request wrk sends: a
    /// signed-in page must not be a redirect to /login (wrk counts 3xx as success).
    async fn check(&self, seeded: &Seeded) -> anyhow::Result<usize> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let mut request = client.get(&self.url);
        if let Some(cookie) = &self.cookie {
            request = request.header("Cookie", cookie);
        }
        let response = request.send().await?;
        let status = response.status();
        let body = response.text().await?;
        ensure!(
            status == 200,
            "{} ({}) answered {status}, not 200: the figures would be meaningless",
            self.label,
            self.url
        );
        if self.cookie.is_some() {
            ensure!(
                body.contains(&seeded.workspace_name),
                "{} does not show the workspace {}",
                self.label,
                seeded.workspace_name
            );
        }
        if self.url.ends_with("/settings/users") {
            ensure!(
                body.contains(&seeded.member_name),
                "the Users page does not list {}",
                seeded.member_name
            );
        }
        Ok(body.len())
    }
}

#[derive(Clone, Debug, Default)]
struct Run {
    requests_per_second: f64,
    p99: Duration,
    requests: u64,
    non_2xx_3xx: u64,
    socket_errors: String,
    bytes_per_response: f64,
}

async fn wrk(target: &Target, seconds: u32, connections: u32) -> anyhow::Result<Run> {
    let mut args = vec![
        "--threads".to_string(),
        "2".into(),
        "--connections".into(),
        connections.to_string(),
        "--duration".into(),
        format!("{seconds}s"),
        "--timeout".into(),
        "10s".into(),
        "--latency".into(),
    ];
    if let Some(cookie) = &target.cookie {
        args.extend(["--header".into(), format!("Cookie: {cookie}")]);
    }
    args.push(target.url.clone());
    let output =
        actix_web::rt::task::spawn_blocking(move || Command::new("wrk").args(&args).output())
            .await??;
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    ensure!(
        output.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    parse_wrk(&text).with_context(|| format!("cannot read wrk's output:\n{text}"))
}

/// Reads `Requests/sec`, the 99% latency, the request and byte totals, and the error lines.
fn parse_wrk(text: &str) -> anyhow::Result<Run> {
    let mut run = Run::default();
    let mut bytes = None;
    for line in text.lines().map(str::trim) {
        if let Some(rps) = line.strip_prefix("Requests/sec:") {
            run.requests_per_second = rps.trim().parse()?;
        } else if let Some(p99) = line.strip_prefix("99%") {
            run.p99 = duration(p99.trim())?;
        } else if let Some(n) = line.strip_prefix("Non-2xx or 3xx responses:") {
            run.non_2xx_3xx = n.trim().parse()?;
        } else if let Some(errors) = line.strip_prefix("Socket errors:") {
            run.socket_errors = errors.trim().to_string();
        } else if let Some((n, rest)) = line.split_once(" requests in ") {
            run.requests = n.trim().parse()?;
            let read = rest.rsplit(", ").next().unwrap_or_default();
            bytes = Some(size(read.trim_end_matches(" read"))?);
        }
    }
    ensure!(
        run.requests_per_second > 0.0 && run.requests > 0,
        "no requests/sec"
    );
    run.bytes_per_response = bytes.unwrap_or(0.0) / run.requests as f64;
    Ok(run)
}

/// wrk's `1.23ms`, `456.00us`, `1.02s`, `1.50m`.
fn duration(text: &str) -> anyhow::Result<Duration> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .context("no unit")?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse()?;
    let seconds = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        other => bail!("unknown unit {other}"),
    };
    Ok(Duration::from_secs_f64(seconds))
}

/// wrk's `12.34MB` (binary multiples).
fn size(text: &str) -> anyhow::Result<f64> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let factor = match unit {
        "B" | "" => 1.0,
        "KB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        other => bail!("unknown unit {other}"),
    };
    Ok(number.parse::<f64>()? * factor)
}

/// The 1, 5 and 15-minute load averages (Linux), to tell a quiet run from a busy one.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".into(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn run_rounds(targets: &[Target], seeded: &Seeded) -> anyhow::Result<()> {
    let rounds = setting("BENCH_ROUNDS", 3).max(1) as usize;
    let seconds = setting("BENCH_SECONDS", 10).max(1);
    let connections = setting("BENCH_CONNECTIONS", 32).max(1);
    eprintln!(
        "wrk, {connections} connections, {rounds} rounds of {seconds} s per target \
         (after a 3 s warm-up each); load average before: {}",
        load_average()
    );
    for target in targets {
        wrk(target, 3, connections).await?;
    }

    // runs[target][round]
    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); targets.len()];
    println!(
        "{:<5} {:<24} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9}",
        "round", "target", "req/s", "p99 ms", "vs bare", "p99/bare", "non-2xx", "KB/resp"
    );
    for round in 1..=rounds {
        for (i, target) in targets.iter().enumerate() {
            let run = wrk(target, seconds, connections).await?;
            // This round's bare page (the first target of each round).
            let bare = if i == 0 {
                run.clone()
            } else {
                runs[0][round - 1].clone()
            };
            println!(
                "{round:<5} {:<24} {:>9.0} {:>9.2} {:>7.2}x {:>8.2}x {:>9} {:>9.1}{}",
                target.label,
                run.requests_per_second,
                ms(run.p99),
                run.requests_per_second / bare.requests_per_second,
                ms(run.p99) / ms(bare.p99),
                run.non_2xx_3xx,
                run.bytes_per_response / 1024.0,
                if run.socket_errors.is_empty() {
                    String::new()
                } else {
                    format!("  socket errors: {}", run.socket_errors)
                }
            );
            runs[i].push(run);
        }
    }
    // The session must have lasted: a signed-in page that turned into a redirect would have
    // been counted as fast successes.
    for target in targets {
        target
            .check(seeded)
            .await
            .context("after the load: the figures above are not to be trusted")?;
    }

    println!();
    println!("median over {rounds} rounds ({connections} connections, {seconds} s each):");
    println!(
        "{:<24} {:>9} {:>9} {:>8} {:>9}",
        "target", "req/s", "p99 ms", "vs bare", "p99/bare"
    );
    for (i, target) in targets.iter().enumerate() {
        let rps = median(runs[i].iter().map(|r| r.requests_per_second).collect());
        let p99 = median(runs[i].iter().map(|r| ms(r.p99)).collect());
        let ratio = median(
            (0..rounds)
                .map(|r| runs[i][r].requests_per_second / runs[0][r].requests_per_second)
                .collect(),
        );
        let p99_ratio = median(
            (0..rounds)
                .map(|r| ms(runs[i][r].p99) / ms(runs[0][r].p99))
                .collect(),
        );
        println!(
            "{:<24} {rps:>9.0} {p99:>9.2} {ratio:>7.2}x {p99_ratio:>8.2}x",
            target.label
        );
    }
    // Anything else busy on the machine (a build, say) skews the figures: say so.
    eprintln!("load average after: {}", load_average());
    let failed: u64 = runs.iter().flatten().map(|r| r.non_2xx_3xx).sum();
    ensure!(
        failed == 0,
        "{failed} responses were neither 2xx nor 3xx: see the non-2xx column"
    );
    Ok(())
}
