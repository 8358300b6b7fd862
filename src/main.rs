//! `staffroom <command>`: parse the command line, load the settings, dispatch.

use std::process::ExitCode;

use clap::Parser;
use staffroom::cli::{self, Cli, Command, Database, NewAccount, OrgCommand, UserCommand};
use staffroom::config::Settings;
use staffroom::db::migrations::MigrationError;
use staffroom::startup::Application;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = Settings::from_env().and_then(|settings| {
        staffroom::telemetry::init(settings.log_format);
        run(cli, settings)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => {
            let database = Database::open(&settings)?;
            database.migrate()?;
            eprintln!("Migrations applied.");
            Ok(())
        }
        Command::Org {
            command:
                OrgCommand::Create {
                    name,
                    domains,
                    ods_code,
                },
        } => {
            let database = Database::open(&settings)?;
            database.migrate()?;
            let id = cli::create_organisation_with_ods_code(
                &database.pool(2),
                &name,
                &domains,
                ods_code.as_deref(),
            )?;
            println!("{id}");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    org,
                    email,
                    first_name,
                    surname,
                    trust_admin,
                    password_stdin,
                },
        } => {
            let password = password_stdin
                .then(cli::read_password_from_stdin)
                .transpose()?;
            let database = Database::open(&settings)?;
            database.migrate()?;
            let account = NewAccount {
                org,
                email,
                first_name,
                surname,
                trust_admin,
                password,
            };
            let id = cli::create_user(&database.pool(2), &settings.base_url, account)?;
            println!("{id}");
            Ok(())
        }
        Command::User {
            command: UserCommand::Deactivate { email },
        } => switch_account(&settings, &email, false),
        Command::User {
            command: UserCommand::Reactivate { email },
        } => switch_account(&settings, &email, true),
        Command::ImportUsers { org, file } => {
            let database = Database::open(&settings)?;
            database.migrate()?;
            let report = cli::import_users(&database.pool(2), &settings.base_url, org, &file)?;
            for row in &report.rows {
                let who = format!("{} <{}>", row.name, row.email);
                println!(
                    "line {}: {}: {who}: {}",
                    row.line,
                    row.outcome.label(),
                    row.note
                );
            }
            println!("{}", report.summary());
            Ok(())
        }
    }
}

fn switch_account(settings: &Settings, email: &str, active: bool) -> anyhow::Result<()> {
    let database = Database::open(settings)?;
    database.migrate()?;
    let message = cli::switch_account(&database.pool(2), email, active)?;
    eprintln!("{message}");
    Ok(())
}

/// Migrates (or waits for the server that is migrating), serves until SIGTERM, then stops in
/// the order `staffroom::shutdown` gives, the embedded cluster last.
fn serve(settings: Settings) -> anyhow::Result<()> {
    let database = Database::open(&settings)?;
    let migrated = match database.migrate() {
        Ok(_) => true,
        // An external server that is down: serve 503s (and /readyz says not ready) and migrate
        // once it is back.
        Err(MigrationError::Unreachable(e)) if database.embedded.is_none() => {
            tracing::warn!(error = %e, "database unavailable at start; migrations will be retried");
            false
        }
        Err(e) => anyhow::bail!("{e}\nThe server did not start."),
    };
    let pool = database.pool(10);
    let failed_migration = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let failure = failed_migration.clone();
    let url = database.url.clone();
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings.clone(), pool.clone()).await?;
        if !migrated {
            actix_web::rt::spawn(migrate_when_reachable(
                url,
                app.handle(),
                failure,
            ));
        }
        eprintln!("Staffroom is running at {}", app.base_url());
        let setup_link = staffroom::web::setup::issue_link_if_empty(&pool, app.base_url())
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not check for first-run setup");
                None
            });
        if let Some(link) = setup_link {
            eprintln!("First run: create the first organisation and its trust administrator at");
            println!("{link}");
        }
        match (settings.smtp_url.is_some(), settings.dev_mailbox) {
            (true, _) => {}
            (false, true) => eprintln!(
                "NO EMAIL IS SENT: SMTP_URL is not set. Emails are kept and shown at {}/dev/mailbox",
                app.base_url()
            ),
            (false, false) => eprintln!(
                "WARNING: NO EMAIL LEAVES THIS SERVER: SMTP_URL is not set and the development mailbox is off. Mail waits in the outbox until SMTP_URL is set."
            ),
        }
        app.run_until_signalled().await?;
        anyhow::Ok(())
    })?;
    // The pool went with the server; now the embedded cluster, if this process runs one.
    drop(database);
    if let Some(e) = failed_migration.lock().unwrap().take() {
        anyhow::bail!("{e}\nThe server stopped.");
    }
    eprintln!("Staffroom stopped.");
    Ok(())
}

/// Retries the migrations every five seconds until the database answers; a migration that
/// fails then stops the server (it must not serve a schema it does not know).
async fn migrate_when_reachable(
    url: String,
    server: actix_web::dev::ServerHandle,
    failure: std::sync::Arc<std::sync::Mutex<Option<String>>>,
) {
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        let url = url.clone();
        match tokio::task::spawn_blocking(move || staffroom::db::run_migrations(&url)).await {
            Ok(Ok(_)) => {
                tracing::info!("database reachable; migrations applied");
                return;
            }
            Ok(Err(MigrationError::Unreachable(_))) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, "migrations failed; stopping the server");
                *failure.lock().unwrap() = Some(e.to_string());
                server.stop(true).await;
                return;
            }
            Err(e) => tracing::warn!(error = %e, "migration task failed"),
        }
    }
}
