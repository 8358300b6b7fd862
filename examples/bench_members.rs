//! A workspace of 100,000 members: how fast its Users page answers over HTTP to its admin,
//! for the first page, for page 40 of the members (following Next 39 times), and for a page
//! of the requests waiting, with 2,000 requests and 2,000 invitations beside the members.
//!
//! ```sh
//! cargo run --release --example bench_members
//! ```
//!
//! The server runs in a child process (as `staffroom serve` does); BENCH_MEMBERS (100,000)
//! and BENCH_RUNS (100) change the run. Prints each page's median, p99 and size.

#[path = "support/serve.rs"]
mod support;

use std::time::Instant;

use diesel::{Connection, PgConnection, RunQueryDsl};
use support::{median_p99, setting};

const PASSWORD: &str = "a long benchmark passphrase";

fn next_link(body: &str, list: &str) -> Option<String> {
    let end = body.find("\" rel=\"next\"")?;
    let start = body[..end].rfind("href=\"")? + "href=\"".len();
    let link = body[start..end].replace("&amp;", "&").replace("&#38;", "&");
    link.contains(list).then_some(link)
}

fn main() -> anyhow::Result<()> {
    support::serve_if_child();
    let members = setting("BENCH_MEMBERS", 100_000);
    let runs = setting("BENCH_RUNS", 100) as usize;
    let (url, _cluster) = support::database("bench_members")?;
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
    let workspace = uuid::Uuid::new_v4();
    let conn = &mut PgConnection::establish(&url)?;
    let started = Instant::now();
    for statement in [
        format!(
            "INSERT INTO user_totp (user_id, secret, confirmed_at)
             VALUES ('{admin}', '\\x{}', now())",
            hex::encode(&secret)
        ),
        format!(
            "INSERT INTO workspaces (id, organisation_id, name, specialty_code, created_by)
             VALUES ('{workspace}', '{org}', 'Whole Trust', '950', '{admin}')"
        ),
        format!(
            "INSERT INTO workspace_members (workspace_id, user_id, status, role, approved_at)
             VALUES ('{workspace}', '{admin}', 'approved', 'admin', now())"
        ),
        format!(
            "INSERT INTO users (id, email, first_name, surname, email_verified_at)
             SELECT md5('m' || g)::uuid, 'member' || g || '@nhs.net',
                    (ARRAY['Amy', 'Ben', 'Chidi', 'Dev', 'Ewa', 'Farah', 'Gus'])[1 + g % 7],
                    'Member' || (g % 5000), now()
             FROM generate_series(1, {}) g",
            members + 2000
        ),
        format!(
            "INSERT INTO organisation_members (organisation_id, user_id)
             SELECT '{org}', md5('m' || g)::uuid FROM generate_series(1, {}) g",
            members + 2000
        ),
        format!(
            "INSERT INTO workspace_members (workspace_id, user_id, status, role, approved_at)
             SELECT '{workspace}', md5('m' || g)::uuid, 'approved', 'member', now()
             FROM generate_series(1, {members}) g"
        ),
        format!(
            "INSERT INTO workspace_members (workspace_id, user_id, status, role, request_message)
             SELECT '{workspace}', md5('m' || g)::uuid, 'pending', 'member', 'Please'
             FROM generate_series({}, {}) g",
            members + 1,
            members + 2000
        ),
        format!(
            "INSERT INTO invitations (id, workspace_id, email, role, invited_by, sent_at, expires_at)
             SELECT gen_random_uuid(), '{workspace}', 'invitee' || g || '@nhs.net', 'member',
                    '{admin}', now() - g * interval '1 minute', now() + interval '30 days'
             FROM generate_series(1, 2000) g"
        ),
        "ANALYZE".to_string(),
    ] {
        diesel::sql_query(statement).execute(conn)?;
    }
    eprintln!(
        "seeded {members} members, 2,000 requests and 2,000 invitations in {:.1?}",
        started.elapsed()
    );

    let server = support::spawn_server(&url, &[])?;
    let base_url = server.base_url.clone();
    actix_web::rt::System::new().block_on(async move {
        let client = support::sign_in(&base_url, "tara@nhs.net", PASSWORD, &secret).await?;
        let users = format!("{base_url}/workspaces/{workspace}/settings/users");
        let first = client.get(&users).send().await?.text().await?;
        anyhow::ensure!(
            first.contains("More than 1,000 members"),
            "the first page:\n{first}"
        );
        // Page 40 of the members, and page 2 of the requests, by their Next links.
        let mut page = first.clone();
        for _ in 0..39 {
            let next = next_link(
                &page[page.find("id=\"workspace-members\"").unwrap()..],
                "members_after",
            )
            .ok_or_else(|| anyhow::anyhow!("no Next for members"))?;
            page = client
                .get(format!("{base_url}{next}"))
                .send()
                .await?
                .text()
                .await?;
        }
        let page_40 = format!(
            "{base_url}{}",
            next_link(
                &page[page.find("id=\"workspace-members\"").unwrap()..],
                "members_after"
            )
            .unwrap()
        );
        let requests_2 = format!(
            "{base_url}{}",
            next_link(
                &first[first.find("id=\"pending-requests\"").unwrap()..],
                "requests_after"
            )
            .unwrap()
        );
        println!(
            "{:<36} {:>10} {:>10} {:>10}",
            "Users page", "median", "p99", "size"
        );
        for (label, url) in [
            ("first page", users.clone()),
            ("members, page 41", page_40),
            ("requests, page 2", requests_2),
        ] {
            let mut times = Vec::with_capacity(runs);
            let mut size = 0;
            for _ in 0..runs {
                let started = Instant::now();
                let response = client.get(&url).send().await?;
                anyhow::ensure!(
                    response.status().as_u16() == 200,
                    "{label}: {}",
                    response.status()
                );
                size = response.bytes().await?.len();
                times.push(started.elapsed());
            }
            let (median, p99) = median_p99(&mut times);
            println!(
                "{label:<36} {median:>10.2?} {p99:>10.2?} {:>8.1} KB",
                size as f64 / 1024.0
            );
        }
        let (rss, peak) = server.memory_mib()?;
        println!("server memory: {rss:.0} MiB resident, peak {peak:.0} MiB");
        anyhow::Ok(())
    })?;
    Ok(())
}
