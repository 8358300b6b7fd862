//! argon2id with OWASP's parameters (19 MiB, 2 iterations, 1 lane). Every hash and check runs
//! on a few threads of its own (`Hashers`, one per CPU), never on the executor and never on
//! the blocking pool that runs queries: at most one hash per CPU runs at once, process-wide,
//! so memory is bounded by CPUs × 19 MiB whatever the burst, and pages keep their threads.
//! The callers (services on the blocking pool) wait for the answer; how many may wait is
//! bounded above them, in the web layer's admission (`auth::hash_gate`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

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

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads, with the gauges the tests and benchmarks read.
struct Hashers {
    limit: usize,
    jobs: Mutex<mpsc::Sender<Job>>,
    running: AtomicUsize,
    /// The most that ever ran at once.
    peak: AtomicUsize,
}

impl Hashers {
    fn global() -> &'static Hashers {
        static HASHERS: OnceLock<Hashers> = OnceLock::new();
        HASHERS.get_or_init(|| {
            let limit = std::thread::available_parallelism().map_or(2, |n| n.get());
            release_large_buffers();
            let (jobs, queue) = mpsc::channel::<Job>();
            let queue = std::sync::Arc::new(Mutex::new(queue));
            for n in 0..limit {
                let queue = queue.clone();
                std::thread::Builder::new()
                    .name(format!("argon2-{n}"))
                    .spawn(move || loop {
                        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    })
                    .expect("a hashing thread starts");
            }
            Hashers {
                limit,
                jobs: Mutex::new(jobs),
                running: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
            }
        })
    }

    /// Runs `work` on a hashing thread and waits for its answer.
    fn run<T: Send + 'static>(&'static self, work: impl FnOnce() -> T + Send + 'static) -> T {
        let (answer, answered) = mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            let result = work();
            self.running.fetch_sub(1, Ordering::SeqCst);
            let _ = answer.send(result);
        });
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(job)
            .expect("the hashing threads run for the life of the process");
        answered
            .recv()
            .expect("a hashing thread answers every job it takes")
    }
}

/// glibc keeps a freed block of a thread's arena for reuse, and after the first large free it
/// raises its threshold so later 19 MiB buffers come from the arenas too: each thread that ever
/// hashed would keep one. A fixed threshold sends every large buffer to mmap and back at free,
/// so the resident memory of hashing is what runs now, not what ever ran.
fn release_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; it is safe to call at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// How many hashes may run at once, and the most that ever did (for tests and operators).
pub fn hashing_bound() -> (usize, usize) {
    let hashers = Hashers::global();
    (hashers.limit, hashers.peak.load(Ordering::SeqCst))
}

/// How many hashes are running at this moment.
pub fn hashing_now() -> usize {
    Hashers::global().running.load(Ordering::SeqCst)
}

pub fn hash_blocking(password: &Password) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let secret = SecretString::from(password.expose().to_string());
    Hashers::global().run(move || {
        argon2()
            .hash_password(secret.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
}

/// Checks a typed password against a stored hash. With no stored hash (unknown account, or no
/// password chosen yet) a fixed hash is checked instead, so that both take the same time.
pub fn verify_blocking(candidate: &SecretString, stored: Option<&str>) -> anyhow::Result<bool> {
    let known = stored.is_some();
    let stored = stored.unwrap_or(DUMMY_HASH).to_string();
    PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("bad hash: {e}"))?;
    let candidate = candidate.clone();
    let matches = Hashers::global().run(move || {
        PasswordHash::new(&stored).is_ok_and(|parsed| {
            argon2()
                .verify_password(candidate.expose_secret().as_bytes(), &parsed)
                .is_ok()
        })
    });
    Ok(matches && known)
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
