//! Settings read from the environment (see the table in README.md), and the generated secret key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};

use crate::domain::client_address::IpRange;

#[derive(Clone, Debug)]
pub struct Settings {
    /// `None` means: start the embedded PostgreSQL cluster under `data_dir`.
    pub database_url: Option<SecretString>,
    pub data_dir: PathBuf,
    pub bind: String,
    /// Absolute URL used in emailed links, without a trailing slash.
    pub base_url: String,
    pub secret_key: Option<SecretString>,
    /// `None` keeps mail in the outbox, shown at /dev/mailbox.
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,
    pub mail: MailTuning,
    /// How many sign-ins (and other requests that hash a password) run or wait at once.
    pub hashing: HashingTuning,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpRange>,
    /// Whether /dev/mailbox exists (never with an SMTP server).
    pub dev_mailbox: bool,
    pub log_format: LogFormat,
    /// `STAFFROOM_SHUTDOWN_TIMEOUT`: after SIGTERM, how long requests in flight (and the mail
    /// being sent) have to finish before the server stops anyway.
    pub shutdown_timeout: Duration,
    /// The OpenID Connect providers offered at sign-in (`STAFFROOM_OIDC_PROVIDERS`), in order.
    pub oidc: Vec<OidcProvider>,
}

/// One OpenID Connect provider (`STAFFROOM_OIDC_{NAME}_*`).
#[derive(Clone, Debug)]
pub struct OidcProvider {
    /// Lower case, as in the routes: `nhsmail`, `cis2`.
    pub name: String,
    /// Exactly as the provider's ID tokens carry it in `iss`.
    pub issuer: String,
    pub client_id: String,
    pub credentials: OidcCredentials,
    /// The button's words.
    pub label: String,
    /// Beyond `openid email profile`.
    pub scopes: Vec<String>,
    /// Domains whose addresses this provider vouches for, `email_verified` or not.
    pub email_domains: Vec<String>,
    /// `acr` values or `amr` entries that mean a second factor was passed there.
    pub mfa: Vec<String>,
}

/// How Staffroom proves itself to the provider's token endpoint.
#[derive(Clone, Debug)]
pub enum OidcCredentials {
    /// `client_secret_basic`.
    Secret(SecretString),
    /// `private_key_jwt`: the PEM private key (RSA), read at start-up.
    PrivateKey(SecretString),
}

impl OidcProvider {
    /// Reads `STAFFROOM_OIDC_{NAME}_*` through `var`.
    fn from_env(name: &str, var: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let name = name.trim().to_ascii_lowercase();
        anyhow::ensure!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
            "STAFFROOM_OIDC_PROVIDERS: provider names are letters and digits, not {name:?}"
        );
        let prefix = format!("STAFFROOM_OIDC_{}_", name.to_ascii_uppercase());
        let setting = |suffix: &str| var(&format!("{prefix}{suffix}"));
        let required = |suffix: &str| {
            setting(suffix).with_context(|| format!("{prefix}{suffix} is required for {name}"))
        };
        let list = |suffix: &str| -> Vec<String> {
            setting(suffix)
                .unwrap_or_default()
                .split([',', ' '])
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect()
        };
        let credentials = match (setting("CLIENT_SECRET"), setting("PRIVATE_KEY_FILE")) {
            (Some(_), Some(_)) => anyhow::bail!(
                "{prefix}CLIENT_SECRET and {prefix}PRIVATE_KEY_FILE: set one, not both"
            ),
            (Some(secret), None) => OidcCredentials::Secret(SecretString::from(secret)),
            (None, Some(file)) => OidcCredentials::PrivateKey(SecretString::from(
                std::fs::read_to_string(&file)
                    .with_context(|| format!("{prefix}PRIVATE_KEY_FILE: cannot read {file}"))?,
            )),
            (None, None) => anyhow::bail!(
                "{prefix}CLIENT_SECRET or {prefix}PRIVATE_KEY_FILE is required for {name}"
            ),
        };
        let issuer = required("ISSUER")?;
        anyhow::ensure!(
            issuer.starts_with("https://") || issuer.starts_with("http://"),
            "{prefix}ISSUER must be an http(s) URL, not {issuer:?}"
        );
        Ok(Self {
            label: setting("LABEL").unwrap_or_else(|| format!("Sign in with {name}")),
            issuer,
            client_id: required("CLIENT_ID")?,
            credentials,
            scopes: list("SCOPES"),
            email_domains: list("EMAIL_DOMAINS")
                .into_iter()
                .map(|d| d.trim_start_matches('@').to_ascii_lowercase())
                .collect(),
            mfa: list("MFA"),
            name,
        })
    }
}

