//! argon2id with OWASP's parameters (19 MiB, 2 iterations, 1 lane). Both functions block for
//! tens of milliseconds: the services call them on the blocking pool, never on the executor.
//! At most one hash per CPU runs at once, process-wide (`Bound`): a flood of sign-ins or
//! sign-ups waits its turn instead of holding 19 MiB per request on every blocking thread.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::Password;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A counting semaphore for blocking threads (the hashes run on the blocking pool, where an
/// async semaphore cannot be awaited), with the gauges the tests read.
struct Bound {
    limit: usize,
    running: Mutex<usize>,
    freed: Condvar,
    /// The most that ever ran at once.
    peak: AtomicUsize,
}

/// Holds one of the bound's places while a hash runs.
struct Place(&'static Bound);

impl Bound {
    fn global() -> &'static Bound {
        static BOUND: OnceLock<Bound> = OnceLock::new();
        BOUND.get_or_init(|| Bound {
            limit: std::thread::available_parallelism().map_or(2, |n| n.get()),
            running: Mutex::new(0),
            freed: Condvar::new(),
            peak: AtomicUsize::new(0),
        })
    }

    fn enter(&'static self) -> Place {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= self.limit {
            running = self.freed.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        self.peak.fetch_max(*running, Ordering::SeqCst);
        Place(self)
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut running = self.0.running.lock().unwrap_or_else(|e| e.into_inner());
        *running -= 1;
        self.0.freed.notify_one();
    }
}

/// How many hashes may run at once, and the most that ever did (for tests and operators).
pub fn hashing_bound() -> (usize, usize) {
    let bound = Bound::global();
    (bound.limit, bound.peak.load(Ordering::SeqCst))
}

pub fn hash_blocking(password: &Password) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let _place = Bound::global().enter();
    argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// Checks a typed password against a stored hash. With no stored hash (unknown account, or no
/// password chosen yet) a fixed hash is checked instead, so that both take the same time.
pub fn verify_blocking(candidate: &SecretString, stored: Option<&str>) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(stored.unwrap_or(DUMMY_HASH))
        .map_err(|e| anyhow::anyhow!("bad hash: {e}"))?;
    let _place = Bound::global().enter();
    let matches = argon2()
        .verify_password(candidate.expose_secret().as_bytes(), &parsed)
        .is_ok();
    Ok(matches && stored.is_some())
}

/// argon2id of a random string nobody knows, with the same parameters as real hashes.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Yw3jr6OpA8Jg5GkE0dV0ZKpW6wQ1hYtM2bU8h3CkH9E";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_hashes_never_run_more_than_the_bound_at_once() {
        let (limit, _) = hashing_bound();
        let threads: Vec<_> = (0..limit * 3)
            .map(|_| {
                std::thread::spawn(|| {
                    let password = Password::parse("a long enough passphrase", &[]).unwrap();
                    hash_blocking(&password).unwrap()
                })
            })
            .collect();
        for thread in threads {
            assert!(thread.join().unwrap().starts_with("$argon2id$"));
        }
        let (_, peak) = hashing_bound();
        assert!(
            peak >= 1 && peak <= limit,
            "{peak} hashes at once, bound {limit}"
        );
    }

    #[test]
    fn the_dummy_hash_parses_with_the_real_parameters() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert_eq!(parsed.params.get_str("m"), Some("19456"));
    }
}
