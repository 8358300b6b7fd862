//! At NHS scale (issue 14): every kind of people search reads one page of an index at a
//! million people (the plans, never the time); keyset pages show everyone exactly once while
//! people join between pages; a workspace's Users page pages its members and requests; and
//! password hashing runs with bounded concurrency, telling a storm past its line to try again.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use staffroom::config::HashingTuning;
use staffroom::db::models::people;
use staffroom::domain::paging::{Key, PageKey, PageStart};
use staffroom::domain::OrganisationId;
use staffroom::startup::Application;

use crate::helpers::{
    fresh_database, spawn_app, test_settings, Browser, SmtpServer, TestApp, PASSWORD,
};

// ------------------------------------------------------------------ helpers

/// The link of the page's `rel` ("next" or "prev") pagination anchor, unescaped.
fn pagination_link(body: &str, rel: &str) -> Option<String> {
    let marker = format!("\" rel=\"{rel}\"");
    let end = body.find(&marker)?;
    let start = body[..end].rfind("href=\"")? + "href=\"".len();
    Some(
        body[start..end]
            .replace("&amp;", "&")
            .replace("&#38;", "&")
            .replace("&#x2f;", "/")
            .replace("&#47;", "/"),
    )
}

/// The ids in the rows marked `id="{prefix}{uuid}"`, in page order.
fn row_ids(body: &str, prefix: &str) -> Vec<String> {
    body.split(&format!("id=\"{prefix}"))
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect()
}

/// Inserts `n` people with the given email prefix into the organisation (one statement each),
/// names from small cycles so that many share a surname and a first name (ties broken by id).
fn add_people(app: &TestApp, org: OrganisationId, prefix: &str, n: usize, surname: &str) {
    app.sql(&format!(
        "INSERT INTO users (id, email, first_name, surname, email_verified_at)
         SELECT gen_random_uuid(), '{prefix}' || g || '@nhs.net', 'Sam' || (g % 3),
                '{surname}' || (g % 4), now()
         FROM generate_series(1, {n}) g"
    ));
    app.sql(&format!(
        "INSERT INTO organisation_members (organisation_id, user_id)
         SELECT '{org}', id FROM users WHERE email LIKE '{prefix}%@nhs.net'"
    ));
}

fn ids_where(app: &TestApp, condition: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    let ids: Vec<Id> = diesel::RunQueryDsl::load(
        diesel::sql_query(format!("SELECT id FROM users WHERE {condition}")),
        &mut *app.conn(),
    )
    .unwrap();
    ids.into_iter().map(|i| i.id.to_string()).collect()
}

// ------------------------------------------------------------------ keyset pages

#[actix_web::test]
async fn keyset_pages_show_everyone_exactly_once_while_people_join_between_pages() {
    // Arrange: 120 people sharing 3 first names and 4 surnames, plus the administrator.
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    add_people(&app, org, "p", 120, "Lee");
    let before = ids_where(&app, "email LIKE 'p%@nhs.net' OR email = 'tara@nhs.net'");

    for q in ["", "le", "lee"] {
        // Act: follow Next to the end; between pages, people join before the page's key,
        // after it, and with exactly the names of the page's last row.
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut path = format!("/organisations/{org}/admin/users?q={q}");
        let mut pages = 0;
        loop {
            let page = tara.browser.get(&path).await;
            assert_eq!(page.status, 200, "{}", page.body);
            pages += 1;
            assert!(pages < 100, "Next never reached the last page ({path})");
            let rows = row_ids(&page.body, "person-");
            assert!(rows.len() <= 25, "a page holds 25 at most");
            for id in rows {
                *seen.entry(id).or_default() += 1;
            }
            let Some(next) = pagination_link(&page.body, "next") else {
                break;
            };
            let tag = format!("{q}{pages}");
            app.sql(&format!(
                "INSERT INTO users (id, email, first_name, surname, email_verified_at) VALUES
                 (gen_random_uuid(), 'early{tag}@nhs.net', 'Sam0', 'Lea', now()),
                 (gen_random_uuid(), 'late{tag}@nhs.net', 'Sam9', 'Lee9', now()),
                 (gen_random_uuid(), 'tie{tag}@nhs.net', 'Sam1', 'Lee1', now())"
            ));
            app.sql(&format!(
                "INSERT INTO organisation_members (organisation_id, user_id)
                 SELECT '{org}', id FROM users WHERE email IN
                   ('early{tag}@nhs.net', 'late{tag}@nhs.net', 'tie{tag}@nhs.net')"
            ));
            path = next;
        }

        // Assert: nobody twice, and everyone who was there at the start once (those who
        // matched the search), whatever joined meanwhile.
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "shown twice for {q:?}: {twice:?}");
        let expected: Vec<&String> = if q.is_empty() {
            before.iter().collect()
        } else {
            let matching = ids_where(&app, "email LIKE 'p%@nhs.net'");
            before.iter().filter(|id| matching.contains(id)).collect()
        };
        for id in expected {
            assert_eq!(seen.get(id), Some(&1), "{id} not shown once for {q:?}");
        }
        let late = ids_where(&app, &format!("email = 'late{q}1@nhs.net'"));
        assert!(
            seen.contains_key(&late[0]),
            "joined after the key: shown later"
        );
        assert!(pages >= 5, "{pages} pages for {q:?}");

        // Previous from the last page leads back to a first page with no Previous.
        let mut back = path.clone();
        let mut steps = 0;
        loop {
            let page = tara.browser.get(&back).await;
            assert_eq!(page.status, 200);
            match pagination_link(&page.body, "prev") {
                Some(previous) => back = previous,
                None => {
                    assert_eq!(row_ids(&page.body, "person-").len(), 25);
                    break;
                }
            }
            steps += 1;
            assert!(steps < 100, "Previous never reached the first page");
        }
    }
}

