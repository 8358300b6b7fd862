//! The embedded cluster: created on first start, kept across restarts of the app, recovered
//! after a crash, and stopped on shutdown.

use std::path::PathBuf;

use staffroom::db::embedded::{EmbeddedPostgres, Options};

use crate::helpers::*;

fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[actix_web::test]
async fn the_embedded_cluster_starts_survives_a_restart_of_the_app_and_is_stopped_on_shutdown() {
    let data_dir = scratch_dir("embedded");
    let mut cluster = EmbeddedPostgres::start(&data_dir, Options { ephemeral: true }).unwrap();
    cluster.ensure_database("staffroom").unwrap();
    let url = cluster.database_url("staffroom");
    staffroom::db::run_migrations(&url).unwrap();

    let smtp = SmtpServer::start().await;
    let first = spawn_with(test_settings(&url, smtp.port), smtp.clone()).await;
    first.create_org("Barts Health", &["nhs.net"]);
    assert_eq!(first.browser.get("/healthz").await.status, 200);
    first.stop().await;

    let second = spawn_with(test_settings(&url, smtp.port), smtp).await;
    assert_eq!(
        second.count("SELECT count(*) FROM organisations WHERE name = 'Barts Health'"),
        1
    );
    second.stop().await;

    let cluster_dir = cluster.cluster_dir().to_path_buf();
    assert!(cluster.is_running().unwrap());
    cluster.stop();
    assert!(!cluster.is_running().unwrap(), "stopped on shutdown");
    assert!(
        !cluster_dir.join(".s.PGSQL.5432").exists(),
        "its socket is gone"
    );
    drop(cluster);

    // A crash leaves a postmaster.pid naming a process that is gone: the next start copes.
    std::fs::write(cluster_dir.join("postmaster.pid"), "999999\n").unwrap();
    let again = EmbeddedPostgres::start(&data_dir, Options { ephemeral: true }).unwrap();
    let mut conn =
        <diesel::PgConnection as diesel::Connection>::establish(&again.database_url("staffroom"))
            .unwrap();
    use diesel::RunQueryDsl;
    let kept = diesel::sql_query("SELECT name AS name FROM organisations")
        .load::<Named>(&mut conn)
        .unwrap();
    assert_eq!(kept.len(), 1, "the data is still there");
    drop(conn);
    drop(again);
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[derive(diesel::QueryableByName)]
struct Named {
    #[allow(dead_code)]
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}
