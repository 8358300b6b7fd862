//! A password that meets the rules: 12 to 128 characters, no composition rules, not a common
//! password (an offline list), not containing the person's own name or email.

use std::collections::HashSet;
use std::sync::OnceLock;

use secrecy::{ExposeSecret, SecretString};

use super::DomainError;

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 128;

/// The 10,000 most common passwords (from zxcvbn's frequency lists), lower-cased.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

pub struct Password(SecretString);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(redacted)")
    }
}

impl Password {
    /// `personal` holds the person's first name, surname and email address.
    pub fn parse(raw: &str, personal: &[&str]) -> Result<Self, DomainError> {
        let length = raw.chars().count();
        if length == 0 {
            return Err(DomainError::new("Enter a password"));
        }
        if length < MIN_LENGTH {
            return Err(DomainError::new(format!(
                "Password must be {MIN_LENGTH} characters or more"
            )));
        }
        if length > MAX_LENGTH {
            return Err(DomainError::new(format!(
                "Password must be {MAX_LENGTH} characters or fewer"
            )));
        }
        // A password is typed at a keyboard: a control character was pasted by mistake, and
        // would not be typed the same way at the next sign-in.
        if raw.chars().any(char::is_control) {
            return Err(DomainError::new(
                "Password must not include hidden control characters. Type it rather than pasting it",
            ));
        }
        if is_common(raw) {
            return Err(DomainError::new(
                "This password is too common and easy to guess. Try a few unrelated words together",
            ));
        }
        let lower = raw.to_lowercase();
        if personal_parts(personal)
            .iter()
            .any(|part| lower.contains(part.as_str()))
        {
            return Err(DomainError::new(
                "Password must not include your name or email address",
            ));
        }
        Ok(Self(SecretString::from(raw.to_string())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

fn common_set() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON_PASSWORDS.lines().filter(|l| !l.is_empty()).collect())
}

/// Common as it is, or a common password padded with digits and symbols ("password1234!"),
/// or one repeated ("passwordpassword"), or a run of one character.
fn is_common(raw: &str) -> bool {
    let lower = raw.to_lowercase();
    let set = common_set();
    if set.contains(lower.as_str()) {
        return true;
    }
    let core = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    let core = core.trim_start_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    if core.is_empty() {
        // Only digits and symbols: "123456789012" and friends are guessed first.
        return lower.chars().collect::<HashSet<_>>().len() < 6 || is_sequence(&lower);
    }
    if core.len() >= 4 && set.contains(core) {
        return true;
    }
    let first = lower.chars().next();
    if lower.chars().all(|c| Some(c) == first) {
        return true;
    }
    (1..=lower.len() / 2).any(|n| {
        lower.len() % n == 0
            && lower.is_char_boundary(n)
            && lower[..n].repeat(lower.len() / n) == lower
            && (n < 4 || set.contains(&lower[..n]))
    })
}

fn is_sequence(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes
        .windows(2)
        .all(|w| w[1] == w[0] + 1 || (w[0] == b'9' && w[1] == b'0'))
}

/// The name parts and the email's local part worth refusing (3 characters or more).
fn personal_parts(personal: &[&str]) -> Vec<String> {
    let mut parts = Vec::new();
    for value in personal {
        let value = value.trim().to_lowercase();
        let local = value.split('@').next().unwrap_or("").to_string();
        parts.push(local.clone());
        parts.extend(
            local
                .split(|c: char| !c.is_alphanumeric())
                .map(str::to_string),
        );
    }
    parts.retain(|p| p.chars().count() >= 3);
    parts.sort();
    parts.dedup();
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_passwords_are_refused() {
        assert!(Password::parse("abcde", &[]).is_err());
        assert!(Password::parse(&"x".repeat(129), &[]).is_err());
        assert!(Password::parse("violet tram ankle", &[]).is_ok());
    }

    #[test]
    fn a_password_with_a_control_character_is_refused() {
        assert!(Password::parse("violet tram\0ankle", &[]).is_err());
        assert!(Password::parse("violet tram\u{1b}ankle", &[]).is_err());
        assert!(Password::parse("violet träm änkle", &[]).is_ok());
    }

    #[test]
    fn common_passwords_are_refused() {
        for common in [
            "password1234",
            "passwordpassword",
            "123456789012",
            "qwertyuiop12",
            "Password123!",
            "iloveyou12345",
            "aaaaaaaaaaaaaa",
            "1qaz2wsx3edc",
        ] {
            assert!(Password::parse(common, &[]).is_err(), "{common}");
        }
    }

    #[test]
    fn a_password_with_the_persons_name_or_email_is_refused() {
        let personal = ["Amy", "Okonkwo", "amy.okonkwo@nhs.net"];
        assert!(Password::parse("okonkwo-lighthouse", &personal).is_err());
        assert!(Password::parse("lighthouse amy 77", &personal).is_err());
        assert!(Password::parse("violet tram ankle", &personal).is_ok());
    }
}
