//! A workspace's name: it signs messages sent from the workspace, so it must read well.

use super::DomainError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceName(String);

impl WorkspaceName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(DomainError::new("Enter a name for the workspace"));
        }
        if name.chars().count() > 100 {
            return Err(DomainError::new(
                "The workspace name must be 100 characters or fewer",
            ));
        }
        if name.chars().any(|c| c.is_control() || "<>{}\\".contains(c)) {
            return Err(DomainError::new(
                "The workspace name must only include letters, numbers, spaces and punctuation like - & ( ) ,",
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_tidied_and_checked() {
        assert_eq!(
            WorkspaceName::parse("  Maternity  -  Ward 2 ")
                .unwrap()
                .as_str(),
            "Maternity - Ward 2"
        );
        assert!(WorkspaceName::parse("   ").is_err());
        assert!(WorkspaceName::parse(&"x".repeat(101)).is_err());
    }
}
