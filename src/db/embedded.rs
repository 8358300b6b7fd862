//! The embedded PostgreSQL cluster that `serve` and the tests start themselves: find the server
//! binaries, initdb on first run, start on a Unix socket only (no TCP port), stop on shutdown.
//!
//! PostgreSQL refuses to run as root. When this process is root the cluster runs as the
//! `postgres` system user, in a directory that user can reach.

use std::ffi::CString;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{bail, Context};
use diesel::{Connection, PgConnection, RunQueryDsl};

/// The superuser created by initdb; the only role the application uses.
const SUPERUSER: &str = "staffroom";
/// Decides the socket's file name (`.s.PGSQL.5432`); nothing listens on TCP.
const PORT: u16 = 5432;
const RUN_AS_WHEN_ROOT: &str = "postgres";

#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// fsync and friends off: for throwaway test clusters only.
    pub ephemeral: bool,
}

#[derive(Debug)]
pub struct EmbeddedPostgres {
    cluster_dir: PathBuf,
    bin_dir: PathBuf,
    run_as: Option<SystemUser>,
    /// false when a server from an earlier run was still up and was adopted (and a CLI
    /// command must not stop the cluster a running `serve` uses).
    started_here: bool,
    running: bool,
}

#[derive(Clone, Debug)]
struct SystemUser {
    name: String,
    uid: u32,
    gid: u32,
}

