//! A storm of password sign-ins through HTTP, as at 08:00 in a trust: sign-ins per second
//! against what the machine can hash (one argon2id hash's time, measured here, × CPUs), the
//! signed-in home page's median and p99 while the storm runs against the same when idle, how
//! many were told "too busy" (503), and the server's resident memory at its peak.
//!
//! ```sh
//! cargo run --release --example bench_logins
//! ```
//!
//! The server runs in a child process of this example (the same `Application` and pool of 10
//! as `staffroom serve`), so /proc/{pid}/status gives its memory alone. Each storm client signs
//! its own account in (the password step: one argon2id check each) again and again for
//! BENCH_SECONDS (10); storms of each of BENCH_CONCURRENCY (8,64,256) clients in turn. A
//! client told 503 waits 100 ms and tries again. Meanwhile one signed-in person loads `/`
//! one request after another.

#[path = "support/serve.rs"]
mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use support::{csrf_in, median_p99, setting};

const PASSWORD: &str = "a long benchmark passphrase";

fn main() -> anyhow::Result<()> {
    support::serve_if_child();
    let seconds = setting("BENCH_SECONDS", 10);
    let storms: Vec<usize> = std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "8,64,256".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let most = storms.iter().copied().max().unwrap_or(8);
    let (url, _cluster) = support::database("bench_logins")?;
    let pool = staffroom::db::pool(&url, 2);
    let org = staffroom::cli::create_organisation(&pool, "Bench Trust", &["nhs.net".into()])?;
    let admin = staffroom::cli::create_user(
        &pool,
        "http://127.0.0.1:8080",
        staffroom::cli::NewAccount {
            org,
            email: "tara@nhs.net".into(),
            first_name: "Tara".into(),
            surname: "Adeyemi".into(),
            trust_admin: true,
            password: Some(PASSWORD.into()),
        },
    )?;
    let secret = rand::random::<[u8; 20]>().to_vec();
    let conn = &mut PgConnection::establish(&url)?;
    for statement in [
        format!(
            "INSERT INTO user_totp (user_id, secret, confirmed_at)
             VALUES ('{admin}', '\\x{}', now())",
            hex::encode(&secret)
        ),
        // Every storm account has the same password (one hash, copied).
        format!(
            "INSERT INTO users (id, email, first_name, surname, password_hash, email_verified_at)
             SELECT gen_random_uuid(), 'storm' || g || '@nhs.net', 'Sam', 'Lee' || g,
                    u.password_hash, now()
             FROM generate_series(1, {most}) g, users u WHERE u.id = '{admin}'"
        ),
        format!(
            "INSERT INTO organisation_members (organisation_id, user_id)
             SELECT '{org}', id FROM users WHERE email LIKE 'storm%@nhs.net'"
        ),
        "ANALYZE".to_string(),
    ] {
        diesel::sql_query(statement).execute(conn)?;
    }

    // One hash's time, here, one at a time (as a sign-in's check runs it).
    let stored: String = {
        #[derive(diesel::QueryableByName)]
        struct Hash {
            #[diesel(sql_type = diesel::sql_types::Text)]
            password_hash: String,
        }
        diesel::sql_query(format!(
            "SELECT password_hash FROM users WHERE id = '{admin}'"
        ))
        .get_result::<Hash>(conn)?
        .password_hash
    };
    let candidate = secrecy::SecretString::from(PASSWORD.to_string());
    let mut hashes = Vec::new();
    for _ in 0..30 {
        let started = Instant::now();
        assert!(staffroom::auth::password::verify_blocking(
            &candidate,
            Some(&stored)
        )?);
        hashes.push(started.elapsed());
    }
    let (hash_time, _) = median_p99(&mut hashes);
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let ceiling = cpus as f64 / hash_time.as_secs_f64();
    println!(
        "one argon2id check: {hash_time:.1?} (median of 30); ceiling {cpus} CPUs / that = {ceiling:.1} sign-ins/s"
    );

    let server = support::spawn_server(&url, &[])?;
    let base_url = server.base_url.clone();
    actix_web::rt::System::new().block_on(async move {
        let home = support::sign_in(&base_url, "tara@nhs.net", PASSWORD, &secret).await?;
        let home_url = format!("{base_url}/");
        anyhow::ensure!(
            home.get(&home_url).send().await?.status().as_u16() == 200,
            "the home page does not answer 200"
        );
        let idle = sample_home(&home, &home_url, Duration::from_secs(3)).await?;
        let (idle_median, idle_p99) = idle;
        let (rss, peak) = server.memory_mib()?;
        println!("home page idle: median {idle_median:.2?}, p99 {idle_p99:.2?}; server memory {rss:.0} MiB (peak {peak:.0} MiB so far)");
        println!(
            "{:>8} {:>12} {:>10} {:>8} {:>8} {:>14} {:>14} {:>10}",
            "clients", "sign-ins/s", "vs ceiling", "503s", "other", "home median", "home p99", "peak RSS"
        );
        for clients in storms {
            let (per_second, busy, other, home_figures) =
                storm(&base_url, clients, Duration::from_secs(seconds), &home, &home_url).await?;
            let (_, peak) = server.memory_mib()?;
            println!(
                "{clients:>8} {per_second:>12.1} {:>9.0}% {busy:>8} {other:>8} {:>14.2?} {:>14.2?} {:>6.0} MiB",
                per_second / ceiling * 100.0,
                home_figures.0,
                home_figures.1,
                peak
            );
        }
        let (rss, peak) = server.memory_mib()?;
        println!("server memory at the end: {rss:.0} MiB resident, peak {peak:.0} MiB (VmHWM)");
        anyhow::Ok(())
    })?;
    Ok(())
}

