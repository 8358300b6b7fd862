//! Tokens carried by links: 256-bit random (or, for the shareable link, derived under the
//! server's key), stored only as a SHA-256 hash.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// What a one-time token is for; a token of one purpose never works for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
    Setup,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ResetPassword => "reset_password",
            TokenPurpose::Setup => "setup",
        }
    }
}

pub struct Token {
    plain: String,
}

impl Token {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self {
            plain: URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    /// The value for the link: only ever shown once, in the email.
    pub fn plain(&self) -> &str {
        &self.plain
    }

    pub fn hash(&self) -> String {
        sha256_hex(&self.plain)
    }

    /// A token that can be made again, by whoever holds `key`, from `message` alone:
    /// HMAC-SHA256, so that without the key it is as unguessable as a random one.
    pub fn derived(key: &[u8], message: &[u8]) -> Self {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
        mac.update(message);
        Self {
            plain: URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()),
        }
    }
}

pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_bits_and_hash_deterministically() {
        let token = Token::generate();
        assert_eq!(URL_SAFE_NO_PAD.decode(token.plain()).unwrap().len(), 32);
        assert_eq!(token.hash(), sha256_hex(token.plain()));
        assert_ne!(Token::generate().plain(), token.plain());
    }

    #[test]
    fn derived_tokens_depend_on_the_key_and_the_message() {
        let a = Token::derived(b"key one", b"link 1");
        assert_eq!(URL_SAFE_NO_PAD.decode(a.plain()).unwrap().len(), 32);
        assert_eq!(a.plain(), Token::derived(b"key one", b"link 1").plain());
        assert_ne!(a.plain(), Token::derived(b"key two", b"link 1").plain());
        assert_ne!(a.plain(), Token::derived(b"key one", b"link 2").plain());
    }
}
