//! The command line, run as the real binary: ids alone on stdout; `serve` on the embedded
//! cluster stops its PostgreSQL on Ctrl-C.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::*;

fn staffroom(database_url: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_staffroom"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("STAFFROOM_BASE_URL", "http://staffroom.test")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[actix_web::test]
async fn org_create_and_user_create_print_the_new_ids_alone() {
    let url = fresh_database();
    let (ok, org_id, err) = staffroom(
        &url,
        &[
            "org",
            "create",
            "--name",
            "Homerton Healthcare",
            "--domain",
            "nhs.net",
        ],
        None,
    );
    assert!(ok, "{err}");
    let org_id = org_id.trim().to_string();
    assert!(uuid::Uuid::parse_str(&org_id).is_ok(), "{org_id:?}");

    let (ok, admin_id, err) = staffroom(
        &url,
        &[
            "user",
            "create",
            "--org",
            &org_id,
            "--email",
            "Sam.Hughes@nhs.net",
            "--first-name",
            "Sam",
            "--surname",
            "Hughes",
            "--trust-admin",
            "--password-stdin",
        ],
        Some("a long bootstrap passphrase\n"),
    );
    assert!(ok, "{err}");
    assert!(
        uuid::Uuid::parse_str(admin_id.trim()).is_ok(),
        "{admin_id:?}"
    );

    let (ok, invited_id, err) = staffroom(
        &url,
        &[
            "user",
            "create",
            "--org",
            &org_id,
            "--email",
            "kim@nhs.net",
            "--first-name",
            "Kim",
            "--surname",
            "Lee",
        ],
        None,
    );
    assert!(ok, "{err}");
    assert!(uuid::Uuid::parse_str(invited_id.trim()).is_ok());

    let (ok, _, err) = staffroom(
        &url,
        &[
            "user",
            "create",
            "--org",
            &org_id,
            "--email",
            "eve@gmail.com",
            "--first-name",
            "Eve",
            "--surname",
            "M",
        ],
        None,
    );
    assert!(!ok);
    assert!(err.contains("not in the organisation's domains"), "{err}");
    let (ok, _, err) = staffroom(
        &url,
        &[
            "user",
            "create",
            "--org",
            &org_id,
            "--email",
            "joe@nhs.net",
            "--first-name",
            "Joe",
            "--surname",
            "B",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert!(!ok);
    assert!(err.contains("12 characters"), "{err}");

    // The bootstrap admin can sign in at once; the other account got a set-password email.
    let smtp = SmtpServer::start().await;
    let app = spawn_with(test_settings(&url, smtp.port), smtp).await;
    app.browser
        .log_in("sam.hughes@nhs.net", "a long bootstrap passphrase")
        .await
        .assert_redirect_to("/account/two-factor/setup");
    assert_eq!(app.count("SELECT count(*) FROM role_assignments"), 1);
    let mail = app.smtp.wait_for("kim@nhs.net").await;
    let link = mail.link_to("/verify/");
    assert!(link.starts_with("http://staffroom.test/verify/"), "{link}");
    let path = link.trim_start_matches("http://staffroom.test");
    let form = app.browser.get(path).await;
    assert!(form.body.contains("Choose a password"));
    app.browser
        .submit(path, path, &[("password", "violet tram ankle")])
        .await
        .assert_redirect_to("/login");
    app.browser
        .log_in("kim@nhs.net", "violet tram ankle")
        .await
        .assert_redirect_to("/account/two-factor/setup");
}

#[actix_web::test]
async fn migrate_applies_the_migrations_and_exits() {
    let url = fresh_database();
    let (ok, stdout, err) = staffroom(&url, &["migrate"], None);
    assert!(ok, "{err}");
    assert!(stdout.is_empty());
}

/// `staffroom serve` with nothing configured: creates its cluster, prints the setup link,
/// answers /healthz, and on Ctrl-C stops itself and its PostgreSQL.
#[actix_web::test]
async fn serve_runs_on_its_own_embedded_postgres_and_stops_it_on_ctrl_c() {
    let data_dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("serve-{}", uuid::Uuid::new_v4().simple()));
    let mut server = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_staffroom"))
            .env_remove("DATABASE_URL")
            .env_remove("SMTP_URL")
            .env("STAFFROOM_DATA_DIR", &data_dir)
            .env("STAFFROOM_BIND", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let child = &mut server.0;
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut base_url = None;
    let mut line = String::new();
    while base_url.is_none() && Instant::now() < deadline {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(url) = line.trim().strip_prefix("Staffroom is running at ") {
            base_url = Some(url.to_string());
        }
    }
    let base_url = base_url.expect("the server says where it runs");
    let mut setup_link = String::new();
    stdout.read_line(&mut setup_link).unwrap();
    assert!(
        setup_link.trim().starts_with(&format!("{base_url}/setup/")),
        "{setup_link}"
    );
    std::thread::spawn(move || for _ in stderr.lines() {});

    let browser = Browser::new(&base_url);
    assert_eq!(browser.get("/healthz").await.status, 200);
    assert_eq!(browser.get(setup_link.trim()).await.status, 200);
    assert_eq!(browser.get("/dev/mailbox").await.status, 200);

    // SAFETY: sending SIGINT to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = wait_with_timeout(child, Duration::from_secs(60)).expect("the server stops");
    assert!(status.success());
    let socket = std::fs::read_dir(&data_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.ends_with("postgres"))
        .map(|p| p.join(".s.PGSQL.5432"));
    if let Some(socket) = socket {
        assert!(!socket.exists(), "PostgreSQL stopped with the server");
    }
    let cluster =
        staffroom::db::embedded::EmbeddedPostgres::start(&data_dir, Default::default()).unwrap();
    drop(cluster);
    let _ = std::fs::remove_dir_all(&data_dir);
}

fn wait_with_timeout(
    child: &mut std::process::Child,
    timeout: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    None
}

/// Stops the server (and so its PostgreSQL) even when an assertion fails half-way.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            // SAFETY: sending SIGINT to our own child process.
            unsafe { libc::kill(self.0.id() as i32, libc::SIGINT) };
            let _ = wait_with_timeout(&mut self.0, Duration::from_secs(30));
        }
    }
}
