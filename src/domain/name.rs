//! A person's first name or surname.

use super::DomainError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// `what` names the field in the message: "first name", "surname".
    pub fn parse(raw: &str, what: &str) -> Result<Self, DomainError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(DomainError::new(format!("Enter your {what}")));
        }
        if name.chars().count() > 100 {
            return Err(DomainError::new(format!(
                "Your {what} must be 100 characters or fewer"
            )));
        }
        if name.chars().any(|c| c.is_control() || "<>{}\\".contains(c)) {
            return Err(DomainError::new(format!(
                "Your {what} must only include letters, spaces, hyphens and apostrophes"
            )));
        }
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_must_not_be_empty() {
        assert_eq!(
            PersonName::parse(" Zoë ", "first name").unwrap().as_str(),
            "Zoë"
        );
        assert!(PersonName::parse("  ", "surname").is_err());
        assert!(PersonName::parse("<script>", "surname").is_err());
    }
}