/// The home page, one request after another for `how_long`: median and p99.
async fn sample_home(
    client: &reqwest::Client,
    url: &str,
    how_long: Duration,
) -> anyhow::Result<(Duration, Duration)> {
    let mut times = Vec::new();
    let until = Instant::now() + how_long;
    while Instant::now() < until {
        let started = Instant::now();
        let response = client.get(url).send().await?;
        anyhow::ensure!(
            response.status().as_u16() == 200,
            "home answered {}",
            response.status()
        );
        response.bytes().await?;
        times.push(started.elapsed());
    }
    Ok(median_p99(&mut times))
}

/// `clients` sign-in loops for `how_long` while the home page is sampled: sign-ins per
/// second, 503s, other answers, and the home page's median and p99 meanwhile.
async fn storm(
    base_url: &str,
    clients: usize,
    how_long: Duration,
    home: &reqwest::Client,
    home_url: &str,
) -> anyhow::Result<(f64, u64, u64, (Duration, Duration))> {
    let signed_in = Arc::new(AtomicU64::new(0));
    let busy = Arc::new(AtomicU64::new(0));
    let other = Arc::new(AtomicU64::new(0));
    // Each client's signed-out CSRF cookie and token, fetched before the clock starts.
    let mut ready = Vec::new();
    for i in 1..=clients {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let response = client.get(format!("{base_url}/login")).send().await?;
        let cookie: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().to_string())
            .collect();
        let token = csrf_in(&response.text().await?)?;
        ready.push((
            client,
            cookie.join("; "),
            token,
            format!("storm{i}@nhs.net"),
        ));
    }
    let started = Instant::now();
    let until = started + how_long;
    let mut tasks = Vec::new();
    for (client, cookie, token, email) in ready {
        let (signed_in, busy, other) = (signed_in.clone(), busy.clone(), other.clone());
        let url = format!("{base_url}/login");
        tasks.push(actix_web::rt::spawn(async move {
            while Instant::now() < until {
                let answer = client
                    .post(&url)
                    .header("cookie", &cookie)
                    .form(&[
                        ("email", email.as_str()),
                        ("password", PASSWORD),
                        ("csrf_token", &token),
                    ])
                    .send()
                    .await;
                match answer.map(|r| r.status().as_u16()) {
                    Ok(303) => {
                        signed_in.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(503) => {
                        busy.fetch_add(1, Ordering::Relaxed);
                        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
                    }
                    _ => {
                        other.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    // Let the storm build before sampling the home page.
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let home_figures = sample_home(
        home,
        home_url,
        how_long.saturating_sub(Duration::from_secs(1)),
    )
    .await?;
    for task in tasks {
        task.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok((
        signed_in.load(Ordering::Relaxed) as f64 / elapsed,
        busy.load(Ordering::Relaxed),
        other.load(Ordering::Relaxed),
        home_figures,
    ))
}
