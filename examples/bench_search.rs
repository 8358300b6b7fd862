//! How fast Manage Users & Roles' search answers with a million people in one organisation:
//! by first name, surname, full name, a fragment of an email address, and the first page with
//! no query. Timing lives here, not in the tests (which check the query plan instead).
//!
//! ```sh
//! cargo run --release --example bench_search
//! ```
//!
//! It starts a throwaway embedded PostgreSQL under the system's temporary directory (or uses
//! DATABASE_URL, where it adds its people to a fresh organisation), seeds 1,000,000 people with
//! one INSERT ... SELECT, and prints the median and worst time of each search over 20 runs.

use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use staffroom::db::models::people;

const RUNS: usize = 20;
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
        "ANALYZE users, organisation_members".to_string(),
    ] {
        diesel::sql_query(statement).execute(conn)?;
    }
    eprintln!("seeded {PEOPLE} people in {:?}", started.elapsed());
    println!(
        "{:<32} {:>10} {:>10} {:>8}",
        "search", "median", "worst", "found"
    );
    for (label, query) in [
        ("first name", "Priya"),
        ("surname", "Ramaswamy"),
        ("full name", "Priya Ramaswamy"),
        ("email fragment", "person424242."),
        ("common surname fragment", "Surname42"),
        ("no query (first page)", ""),
    ] {
        let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
        let mut found = 0;
        for _ in 0..RUNS {
            let started = Instant::now();
            found = people::search(conn, org, query, 1)?.1;
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "{label:<32} {:>10.2?} {:>10.2?} {found:>8}",
            times[RUNS / 2],
            times[RUNS - 1]
        );
    }
    Ok(())
}