#[actix_web::test]
async fn a_forged_or_stale_page_key_shows_the_first_page_and_counts_stop_at_a_thousand() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    add_people(&app, org, "p", 1_001, "Lee");
    let users = format!("/organisations/{org}/admin/users");

    let first = tara.browser.get(&format!("{users}?q=")).await;
    let forged = tara
        .browser
        .get(&format!("{users}?q=&after=%E2%9C%93-not-a-key"))
        .await;
    let nonsense = tara
        .browser
        .get(&format!("{users}?q=&before=bm90IGEga2V5"))
        .await;
    let past_the_end = PageKey {
        surname: "Zzz".into(),
        first_name: "Zzz".into(),
        id: uuid::Uuid::nil(),
    };
    let stale = tara
        .browser
        .get(&format!("{users}?q=&after={}", past_the_end.encode()))
        .await;
    let few = tara.browser.get(&format!("{users}?q=Adeyemi")).await;

    assert_eq!(first.element_text("result-count"), "More than 1,000 people");
    assert_eq!(
        few.element_text("result-count"),
        "1 person matching “Adeyemi”"
    );
    for page in [&forged, &nonsense, &stale] {
        assert_eq!(page.status, 200);
        assert_eq!(
            row_ids(&page.body, "person-"),
            row_ids(&first.body, "person-")
        );
        assert!(pagination_link(&page.body, "prev").is_none());
    }
}

// ------------------------------------------------------------------ the workspace's Users page

