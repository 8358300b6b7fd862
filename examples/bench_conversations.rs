//! How fast the Conversations page's query answers with 100,000 messages in one workspace, for
//! each "Assigned to" filter and for the pages deep in the list. Timing lives here, not in the
//! tests (which check the plans instead).
//!
//! ```sh
//! cargo run --release --example bench_conversations
//! ```
//!
//! It starts a throwaway embedded PostgreSQL under the system's temporary directory (or uses
//! DATABASE_URL, where it creates its rows in a fresh workspace), seeds 20,000 conversations and
//! 100,000 messages, and prints the median and worst time of each query over 50 runs.

use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use staffroom::db::models::conversations::{self, Assigned, Cursor, Filter, Visibility};
use staffroom::db::models::{workspace_members, workspaces};
use staffroom::domain::{PatientId, UserId, WorkspaceId};

const RUNS: usize = 50;

fn main() -> anyhow::Result<()> {
    let (url, _cluster) = match std::env::var("DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let dir = std::env::temp_dir().join("staffroom-bench");
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
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let person = |name: &str| {
        staffroom::cli::create_user(
            &pool,
            "http://127.0.0.1:8080",
            staffroom::cli::NewAccount {
                org,
                email: format!("{name}.{suffix}@nhs.net"),
                first_name: name.into(),
                surname: "Bench".into(),
                trust_admin: false,
                password: None,
            },
        )
    };
    let (amy, dave) = (person("amy")?, person("dave")?);
    let conn = &mut PgConnection::establish(&url)?;
    let ws = WorkspaceId::new();
    workspaces::insert(
        conn,
        &workspaces::NewWorkspace {
            id: ws,
            organisation_id: org,
            name: &format!("Bench {suffix}"),
            specialty_code: "501",
            description: "",
            created_by: Some(amy),
        },
    )?;
    for user in [amy, dave] {
        workspace_members::insert(
            conn,
            ws,
            user,
            staffroom::domain::MembershipStatus::Approved,
            staffroom::domain::WorkspaceRole::Member,
            "",
            Some(amy),
        )?;
    }
    seed(conn, ws, amy, dave)?;

    let filters = [
        ("everyone's, newest", Visibility::All, Assigned::Anyone),
        ("assigned to me", Visibility::All, Assigned::To(amy)),
        (
            "assigned to a colleague",
            Visibility::All,
            Assigned::To(dave),
        ),
        ("unassigned", Visibility::All, Assigned::Unassigned),
        ("a guest's", Visibility::AssignedTo(dave), Assigned::Anyone),
        (
            "a pending member's",
            Visibility::SentBy(amy),
            Assigned::Anyone,
        ),
    ];
    println!("{:<28} {:>10} {:>10}", "first page (25)", "median", "worst");
    for (label, visibility, assigned) in filters {
        let filter = Filter {
            assigned,
            status: None,
            before: None,
        };
        report(label, || {
            conversations::page(conn, ws, visibility, filter, 26).map(|_| ())
        })?;
    }
    // Page 400 of "everyone's": the cursor of the 10,000th conversation.
    let deep = conversations::page(
        conn,
        ws,
        Visibility::All,
        Filter {
            assigned: Assigned::Anyone,
            status: None,
            before: None,
        },
        10_000,
    )?
    .pop()
    .map(|c| Cursor {
        at: c.last_message_at,
        id: c.id,
    });
    let filter = Filter {
        assigned: Assigned::Anyone,
        status: None,
        before: deep,
    };
    report("page 400 (Older × 399)", || {
        conversations::page(conn, ws, Visibility::All, filter, 26).map(|_| ())
    })?;
    Ok(())
}

/// The same rows as the test's seed: 20,000 conversations, 100,000 messages.
fn seed(conn: &mut PgConnection, ws: WorkspaceId, amy: UserId, dave: UserId) -> anyhow::Result<()> {
    let patient = PatientId::new();
    let started = Instant::now();
    for statement in [
        format!(
            "INSERT INTO patients (id, workspace_id, nhs_number, first_name, surname, date_of_birth, mobile)
             VALUES ('{patient}', '{ws}', '9434765919', 'Pat', 'Patient', '1984-03-31', '+447700900123')"
        ),
        format!(
            "INSERT INTO conversations (id, workspace_id, patient_id, started_by, assigned_to, status,
                                        created_at, last_message_at, done_at)
             SELECT md5('{ws}' || g)::uuid, '{ws}', '{patient}', '{amy}',
                    CASE g % 3 WHEN 0 THEN NULL WHEN 1 THEN '{amy}'::uuid ELSE '{dave}'::uuid END,
                    CASE WHEN g = 1 THEN 'open' ELSE 'done' END,
                    now() - g * interval '1 minute', now() - g * interval '1 minute',
                    CASE WHEN g = 1 THEN NULL ELSE now() END
             FROM generate_series(1, 20000) g"
        ),
        format!(
            "INSERT INTO messages (conversation_id, workspace_id, sender_id, channel, recipient, body, created_at)
             SELECT md5('{ws}' || (1 + (g - 1) / 5))::uuid, '{ws}',
                    CASE WHEN g % 2 = 0 THEN '{amy}'::uuid ELSE '{dave}'::uuid END,
                    'sms', '+447700900123', 'Seeded message ' || g, now() - g * interval '12 seconds'
             FROM generate_series(1, 100000) g"
        ),
        format!(
            "UPDATE conversations c SET last_message_id = m.id
             FROM (SELECT conversation_id, max(id) AS id FROM messages
                   WHERE workspace_id = '{ws}' GROUP BY conversation_id) m
             WHERE m.conversation_id = c.id"
        ),
        "ANALYZE patients, conversations, messages".to_string(),
    ] {
        diesel::sql_query(statement).execute(conn)?;
    }
    eprintln!("seeded 100,000 messages in {:?}", started.elapsed());
    Ok(())
}

fn report(label: &str, mut run: impl FnMut() -> diesel::QueryResult<()>) -> anyhow::Result<()> {
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        run()?;
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "{label:<28} {:>8.2}ms {:>8.2}ms",
        times[RUNS / 2].as_secs_f64() * 1000.0,
        times[RUNS - 1].as_secs_f64() * 1000.0
    );
    Ok(())
}
