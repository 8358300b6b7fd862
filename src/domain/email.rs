//! An email address: trimmed, lower-cased, one @, a plausible domain.

use super::DomainError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(DomainError::new("Enter your email address"));
        }
        let invalid =
            || DomainError::new("Enter an email address in the correct format, like name@nhs.net");
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        if local.is_empty() || local.len() > 64 || local.contains('@') || local.contains('<') {
            return Err(invalid());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or("", |(local, _)| local)
    }

    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, domain)| domain)
    }

    /// `nhs.uk` admits `elft.nhs.uk` as well as `nhs.uk` itself, but not `fakenhs.uk`.
    pub fn is_in_domain(&self, allowed: &str) -> bool {
        let domain = self.domain();
        let allowed = allowed.trim().trim_start_matches('@').to_lowercase();
        domain == allowed || domain.ends_with(&format!(".{allowed}"))
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_lower_cased_and_trimmed() {
        let e = EmailAddress::parse("  Amy.Jones@NHS.net ").unwrap();
        assert_eq!(e.as_str(), "amy.jones@nhs.net");
        assert_eq!(e.local_part(), "amy.jones");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "amy",
            "amy@",
            "@nhs.net",
            "amy@nhs",
            "a b@nhs.net",
            "amy@-nhs.net",
            "amy@nhs..net",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_domain_admits_its_subdomains_only() {
        let e = EmailAddress::parse("kim@elft.nhs.uk").unwrap();
        assert!(e.is_in_domain("nhs.uk"));
        assert!(e.is_in_domain("elft.nhs.uk"));
        assert!(!e.is_in_domain("nhs.net"));
        let fake = EmailAddress::parse("kim@fakenhs.uk").unwrap();
        assert!(!fake.is_in_domain("nhs.uk"));
    }
}