/// `STAFFROOM_OIDC_PROVIDERS` and each provider's settings.
fn oidc_providers(var: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Vec<OidcProvider>> {
    let mut providers: Vec<OidcProvider> = Vec::new();
    for name in var("STAFFROOM_OIDC_PROVIDERS")
        .unwrap_or_default()
        .split(',')
        .filter(|n| !n.trim().is_empty())
    {
        let provider = OidcProvider::from_env(name, var)?;
        anyhow::ensure!(
            providers.iter().all(|p| p.name != provider.name),
            "STAFFROOM_OIDC_PROVIDERS names {} twice",
            provider.name
        );
        providers.push(provider);
    }
    Ok(providers)
}

/// `STAFFROOM_LOG_FORMAT`: readable lines, or one JSON object per line for a log collector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => anyhow::bail!("STAFFROOM_LOG_FORMAT must be text or json, not {other:?}"),
        }
    }
}

/// Admission to password hashing (`auth::hash_gate`). Not environment settings: sized to the
/// machine, and tests shrink them.
#[derive(Clone, Debug)]
pub struct HashingTuning {
    /// Requests that may run their hashing transaction at once: two per CPU, so that one
    /// request's queries overlap another's hash and the hashing threads never idle.
    pub admitted: usize,
    /// Requests that may wait for a turn; past that they are told to try again in a moment.
    pub waiting: usize,
    /// The longest a request waits in line.
    pub wait_at_most: Duration,
}

impl Default for HashingTuning {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            admitted: cpus * 2,
            // At about 25 ms a hash per CPU, a full line is about 1.6 seconds' work.
            waiting: cpus * 32,
            wait_at_most: Duration::from_secs(5),
        }
    }
}

/// How often the outbox worker looks for mail and how quickly it backs off. Not environment
/// settings: tests shorten them.
#[derive(Clone, Debug)]
pub struct MailTuning {
    pub poll_interval: Duration,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub max_attempts: i32,
}

impl Default for MailTuning {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(2),
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(30 * 60),
            // With the 30-minute cap, about eight days of retrying before a message is marked failed.
            max_attempts: 400,
        }
    }
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let bind = var("STAFFROOM_BIND").unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let base_url = var("STAFFROOM_BASE_URL").unwrap_or_else(|| format!("http://{bind}"));
        let smtp_url = var("SMTP_URL").map(SecretString::from);
        let trusted_proxies =
            IpRange::parse_list(&var("STAFFROOM_TRUSTED_PROXIES").unwrap_or_default())
                .map_err(|e| anyhow::anyhow!("STAFFROOM_TRUSTED_PROXIES: {e}"))?;
        let dev_mailbox = dev_mailbox(
            var("STAFFROOM_DEV_MAILBOX").as_deref(),
            smtp_url.is_some(),
            &bind,
        )?;
        Ok(Self {
            database_url: var("DATABASE_URL").map(SecretString::from),
            data_dir: PathBuf::from(var("STAFFROOM_DATA_DIR").unwrap_or_else(|| "./var".into())),
            base_url: base_url.trim_end_matches('/').to_string(),
            bind,
            secret_key: var("STAFFROOM_SECRET_KEY").map(SecretString::from),
            smtp_url,
            mail_from: var("MAIL_FROM").unwrap_or_else(|| "Staffroom <no-reply@localhost>".into()),
            mail: MailTuning::default(),
            hashing: HashingTuning::default(),
            trusted_proxies,
            dev_mailbox,
            log_format: var("STAFFROOM_LOG_FORMAT").map_or(Ok(LogFormat::Text), |v| v.parse())?,
            shutdown_timeout: shutdown_timeout(var("STAFFROOM_SHUTDOWN_TIMEOUT").as_deref())?,
            oidc: oidc_providers(&var)?,
        })
    }

    /// Under https the session cookie is Secure, `__Host-` prefixed, and HSTS is sent.
    pub fn is_https(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// The key that signs session cookies: from the setting, else generated once into the data
    /// dir (readable by this user only) so that sessions survive a restart.
    pub fn session_key(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(key) = &self.secret_key {
            return decode_key(key.expose_secret()).context("STAFFROOM_SECRET_KEY");
        }
        let path = self.data_dir.join("secret_key");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return decode_key(existing.trim()).with_context(|| format!("{}", path.display()));
        }
        let mut key = [0u8; 64];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
        write_private(&path, &hex::encode(key))?;
        Ok(key.to_vec())
    }
}

