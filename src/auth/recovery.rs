//! Recovery codes: ten per enrolment, each `xxxxx-xxxxx` (50 random bits), single use, stored as
//! SHA-256 hashes of their normalised form.

use rand::Rng;

use crate::domain::token::sha256_hex;

const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
pub const COUNT: usize = 10;

pub fn generate() -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..COUNT)
        .map(|_| {
            let chars: String = (0..10)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// Lower case, spaces and hyphens removed, so "ABCDE FGHIJ" works as well as "abcde-fghij".
pub fn hash(code: &str) -> String {
    let normalised: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    sha256_hex(&normalised)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_hash_the_same_however_typed() {
        let codes = generate();
        assert_eq!(codes.len(), 10);
        let mut unique = codes.clone();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        let c = &codes[0];
        assert_eq!(hash(c), hash(&c.to_uppercase().replace('-', " ")));
    }
}