#[actix_web::test]
async fn a_workspace_users_page_pages_members_and_requests_and_counts_them_cheaply() {
    // Arrange: a workspace with Tara (admin), 70 approved members and 30 waiting.
    let app = spawn_app().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    tara.browser
        .post(
            &format!("/organisations/{org}/workspaces"),
            &[
                ("name", "Ward 2"),
                ("specialty", "501"),
                ("description", ""),
            ],
        )
        .await;
    let ws = app.text("SELECT id FROM workspaces WHERE name = 'Ward 2'");
    add_people(&app, org, "m", 70, "Lee");
    add_people(&app, org, "w", 30, "Ray");
    app.sql(&format!(
        "INSERT INTO workspace_members (workspace_id, user_id, status, role, approved_at)
         SELECT '{ws}', id, 'approved', 'member', now() FROM users WHERE email LIKE 'm%@nhs.net'"
    ));
    app.sql(&format!(
        "INSERT INTO workspace_members (workspace_id, user_id, status, role)
         SELECT '{ws}', id, 'pending', 'member' FROM users WHERE email LIKE 'w%@nhs.net'"
    ));
    let members = ids_where(&app, "email LIKE 'm%@nhs.net' OR email = 'tara@nhs.net'");
    let waiting = ids_where(&app, "email LIKE 'w%@nhs.net'");

    // Act: walk each list's pages.
    let mut seen_members: HashMap<String, usize> = HashMap::new();
    let mut seen_waiting: HashMap<String, usize> = HashMap::new();
    let first = tara
        .browser
        .get(&format!("/workspaces/{ws}/settings/users"))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    for (list, rel_prefix, seen) in [
        ("workspace-members", "members", &mut seen_members),
        ("pending-requests", "requests", &mut seen_waiting),
    ] {
        let mut page = first.body.clone();
        let mut pages = 0;
        loop {
            pages += 1;
            assert!(pages < 100, "Next never reached the last page of {list}");
            let table_start = page.find(&format!("id=\"{list}\"")).unwrap();
            let table =
                &page[table_start..table_start + page[table_start..].find("</table>").unwrap()];
            // Each row's actions name the member: their id is in the row's links and forms.
            for id in table
                .split("/members/")
                .skip(1)
                .map(|rest| rest.split('/').next().unwrap().to_string())
                .collect::<std::collections::BTreeSet<_>>()
            {
                *seen.entry(id).or_default() += 1;
            }
            let nav = &page[table_start..];
            let Some(next) = pagination_link(nav, "next").filter(|l| l.contains(rel_prefix)) else {
                break;
            };
            page = tara.browser.get(&next).await.body;
        }
    }

    // Assert
    assert_eq!(first.element_text("members-count"), "71 members");
    assert_eq!(first.element_text("requests-count"), "30 requests");
    for id in &waiting {
        assert_eq!(seen_waiting.get(id), Some(&1), "request {id}");
    }
    for id in members.iter().filter(|id| **id != tara.user.id.to_string()) {
        assert_eq!(seen_members.get(id), Some(&1), "member {id}");
    }
    assert!(seen_members.values().all(|n| *n == 1));
}

// ------------------------------------------------------------------ plans at a million people

#[derive(Default, Debug)]
struct Reading {
    /// Index names read.
    indexes: Vec<String>,
    /// Relations read in full.
    seq_scans: Vec<String>,
    /// Rows each Sort node was given.
    sorted: Vec<f64>,
    /// Rows visited on users (returned or filtered out, over every loop).
    users_rows: f64,
}

fn read_plan(node: &Value, reading: &mut Reading) {
    let number = |key: &str| node.get(key).and_then(Value::as_f64).unwrap_or(0.0);
    let kind = node["Node Type"].as_str().unwrap_or_default();
    let relation = node["Relation Name"].as_str().unwrap_or_default();
    if let Some(index) = node["Index Name"].as_str() {
        reading.indexes.push(index.to_string());
    }
    if kind == "Seq Scan" {
        reading.seq_scans.push(relation.to_string());
    }
    if relation == "users" {
        let loops = number("Actual Loops").max(1.0);
        reading.users_rows += (number("Actual Rows")
            + number("Rows Removed by Filter")
            + number("Rows Removed by Index Recheck"))
            * loops;
    }
    if let Some(children) = node["Plans"].as_array() {
        if kind == "Sort" {
            for child in children {
                reading.sorted.push(
                    child["Actual Rows"].as_f64().unwrap_or(0.0)
                        * child["Actual Loops"].as_f64().unwrap_or(1.0),
                );
            }
        }
        for child in children {
            read_plan(child, reading);
        }
    }
}

fn reading(plan: &str) -> Reading {
    let plan: Value = serde_json::from_str(plan).unwrap();
    let mut reading = Reading::default();
    read_plan(&plan[0]["Plan"], &mut reading);
    reading
}

/// The ceiling on what one page or count may visit: a twentieth of the table.
const BOUNDED: f64 = 50_000.0;

