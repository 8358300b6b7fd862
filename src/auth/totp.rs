//! Authenticator codes (RFC 6238: SHA-1, 6 digits, 30-second steps). A code is accepted for the
//! current step or one either side; the caller then records the step so it cannot be replayed.

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

pub const STEP_SECONDS: u64 = 30;
const ISSUER: &str = "Staffroom";

pub fn generate_secret() -> Vec<u8> {
    // 160 bits, as RFC 4226 recommends.
    rand::random::<[u8; 20]>().to_vec()
}

pub fn secret_base32(secret: &[u8]) -> String {
    Secret::Raw(secret.to_vec()).to_encoded().to_string()
}

fn totp(secret: &[u8], account: &str) -> anyhow::Result<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECONDS,
        secret.to_vec(),
        Some(ISSUER.to_string()),
        account.to_string(),
    )
    .map_err(|e| anyhow::anyhow!("invalid TOTP parameters: {e}"))
}

/// The otpauth:// URL an authenticator app reads from the QR code.
pub fn provisioning_url(secret: &[u8], account: &str) -> anyhow::Result<String> {
    Ok(totp(secret, account)?.get_url())
}

/// The QR code of the provisioning URL, as inline SVG.
pub fn qr_svg(url: &str) -> anyhow::Result<String> {
    let code = qrcode::QrCode::new(url.as_bytes())?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

pub fn current_step() -> i64 {
    (chrono::Utc::now().timestamp() as u64 / STEP_SECONDS) as i64
}

/// The time step whose code this is (now, or one step either side), if any.
pub fn matching_step(secret: &[u8], code: &str, now_step: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "x").ok()?;
    [now_step - 1, now_step, now_step + 1]
        .into_iter()
        .find(|step| {
            let expected = totp.generate(*step as u64 * STEP_SECONDS);
            bool::from(expected.as_bytes().ct_eq(code.as_bytes()))
        })
}

/// A 6-digit code for a step (tests and the enrolment page's help use this).
pub fn code_for_step(secret: &[u8], step: i64) -> String {
    totp(secret, "x")
        .map(|t| t.generate(step as u64 * STEP_SECONDS))
        .unwrap_or_default()
}

/// True when the input looks like a 6-digit code rather than a recovery code.
pub fn looks_like_code(input: &str) -> bool {
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_step_and_its_neighbours_only() {
        let secret = generate_secret();
        let now = 1_000_000;
        assert_eq!(
            matching_step(&secret, &code_for_step(&secret, now), now),
            Some(now)
        );
        assert_eq!(
            matching_step(&secret, &code_for_step(&secret, now - 1), now),
            Some(now - 1)
        );
        assert_eq!(
            matching_step(&secret, &code_for_step(&secret, now + 1), now),
            Some(now + 1)
        );
        let old = code_for_step(&secret, now - 2);
        let neighbours = [now - 1, now, now + 1].map(|s| code_for_step(&secret, s));
        if !neighbours.contains(&old) {
            assert_eq!(matching_step(&secret, &old, now), None);
        }
        assert_eq!(matching_step(&secret, "12345", now), None);
    }

    #[test]
    fn the_secret_is_shown_in_base32() {
        let s = secret_base32(&[0u8; 20]);
        assert_eq!(s, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    }
}
