//! The command line: `serve` (default), `migrate`, `org create`, `user create`, `user
//! deactivate` and `user reactivate` (the operator's switch for a whole account), `import-users`.
//! Commands that print an id print it alone on stdout; everything else goes to stderr.

use crate::domain::AuditAction;
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;

use crate::config::Settings;
use crate::db::embedded::{EmbeddedPostgres, Options};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::organisations;
use crate::db::{self, PgPool};
use crate::domain::{
    EmailAddress, EmailDomains, OdsCode, OrganisationId, Password, PersonName, UserId,
};
use crate::services::accounts::{self, Account};
use crate::services::{self, roster, Actor, Decision};

#[derive(Parser, Debug)]
#[command(
    name = "staffroom",
    version,
    about = "Workspaces and invitations for NHS clinical teams"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web application (and deliver mail from the outbox).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// People.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Import rostered medics from a CSV (first_name,surname,email[,grade]); prints the report.
    ImportUsers {
        #[arg(long)]
        org: OrganisationId,
        /// The CSV file.
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Create an organisation; prints its id.
    Create {
        #[arg(long)]
        name: String,
        /// An allowed email domain (repeatable); default nhs.net and nhs.uk.
        #[arg(long = "domain")]
        domains: Vec<String>,
        /// The organisation's ODS code: NHS CIS2 sign-ins with a role there join it.
        #[arg(long)]
        ods_code: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account in an organisation; prints its id.
    Create {
        #[arg(long)]
        org: OrganisationId,
        #[arg(long)]
        email: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        surname: String,
        /// Give the account the built-in "Trust administrator" role.
        #[arg(long)]
        trust_admin: bool,
        /// Read the password from standard input: the account is verified and active at once.
        /// Without it, a 24-hour email to choose a password is queued.
        #[arg(long)]
        password_stdin: bool,
    },
    /// The operator's switch: deactivate an account, whatever organisations it belongs to,
    /// ending every session at once.
    Deactivate {
        #[arg(long)]
        email: String,
    },
    /// Reactivate a deactivated account.
    Reactivate {
        #[arg(long)]
        email: String,
    },
}

/// The database the process uses: the embedded cluster (kept alive while this value lives) or
/// DATABASE_URL's server.
pub struct Database {
    pub url: String,
    pub embedded: Option<EmbeddedPostgres>,
}

impl Database {
    pub fn open(settings: &Settings) -> anyhow::Result<Self> {
        if let Some(url) = &settings.database_url {
            return Ok(Self {
                url: url.expose_secret().to_string(),
                embedded: None,
            });
        }
        let cluster = EmbeddedPostgres::start(&settings.data_dir, Options::default())?;
        cluster.ensure_database("staffroom")?;
        Ok(Self {
            url: cluster.database_url("staffroom"),
            embedded: Some(cluster),
        })
    }

    /// Applies the pending migrations (one process at a time); how many it applied.
    pub fn migrate(&self) -> Result<usize, db::migrations::MigrationError> {
        db::run_migrations(&self.url)
    }

    pub fn pool(&self, size: u32) -> PgPool {
        db::pool(&self.url, size)
    }
}

pub fn create_organisation(
    pool: &PgPool,
    name: &str,
    domains: &[String],
) -> anyhow::Result<OrganisationId> {
    create_organisation_with_ods_code(pool, name, domains, None)
}

/// `org create` with `--ods-code`.
pub fn create_organisation_with_ods_code(
    pool: &PgPool,
    name: &str,
    domains: &[String],
    ods_code: Option<&str>,
) -> anyhow::Result<OrganisationId> {
    let ods_code = ods_code
        .map(OdsCode::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--ods-code: {}", e.0))?;
    let name = name.trim();
    if name.is_empty() {
        bail!("--name must not be empty");
    }
    let domains = if domains.is_empty() {
        EmailDomains::default()
    } else {
        EmailDomains::parse(&domains.join(",")).map_err(|e| anyhow::anyhow!(e.0))?
    };
    let conn = &mut *pool.get()?;
    if let Some(code) = &ods_code {
        if let Some(other) = organisations::other_with_ods_code(conn, OrganisationId::new(), code)?
        {
            bail!("{} already has the ODS code {}", other.name, code.as_str());
        }
    }
    let org = diesel::Connection::transaction(conn, |conn| {
        let org = organisations::create_with_ods_code(conn, name, &domains, ods_code.as_ref())?;
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::OrganisationCreated, None)
                .organisation(org.id)
                .detail(format!("{} (command line)", org.name)),
        )?;
        Ok::<_, diesel::result::Error>(org)
    })?;
    Ok(org.id)
}

pub struct NewAccount {
    pub org: OrganisationId,
    pub email: String,
    pub first_name: String,
    pub surname: String,
    pub trust_admin: bool,
    /// `Some`: verified at once with this password; `None`: a set-password email is queued.
    pub password: Option<String>,
}

pub fn create_user(pool: &PgPool, base_url: &str, account: NewAccount) -> anyhow::Result<UserId> {
    let err = |e: crate::domain::DomainError| anyhow::anyhow!(e.0);
    let email = EmailAddress::parse(&account.email).map_err(err)?;
    let first_name = PersonName::parse(&account.first_name, "first name").map_err(err)?;
    let surname = PersonName::parse(&account.surname, "surname").map_err(err)?;
    let password_hash = match &account.password {
        Some(raw) => {
            let password = Password::parse(
                raw,
                &[&account.first_name, &account.surname, &account.email],
            )
            .map_err(err)?;
            Some(crate::auth::password::hash_blocking(&password)?)
        }
        None => None,
    };
    let parsed = accounts::CommandLineAccount {
        email,
        first_name,
        surname,
        password_hash,
        trust_admin: account.trust_admin,
    };
    let conn = &mut *pool.get()?;
    let org = organisations::find(conn, account.org).context("no organisation with that id")?;
    let decision = services::decide_on(conn, |conn| {
        accounts::create_from_command_line(conn, base_url, &org, &parsed)
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    match decision {
        Decision::Done(Account::Created(user)) => Ok(user.id),
        Decision::Done(Account::Existing { user, .. }) => {
            eprintln!(
                "{} already has an account; adding it to {}",
                parsed.email, org.name
            );
            Ok(user.id)
        }
        Decision::Refused(reason) => bail!(reason),
    }
}

/// `user deactivate` / `user reactivate`: what happened, in a sentence.
pub fn switch_account(pool: &PgPool, email: &str, active: bool) -> anyhow::Result<String> {
    let email = EmailAddress::parse(email).map_err(|e| anyhow::anyhow!(e.0))?;
    let conn = &mut *pool.get()?;
    let decision = services::decide_on(conn, |conn| accounts::switch_account(conn, &email, active))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    match decision {
        Decision::Done(message) => Ok(message),
        Decision::Refused(reason) => bail!(reason),
    }
}

/// The same import as the web page's (`services::roster::import`), by the command line.
pub fn import_users(
    pool: &PgPool,
    base_url: &str,
    org: OrganisationId,
    file: &std::path::Path,
) -> anyhow::Result<roster::Report> {
    let csv = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read {} as UTF-8 text", file.display()))?;
    let conn = &mut *pool.get()?;
    let org = organisations::find(conn, org).context("no organisation with that id")?;
    let decision = services::decide_on(conn, |conn| {
        roster::import(conn, base_url, &Actor::system(), &org, &csv)
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    match decision {
        Decision::Done(report) => Ok(report),
        Decision::Refused(message) => bail!(message),
    }
}

pub fn read_password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
