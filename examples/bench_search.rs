//! How fast Manage Users & Roles' search answers with a million people in one organisation:
//! by first name, surname, full name, a fragment of an email address, a fragment matching
//! 11,000 people, one and two characters (dense and sparse), the first page with no query and
//! page 40 (following Next 39 times). Timing lives here, not in the tests (which check the
//! query plans instead). Each figure is one page and its capped count, as the page runs them.
//!
//! ```sh
//! cargo run --release --example bench_search
//! ```
//!
//! It starts a throwaway embedded PostgreSQL under the system's temporary directory (or uses
//! DATABASE_URL, where it adds its people to a fresh organisation), seeds 1,000,000 people with
//! one INSERT ... SELECT, and prints the median, p99 and worst time of each search over
//! BENCH_RUNS runs (200).

use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use staffroom::db::models::people;
use staffroom::domain::paging::PageStart;

const PEOPLE: i64 = 1_000_000;

fn main() -> anyhow::Result<()> {
    let (url, _cluster) = match std::env::var("DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let dir = std::env::temp_dir().join("staffroom-bench-search");
            let cluster = staffroom::db::embedded::EmbeddedPostgres::start(
                &dir,
                staffroom::db::embedded::Options { ephemeral: true },
            )?;
            cluster.ensure_database("bench")?;
            (cluster.database_url("bench"), Some(cluster))
        }
    };
    staffroom::db::run_migrations(&url)?;
    let pool = staffroom::db::pool(&url, 2);
    let org = staffroom::cli::create_organisation(&pool, "Bench Trust", &["nhs.net".into()])?;
    let conn = &mut PgConnection::establish(&url)?;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let started = Instant::now();
    // In the throwaway cluster, the indexes are made again after the one INSERT (from the
    // migrations' own definitions): much faster than growing them a row at a time.
    #[derive(diesel::QueryableByName)]
    struct Definition {
        #[diesel(sql_type = diesel::sql_types::Text)]
        indexname: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        indexdef: String,
    }
    let definitions: Vec<Definition> = if _cluster.is_some() {
        diesel::sql_query(
            "SELECT indexname, indexdef FROM pg_indexes
             WHERE tablename IN ('users', 'organisation_members')
               AND indexname NOT IN ('users_pkey', 'organisation_members_pkey', 'users_email_key')",
        )
        .load(conn)?
    } else {
        Vec::new()
    };
    diesel::sql_query("SET maintenance_work_mem = '256MB'").execute(conn)?;
    for d in &definitions {
        diesel::sql_query(format!("DROP INDEX {}", d.indexname)).execute(conn)?;
    }
    // Names cycle through 1,000 first names and 1,000 surnames; one person is "Priya Ramaswamy".
    for statement in [
        format!(
            "INSERT INTO users (id, email, first_name, surname, email_verified_at)
             SELECT md5('{suffix}' || g)::uuid, 'person' || g || '.{suffix}@nhs.net',
                    'First' || (g % 1000), 'Surname' || ((g / 1000) % 1000), now()
             FROM generate_series(1, {PEOPLE}) g"
        ),
        format!(
            "UPDATE users SET first_name = 'Priya', surname = 'Ramaswamy'
             WHERE id = md5('{suffix}' || 424242)::uuid"
        ),
        format!(
            "INSERT INTO organisation_members (organisation_id, user_id)
             SELECT '{org}', md5('{suffix}' || g)::uuid FROM generate_series(1, {PEOPLE}) g"
        ),
    ] {
        diesel::sql_query(statement).execute(conn)?;
    }
    for d in &definitions {
        diesel::sql_query(&d.indexdef).execute(conn)?;
    }
    diesel::sql_query("ANALYZE users, organisation_members").execute(conn)?;
    eprintln!("seeded {PEOPLE} people in {:?}", started.elapsed());
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    // Page 40 of everyone, and of a fragment: the key Next would carry after 39 pages.
    let page_40 = |conn: &mut PgConnection, query: &str| -> anyhow::Result<PageStart> {
        let mut start = PageStart::First;
        for _ in 0..39 {
            let (page, _) = people::search(conn, org, query, &start)?;
            start = PageStart::After(page.next.expect("40 pages"));
        }
        Ok(start)
    };
    let everyone_40 = page_40(conn, "")?;
    let fragment_40 = page_40(conn, "Surname")?;
    println!(
        "{:<36} {:>10} {:>10} {:>10} {:>24}",
        "search", "median", "p99", "worst", "found"
    );
    for (label, query, start) in [
        ("first name", "Priya", PageStart::First),
        ("surname", "Ramaswamy", PageStart::First),
        ("full name", "Priya Ramaswamy", PageStart::First),
        ("email fragment", "person424242.", PageStart::First),
        ("fragment matching 11,000", "Surname42", PageStart::First),
        ("1 character, everyone (s)", "s", PageStart::First),
        ("1 character, nobody (q)", "q", PageStart::First),
        ("2 characters, everyone (su)", "su", PageStart::First),
        ("2 characters, one person (pr)", "pr", PageStart::First),
        ("no query (first page)", "", PageStart::First),
        ("no query, page 40", "", everyone_40.clone()),
        (
            "fragment 'Surname', page 40",
            "Surname",
            fragment_40.clone(),
        ),
    ] {
        let mut times: Vec<Duration> = Vec::with_capacity(runs);
        let mut found = String::new();
        for _ in 0..runs {
            let started = Instant::now();
            let (page, count) = people::search(conn, org, query, &start)?;
            times.push(started.elapsed());
            found = format!(
                "{} ({} shown)",
                count.describe("person", "people"),
                page.rows.len()
            );
        }
        times.sort();
        println!(
            "{label:<36} {:>10.2?} {:>10.2?} {:>10.2?} {found:>24}",
            times[runs / 2],
            times[(runs * 99 / 100).min(runs - 1)],
            times[runs - 1]
        );
    }
    Ok(())
}
