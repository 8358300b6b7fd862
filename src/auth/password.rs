//! argon2id with OWASP's parameters (19 MiB, 2 iterations, 1 lane). Both functions block for
//! tens of milliseconds: the services call them on the blocking pool, never on the executor.

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

pub fn hash_blocking(password: &Password) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
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
    fn the_dummy_hash_parses_with_the_real_parameters() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert_eq!(parsed.params.get_str("m"), Some("19456"));
    }
}