#[actix_web::test]
async fn every_kind_of_search_reads_one_page_of_an_index_at_a_million_people() {
    // Arrange: a million people in one organisation, as bench_search seeds them, with the
    // migrations' own indexes (dropped for the one INSERT, then made again from their
    // definitions, which is much faster than growing them row by row).
    let app = spawn_app().await;
    let org = app.create_org("Big Trust", &["nhs.net"]);
    #[derive(diesel::QueryableByName)]
    struct Definition {
        #[diesel(sql_type = diesel::sql_types::Text)]
        indexname: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        indexdef: String,
    }
    let definitions: Vec<Definition> = diesel::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT indexname, indexdef FROM pg_indexes
             WHERE tablename IN ('users', 'organisation_members')
               AND indexname NOT IN ('users_pkey', 'organisation_members_pkey', 'users_email_key')",
        ),
        &mut *app.conn(),
    )
    .unwrap();
    let conn = &mut *app.conn();
    let run = |conn: &mut diesel::PgConnection, sql: &str| {
        diesel::RunQueryDsl::execute(diesel::sql_query(sql), conn).unwrap();
    };
    run(conn, "SET maintenance_work_mem = '256MB'");
    for d in &definitions {
        run(conn, &format!("DROP INDEX {}", d.indexname));
    }
    run(
        conn,
        "INSERT INTO users (id, email, first_name, surname, email_verified_at)
         SELECT md5('p' || g)::uuid, 'person' || g || '@nhs.net',
                'First' || (g % 1000), 'Surname' || ((g / 1000) % 1000), now()
         FROM generate_series(1, 1000000) g",
    );
    run(
        conn,
        "UPDATE users SET first_name = 'Priya', surname = 'Ramaswamy'
         WHERE id = md5('p' || 424242)::uuid",
    );
    run(
        conn,
        &format!(
            "INSERT INTO organisation_members (organisation_id, user_id)
             SELECT '{org}', md5('p' || g)::uuid FROM generate_series(1, 1000000) g"
        ),
    );
    for d in &definitions {
        run(conn, &d.indexdef);
    }
    run(conn, "ANALYZE users, organisation_members");
    #[derive(diesel::QueryableByName)]
    struct Key {
        #[diesel(sql_type = diesel::sql_types::Text)]
        surname: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        first_name: String,
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    let key: Key = diesel::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT surname, first_name, id FROM users ORDER BY surname, first_name, id
             OFFSET 974 LIMIT 1",
        ),
        conn,
    )
    .unwrap();
    let page_40 = PageStart::After(PageKey {
        surname: key.surname,
        first_name: key.first_name,
        id: key.id,
    });

    // Act and assert, kind by kind.
    for (kind, q, start) in [
        ("first name", "Priya", PageStart::First),
        ("surname", "Ramaswamy", PageStart::First),
        ("full name", "Priya Ramaswamy", PageStart::First),
        ("email fragment", "person424242", PageStart::First),
        ("fragment matching 11,000", "Surname42", PageStart::First),
        ("one character, matching everyone", "s", PageStart::First),
        ("one character, matching nobody", "q", PageStart::First),
        ("two characters, matching everyone", "su", PageStart::First),
        ("two characters, matching one", "pr", PageStart::First),
        ("no search, first page", "", PageStart::First),
        ("no search, page 40", "", page_40.clone()),
        ("a fragment, page 40", "Surname", page_40.clone()),
    ] {
        let statements = people::explain_search(conn, org, q, &start).unwrap();
        assert!(statements.len() >= 2, "{kind}: a count and a page");
        for (what, plan) in &statements {
            let r = reading(plan);
            if *what != "count" {
                assert!(
                    !r.indexes.is_empty(),
                    "{kind} ({what}) reads no index:\n{plan}"
                );
                assert!(
                    !r.seq_scans
                        .iter()
                        .any(|t| t == "users" || t == "organisation_members"),
                    "{kind} ({what}) reads a whole table:\n{plan}"
                );
            }
            assert!(
                r.sorted.iter().all(|rows| *rows < BOUNDED),
                "{kind} ({what}) sorts {:?} rows:\n{plan}",
                r.sorted
            );
            assert!(
                r.users_rows < BOUNDED,
                "{kind} ({what}) visits {} people:\n{plan}",
                r.users_rows
            );
        }
    }
}

// ------------------------------------------------------------------ bounded hashing

/// `n` verified accounts sharing one password hash (made once), for parallel sign-ins.
fn accounts(app: &TestApp, n: usize) -> Vec<String> {
    let org = app.nhs_org();
    let first = app.create_user(org, "storm0@nhs.net");
    app.sql(&format!(
        "INSERT INTO users (id, email, first_name, surname, password_hash, email_verified_at)
         SELECT gen_random_uuid(), 'storm' || g || '@nhs.net', 'Sam', 'Lee', u.password_hash, now()
         FROM generate_series(1, {}) g, users u WHERE u.id = '{}'",
        n - 1,
        first.id
    ));
    (0..n).map(|i| format!("storm{i}@nhs.net")).collect()
}

