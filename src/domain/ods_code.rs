//! An Organisation Data Service code: what CIS2 names an NHS organisation by in
//! `nhsid_nrbac_roles[].org_code` ("RWK", "E85003", "8JF32").

use super::DomainError;

/// Upper-cased letters and digits, 3 to 10 of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OdsCode(String);

impl OdsCode {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let code = raw.trim().to_ascii_uppercase();
        if !(3..=10).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(DomainError::new(
                "Enter an ODS code of 3 to 10 letters and numbers, like RWK or E85003",
            ));
        }
        Ok(Self(code))
    }

    /// Blank is no code.
    pub fn parse_optional(raw: &str) -> Result<Option<Self>, DomainError> {
        if raw.trim().is_empty() {
            Ok(None)
        } else {
            Self::parse(raw).map(Some)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_upper_cased_letters_and_digits() {
        assert_eq!(OdsCode::parse(" rwk ").unwrap().as_str(), "RWK");
        assert_eq!(OdsCode::parse("E85003").unwrap().as_str(), "E85003");
        assert!(OdsCode::parse("R").is_err());
        assert!(OdsCode::parse("RW K").is_err());
        assert!(OdsCode::parse("ABCDEFGHIJK").is_err());
        assert_eq!(OdsCode::parse_optional("  ").unwrap(), None);
    }
}
