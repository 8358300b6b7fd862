//! A UK mobile number, kept in international form: `07700 900123`, `+44 7700 900123` and
//! `(0)7700-900123` all become `+447700900123`.

use super::DomainError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MobileNumber(String);

impl MobileNumber {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        if compact.is_empty() {
            return Err(DomainError::new("Enter a mobile number"));
        }
        let national = if let Some(rest) = compact.strip_prefix("+44") {
            rest.strip_prefix('0').unwrap_or(rest).to_string()
        } else if let Some(rest) = compact.strip_prefix("0044") {
            rest.strip_prefix('0').unwrap_or(rest).to_string()
        } else if let Some(rest) = compact.strip_prefix('0') {
            rest.to_string()
        } else {
            return Err(Self::invalid());
        };
        if national.len() != 10
            || !national.starts_with('7')
            || !national.chars().all(|c| c.is_ascii_digit())
        {
            return Err(Self::invalid());
        }
        Ok(Self(format!("+44{national}")))
    }

    fn invalid() -> DomainError {
        DomainError::new("Enter a UK mobile number, like 07700 900123")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As people write it: 07700 900123.
    pub fn national(&self) -> String {
        let digits = &self.0[3..];
        format!("0{} {}", &digits[..4], &digits[4..])
    }
}

impl std::fmt::Display for MobileNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.national())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uk_mobile_numbers_in_their_usual_forms_are_accepted() {
        for raw in [
            "07700 900123",
            "07700900123",
            "+44 7700 900123",
            "+44 (0)7700 900123",
            "0044 7700-900123",
        ] {
            assert_eq!(
                MobileNumber::parse(raw).unwrap().as_str(),
                "+447700900123",
                "{raw}"
            );
        }
        assert_eq!(
            MobileNumber::parse("07700900123").unwrap().national(),
            "07700 900123"
        );
    }

    #[test]
    fn landlines_foreign_and_short_numbers_are_refused() {
        for raw in [
            "",
            "020 7946 0000",
            "+33 6 12 34 56 78",
            "0770090012",
            "077009001234",
            "07700 9001a3",
        ] {
            assert!(MobileNumber::parse(raw).is_err(), "{raw}");
        }
    }
}
