//! The command line: `serve` (default), `migrate`, `org create`, `user create`. Commands that
//! print an id print it alone on stdout; everything else goes to stderr.

use crate::domain::AuditAction;
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;

use crate::config::Settings;
use crate::db::embedded::{EmbeddedPostgres, Options};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::{organisations, roles, tokens, users};
use crate::db::{self, PgPool};
use crate::domain::{
    EmailAddress, EmailDomains, OrganisationId, Password, PersonName, Token, TokenPurpose, UserId,
};
use crate::mail::{self, messages};

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

    pub fn migrate(&self) -> anyhow::Result<()> {
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
    let org = diesel::Connection::transaction(conn, |conn| {
        let org = organisations::create(conn, name, &domains)?;
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
    let conn = &mut *pool.get()?;
    let org = organisations::find(conn, account.org).context("no organisation with that id")?;
    let domains = organisations::domains(conn, org.id)?;
    if !domains.iter().any(|d| email.is_in_domain(d)) {
        bail!(
            "{} is not in the organisation's domains ({})",
            email,
            domains.join(", ")
        );
    }
    let id = diesel::Connection::transaction(conn, |conn| -> anyhow::Result<UserId> {
        let user = match users::find_by_email(conn, &email)? {
            Some(existing) => {
                eprintln!("{email} already has an account; adding it to {}", org.name);
                existing
            }
            None => users::insert(
                conn,
                &users::NewUser {
                    id: UserId::new(),
                    email: email.as_str(),
                    first_name: first_name.as_str(),
                    surname: surname.as_str(),
                    password_hash: password_hash.as_deref(),
                    email_verified_at: password_hash.as_ref().map(|_| chrono::Utc::now()),
                    medical_secretary: false,
                    imported: false,
                },
            )?,
        };
        organisations::add_member(conn, org.id, user.id)?;
        if account.trust_admin {
            let role = roles::trust_administrator(conn, org.id)?;
            if !roles::organisation_wide_of(conn, org.id, user.id)?
                .iter()
                .any(|r| r.id == role.id)
            {
                roles::assign_organisation_wide(conn, &role, user.id, None)?;
            }
        }
        if user.password_hash.is_none() {
            let token = Token::generate();
            tokens::issue(
                conn,
                TokenPurpose::VerifyEmail,
                Some(user.id),
                &token.hash(),
                chrono::Duration::hours(24),
            )?;
            let message = messages::SetPassword {
                first_name: user.first_name.clone(),
                organisation: org.name.clone(),
                link: format!("{base_url}/verify/{}", token.plain()),
            };
            mail::enqueue(conn, &user.email, &message).map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::AccountCreated, None)
                .target(user.id)
                .organisation(org.id)
                .detail(if account.trust_admin {
                    "command line, trust administrator"
                } else {
                    "command line"
                }),
        )?;
        Ok(user.id)
    })?;
    Ok(id)
}

/// The same import as the web page's (`web::admin::roster::import`), by the command line.
pub fn import_users(
    pool: &PgPool,
    base_url: &str,
    org: OrganisationId,
    file: &std::path::Path,
) -> anyhow::Result<crate::web::admin::roster::Report> {
    let csv = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read {} as UTF-8 text", file.display()))?;
    let conn = &mut *pool.get()?;
    let org = organisations::find(conn, org).context("no organisation with that id")?;
    let actor = crate::web::admin::accounts::Actor {
        user: None,
        ip: None,
    };
    let outcome = diesel::Connection::transaction(conn, |conn| {
        crate::web::admin::roster::import(conn, base_url, &org, &csv, &actor)
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    outcome.map_err(|message| anyhow::anyhow!(message))
}

pub fn read_password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