impl EmbeddedPostgres {
    /// Starts (or adopts) the cluster for `data_dir`, creating it on first use.
    pub fn start(data_dir: &Path, options: Options) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir()?;
        let run_as = if is_root() {
            Some(SystemUser::lookup(RUN_AS_WHEN_ROOT).with_context(|| {
                "PostgreSQL refuses to run as root and there is no `postgres` system user: \
                 install the postgresql package (it creates one) or run Staffroom as another user"
            })?)
        } else {
            None
        };
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize()?;
        let cluster_dir = choose_cluster_dir(&data_dir, run_as.as_ref());
        let mut cluster = Self {
            cluster_dir,
            bin_dir,
            run_as,
            started_here: false,
            running: false,
        };
        cluster.prepare_dir()?;
        if !cluster.cluster_dir.join("PG_VERSION").exists() {
            cluster.initdb(options)?;
        }
        if cluster.is_running()? {
            tracing::info!(dir = %cluster.cluster_dir.display(), "adopting the PostgreSQL server already running");
        } else {
            cluster.remove_stale_pid_file();
            cluster.start_server(options)?;
            cluster.started_here = true;
        }
        cluster.running = true;
        Ok(cluster)
    }

    pub fn cluster_dir(&self) -> &Path {
        &self.cluster_dir
    }

    /// A libpq URL that reaches the cluster through its Unix socket.
    pub fn database_url(&self, database: &str) -> String {
        let socket_dir = self.cluster_dir.display().to_string().replace(' ', "%20");
        format!("postgres://{SUPERUSER}@/{database}?host={socket_dir}&port={PORT}")
    }

    /// Creates `name` unless it exists.
    pub fn ensure_database(&self, name: &str) -> anyhow::Result<()> {
        let mut conn = PgConnection::establish(&self.database_url("postgres"))?;
        match diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut conn) {
            Ok(_) => Ok(()),
            Err(e) if e.to_string().contains("already exists") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Stops the server if this process started it. Also run on drop.
    pub fn stop(&mut self) {
        if !self.running || !self.started_here {
            return;
        }
        self.running = false;
        match self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", "60"]) {
            Ok(out) if out.status.success() => tracing::info!("PostgreSQL stopped"),
            Ok(out) => {
                tracing::warn!(stderr = %String::from_utf8_lossy(&out.stderr), "pg_ctl stop failed")
            }
            Err(e) => tracing::warn!(error = %e, "pg_ctl stop failed"),
        }
    }

    /// Stops the server even if an earlier run started it (test clusters, which are always
    /// this process's to stop).
    pub fn shutdown(&mut self) {
        self.started_here = true;
        self.running = true;
        self.stop();
    }

    /// True when a postmaster answers for this cluster directory.
    pub fn is_running(&self) -> anyhow::Result<bool> {
        // pg_ctl status: 0 running, 3 not running, 4 no data directory.
        Ok(self.pg_ctl(&["status"])?.status.success())
    }

    fn prepare_dir(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.cluster_dir)
            .with_context(|| format!("cannot create {}", self.cluster_dir.display()))?;
        std::fs::set_permissions(&self.cluster_dir, std::fs::Permissions::from_mode(0o700))?;
        if let Some(user) = &self.run_as {
            chown(&self.cluster_dir, user)?;
        }
        Ok(())
    }

    fn initdb(&self, options: Options) -> anyhow::Result<()> {
        tracing::info!(dir = %self.cluster_dir.display(), "creating the PostgreSQL cluster (initdb)");
        let dir = self.cluster_dir.display().to_string();
        let mut args = vec![
            "-D",
            &dir,
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
        ];
        if options.ephemeral {
            args.push("--no-sync");
        }
        let out = self.command("initdb").args(&args).output()?;
        ensure_success("initdb", &out)
    }

    fn start_server(&self, options: Options) -> anyhow::Result<()> {
        let dir = self.cluster_dir.display().to_string();
        let mut server_options = format!(
            "-c listen_addresses='' -c unix_socket_directories='{dir}' -c port={PORT} \
             -c max_connections=300 -c shared_buffers=64MB"
        );
        if options.ephemeral {
            server_options
                .push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let log = self.cluster_dir.join("server.log").display().to_string();
        let out = self.pg_ctl(&["start", "-w", "-t", "60", "-l", &log, "-o", &server_options])?;
        ensure_success("pg_ctl start", &out)
            .with_context(|| format!("see the server log at {log}"))?;
        tracing::info!(dir = %dir, "PostgreSQL started on a Unix socket");
        Ok(())
    }

    /// After a crash postmaster.pid may name a process that is gone; PostgreSQL would refuse to
    /// start (or, if the pid was reused, wait for the wrong process).
    fn remove_stale_pid_file(&self) {
        let pid_file = self.cluster_dir.join("postmaster.pid");
        if pid_file.exists() {
            tracing::warn!("removing a stale postmaster.pid left by a crash");
            let _ = std::fs::remove_file(pid_file);
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> anyhow::Result<Output> {
        let dir = self.cluster_dir.display().to_string();
        let mut command = self.command("pg_ctl");
        command.args(args).args(["-D", &dir]);
        Ok(command.output()?)
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin_dir.join(program);
        match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", &user.name, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        }
    }
}

/// One of PostgreSQL's programs (`pg_basebackup`, `pg_ctl`, `initdb` ...) from the binaries the
/// embedded cluster uses, run as the cluster's user when this process is root. For operators'
/// scripts and the tests that build replicas.
pub fn server_program(program: &str) -> anyhow::Result<Command> {
    let bin_dir = find_bin_dir()?;
    let path = bin_dir.join(program);
    if !path.is_file() {
        bail!("{program} is not in {}", bin_dir.display());
    }
    if !is_root() {
        return Ok(Command::new(path));
    }
    let user = SystemUser::lookup(RUN_AS_WHEN_ROOT)?;
    let mut command = Command::new("runuser");
    command.args(["-u", &user.name, "--"]).arg(path);
    Ok(command)
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn ensure_success(what: &str, out: &Output) -> anyhow::Result<()> {
    if out.status.success() {
        return Ok(());
    }
    bail!(
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// PATH first, then `pg_config --bindir`, then Debian's /usr/lib/postgresql/<version>/bin
/// (newest version first).
fn find_bin_dir() -> anyhow::Result<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_server(&dir) {
                // Resolve symlinks so that pg_ctl finds `postgres` beside its real self.
                let initdb = dir.join("initdb").canonicalize()?;
                return Ok(initdb.parent().unwrap_or(&dir).to_path_buf());
            }
        }
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_server(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Ok(dir);
    }
    bail!(
        "PostgreSQL's server programs (initdb, pg_ctl) were not found on PATH, through \
         `pg_config --bindir`, or under /usr/lib/postgresql/*/bin. Install them \
         (Debian/Ubuntu: `apt-get install postgresql`; Fedora: `dnf install postgresql-server`; \
         macOS: `brew install postgresql`), or set DATABASE_URL to use an existing server."
    )
}

/// `data_dir/postgres`, unless the cluster's user cannot reach it (root's 0700 home, say):
/// then /var/lib/staffroom/<name>, owned by that user.
fn choose_cluster_dir(data_dir: &Path, run_as: Option<&SystemUser>) -> PathBuf {
    let preferred = data_dir.join("postgres");
    let Some(user) = run_as else {
        return preferred;
    };
    if reachable_by(data_dir, user) {
        return preferred;
    }
    let name: String = data_dir
        .display()
        .to_string()
        .trim_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let fallback = Path::new("/var/lib/staffroom").join(name);
    tracing::warn!(
        "the `{}` user cannot reach {}; the PostgreSQL cluster is kept under {} instead",
        user.name,
        data_dir.display(),
        fallback.display()
    );
    eprintln!(
        "Note: PostgreSQL runs as `{}`, which cannot reach {}; its cluster lives in {}",
        user.name,
        data_dir.display(),
        fallback.display()
    );
    fallback
}

/// Every directory from / down to `dir` must be searchable by `user`.
fn reachable_by(dir: &Path, user: &SystemUser) -> bool {
    dir.ancestors()
        .all(|ancestor| match std::fs::metadata(ancestor) {
            Ok(meta) => {
                let mode = meta.mode();
                (meta.uid() == user.uid && mode & 0o100 != 0)
                    || (meta.gid() == user.gid && mode & 0o010 != 0)
                    || mode & 0o001 != 0
            }
            Err(_) => false,
        })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

impl SystemUser {
    fn lookup(name: &str) -> anyhow::Result<Self> {
        let c_name = CString::new(name)?;
        // SAFETY: getpwnam returns NULL or a pointer to static storage that we copy out of at once.
        let entry = unsafe { libc::getpwnam(c_name.as_ptr()) };
        if entry.is_null() {
            bail!("no system user named {name}");
        }
        // SAFETY: entry is non-null and points to a valid passwd record.
        let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
        Ok(Self {
            name: name.to_string(),
            uid,
            gid,
        })
    }
}

fn chown(path: &Path, user: &SystemUser) -> anyhow::Result<()> {
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
        .with_context(|| format!("cannot give {} to {}", path.display(), user.name))
}