#[actix_web::test]
async fn parallel_sign_ins_never_run_more_hashes_at_once_than_the_limit() {
    // Arrange
    let app = spawn_app().await;
    let (limit, _) = staffroom::auth::password::hashing_bound();
    let emails = accounts(&app, limit * 4 + 2);
    let mut browsers = Vec::new();
    for email in &emails {
        let browser = app.new_browser();
        let csrf = browser.get("/login").await.csrf();
        browsers.push((browser, email.clone(), csrf));
    }
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let mut most = 0;
            while sampling.load(std::sync::atomic::Ordering::SeqCst) {
                most = most.max(staffroom::auth::password::hashing_now());
                std::thread::sleep(Duration::from_micros(200));
            }
            most
        })
    };

    // Act: every sign-in at once, half with a wrong password.
    let answers = futures_util::future::join_all(browsers.iter().enumerate().map(
        |(i, (browser, email, csrf))| async move {
            let password = if i % 2 == 0 {
                PASSWORD
            } else {
                "a wrong passphrase"
            };
            browser.log_in_with_token(email, password, csrf).await
        },
    ))
    .await;
    sampling.store(false, std::sync::atomic::Ordering::SeqCst);
    let most_seen = sampler.join().unwrap();

    // Assert
    for (i, answer) in answers.iter().enumerate() {
        let expected = if i % 2 == 0 { 303 } else { 422 };
        assert_eq!(answer.status, expected, "sign-in {i}: {}", answer.body);
    }
    let (_, peak) = staffroom::auth::password::hashing_bound();
    assert!(
        most_seen <= limit,
        "{most_seen} hashes at once, limit {limit}"
    );
    assert!(peak >= 1 && peak <= limit, "peak {peak}, limit {limit}");
}

#[actix_web::test]
async fn a_sign_in_storm_past_the_line_is_told_to_try_again_in_a_moment() {
    // Arrange: one sign-in at a time, two waiting, and the one turn taken by the test.
    let smtp = SmtpServer::start().await;
    let database_url = fresh_database();
    let mut settings = test_settings(&database_url, smtp.port);
    settings.hashing = HashingTuning {
        admitted: 1,
        waiting: 2,
        wait_at_most: Duration::from_secs(600),
    };
    let pool = staffroom::db::pool(&database_url, 8);
    let application = Application::build(settings, pool.clone()).await.unwrap();
    let gate = application.hash_gate();
    let base_url = application.base_url().to_string();
    let handle = application.handle();
    let port = application.port();
    actix_web::rt::spawn(application.run_until_stopped());
    let app = TestApp {
        port,
        browser: Browser::new(&base_url),
        base_url,
        database_url,
        pool,
        smtp,
        handle,
    };
    let emails = accounts(&app, 6);
    let mut ready = Vec::new();
    for email in &emails {
        let browser = app.new_browser();
        let csrf = browser.get("/login").await.csrf();
        ready.push((browser, email.clone(), csrf));
    }
    let held = gate.hold_all().await;

    // Act: six at once while nobody can hash.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for (browser, email, csrf) in ready {
        let tx = tx.clone();
        actix_web::rt::spawn(async move {
            let page = browser.log_in_with_token(&email, PASSWORD, &csrf).await;
            tx.send(page).unwrap();
        });
    }
    let mut refused = Vec::new();
    for _ in 0..4 {
        refused.push(rx.recv().await.unwrap());
    }
    let waiting_then = gate.waiting();
    drop(held);
    let mut admitted = Vec::new();
    for _ in 0..2 {
        admitted.push(rx.recv().await.unwrap());
    }

    // Assert: the four past the line were refused at once, with Retry-After; the two in line
    // signed in once the turn was free.
    assert_eq!(waiting_then, 2);
    for page in &refused {
        assert_eq!(page.status, 503, "{}", page.body);
        let retry: u64 = page.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry >= 1);
        assert!(page.body.contains("Try again in a moment"), "{}", page.body);
    }
    for page in &admitted {
        page.assert_redirect_to("/account/two-factor/setup");
    }
    let (admitted_at_once, peak) = gate.admitted();
    assert_eq!(admitted_at_once, 1);
    assert!(peak <= 1);
}