/// `STAFFROOM_DEV_MAILBOX`: on or off; unset means on only without SMTP and on a loopback
/// address (a mailbox reachable from elsewhere hands out everyone's links). Never on with SMTP.
fn dev_mailbox(setting: Option<&str>, smtp: bool, bind: &str) -> anyhow::Result<bool> {
    let loopback = bind
        .rsplit_once(':')
        .map(|(host, _)| host.trim_matches(['[', ']']))
        .is_some_and(|host| {
            host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
    match setting.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(!smtp && loopback),
        Some("off") => Ok(false),
        Some("on") if smtp => {
            tracing::warn!(
                "STAFFROOM_DEV_MAILBOX=on is ignored: SMTP_URL is set, so mail is really sent"
            );
            Ok(false)
        }
        Some("on") => Ok(true),
        Some(other) => anyhow::bail!("STAFFROOM_DEV_MAILBOX must be on or off, not {other:?}"),
    }
}

/// `STAFFROOM_SHUTDOWN_TIMEOUT`: whole seconds, 0 to 3600; unset means 30.
fn shutdown_timeout(setting: Option<&str>) -> anyhow::Result<Duration> {
    let Some(text) = setting else {
        return Ok(Duration::from_secs(30));
    };
    match text.trim().parse::<u64>() {
        Ok(seconds) if seconds <= 3600 => Ok(Duration::from_secs(seconds)),
        _ => anyhow::bail!(
            "STAFFROOM_SHUTDOWN_TIMEOUT must be a whole number of seconds from 0 to 3600, not {text:?}"
        ),
    }
}

/// Accepts hex or base64 (standard or URL-safe); at least 64 bytes.
fn decode_key(text: &str) -> anyhow::Result<Vec<u8>> {
    use base64::Engine;
    let bytes = hex::decode(text)
        .ok()
        .or_else(|| base64::engine::general_purpose::STANDARD.decode(text).ok())
        .or_else(|| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text)
                .ok()
        })
        .context("the secret key is neither hex nor base64")?;
    anyhow::ensure!(
        bytes.len() >= 64,
        "the secret key must be at least 64 bytes"
    );
    Ok(bytes)
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mailbox_is_on_by_default_only_on_loopback_without_smtp() {
        assert!(dev_mailbox(None, false, "127.0.0.1:8080").unwrap());
        assert!(dev_mailbox(None, false, "[::1]:8080").unwrap());
        assert!(dev_mailbox(None, false, "localhost:8080").unwrap());
        assert!(!dev_mailbox(None, false, "0.0.0.0:8080").unwrap());
        assert!(!dev_mailbox(None, true, "127.0.0.1:8080").unwrap());
        assert!(!dev_mailbox(Some("on"), true, "127.0.0.1:8080").unwrap());
        assert!(dev_mailbox(Some("on"), false, "0.0.0.0:8080").unwrap());
        assert!(!dev_mailbox(Some("off"), false, "127.0.0.1:8080").unwrap());
        assert!(dev_mailbox(Some("maybe"), false, "127.0.0.1:8080").is_err());
    }

    #[test]
    fn each_named_provider_is_read_from_its_own_settings() {
        let env = std::collections::HashMap::from([
            ("STAFFROOM_OIDC_PROVIDERS", "NHSmail, cis2"),
            ("STAFFROOM_OIDC_NHSMAIL_ISSUER", "https://login.microsoftonline.com/t/v2.0"),
            ("STAFFROOM_OIDC_NHSMAIL_CLIENT_ID", "staffroom"),
            ("STAFFROOM_OIDC_NHSMAIL_CLIENT_SECRET", "s3cret"),
            ("STAFFROOM_OIDC_NHSMAIL_EMAIL_DOMAINS", "nhs.net"),
            ("STAFFROOM_OIDC_NHSMAIL_MFA", "mfa"),
            ("STAFFROOM_OIDC_CIS2_ISSUER", "https://cis2.example/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"),
            ("STAFFROOM_OIDC_CIS2_CLIENT_ID", "cis2-client"),
            ("STAFFROOM_OIDC_CIS2_CLIENT_SECRET", "other"),
            ("STAFFROOM_OIDC_CIS2_SCOPES", "nationalrbacaccess associatedorgs"),
        ]);
        let var = |name: &str| env.get(name).map(|v| v.to_string());
        let providers = oidc_providers(&var).unwrap();
        assert_eq!(providers.len(), 2);
        assert_eq!(providers[0].name, "nhsmail");
        assert_eq!(providers[0].label, "Sign in with nhsmail");
        assert_eq!(providers[0].email_domains, vec!["nhs.net"]);
        assert_eq!(
            providers[1].scopes,
            vec!["nationalrbacaccess", "associatedorgs"]
        );
        assert!(providers[1].mfa.is_empty());
        let missing = |name: &str| {
            (name != "STAFFROOM_OIDC_CIS2_CLIENT_SECRET")
                .then(|| env.get(name).map(|v| v.to_string()))
                .flatten()
        };
        assert!(oidc_providers(&missing).is_err());
    }

    #[test]
    fn a_short_key_is_refused() {
        assert!(decode_key(&hex::encode([1u8; 32])).is_err());
        assert_eq!(decode_key(&hex::encode([1u8; 64])).unwrap().len(), 64);
    }

    #[test]
    fn the_shutdown_timeout_is_whole_seconds_with_a_default_of_thirty() {
        assert_eq!(shutdown_timeout(None).unwrap(), Duration::from_secs(30));
        assert_eq!(
            shutdown_timeout(Some(" 5 ")).unwrap(),
            Duration::from_secs(5)
        );
        assert_eq!(shutdown_timeout(Some("0")).unwrap(), Duration::ZERO);
        for bad in ["-1", "2.5", "30s", "3601"] {
            assert!(shutdown_timeout(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_log_format_is_text_or_json() {
        assert_eq!("json".parse::<LogFormat>().unwrap(), LogFormat::Json);
        assert_eq!(" Text ".parse::<LogFormat>().unwrap(), LogFormat::Text);
        assert!("yaml".parse::<LogFormat>().is_err());
    }
}
