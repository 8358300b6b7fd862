//! The email domains an organisation admits, typed as "nhs.net, nhs.uk" or one a line.

use super::{DomainError, EmailAddress};

/// Lower-cased, sorted, without duplicates, and never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailDomains(Vec<String>);

impl EmailDomains {
    /// What the setup form starts with, and what the command line uses when given none.
    pub const DEFAULT: &'static str = "nhs.net, nhs.uk";

    /// "@nhs.net" is read as "nhs.net"; commas, spaces and new lines all separate.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let mut domains: Vec<String> = raw
            .split(|c: char| c == ',' || c.is_whitespace())
            .map(|d| d.trim().trim_start_matches('@').to_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        domains.sort();
        domains.dedup();
        if domains.is_empty() {
            return Err(DomainError::new(
                "Enter at least one email domain, like nhs.net",
            ));
        }
        for domain in &domains {
            EmailAddress::parse(&format!("x@{domain}")).map_err(|_| {
                DomainError::new(format!("{domain} is not an email domain, like nhs.net"))
            })?;
        }
        Ok(Self(domains))
    }

    /// The address is in one of the domains (or a subdomain of one).
    pub fn admit(&self, email: &EmailAddress) -> bool {
        self.0.iter().any(|d| email.is_in_domain(d))
    }
}

impl Default for EmailDomains {
    fn default() -> Self {
        Self::parse(Self::DEFAULT).expect("the default domains parse")
    }
}

/// The domains as the `organisation_domains` rows store them.
impl std::ops::Deref for EmailDomains {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_split_tidied_sorted_and_deduplicated() {
        let domains = EmailDomains::parse(" @NHS.uk,nhs.net\nnhs.uk  elft.nhs.uk ").unwrap();
        assert_eq!(&*domains, ["elft.nhs.uk", "nhs.net", "nhs.uk"]);
    }

    #[test]
    fn none_at_all_and_a_malformed_one_are_refused() {
        assert_eq!(
            EmailDomains::parse(" , \n").unwrap_err().0,
            "Enter at least one email domain, like nhs.net"
        );
        assert_eq!(
            EmailDomains::parse("nhs.net, nhs").unwrap_err().0,
            "nhs is not an email domain, like nhs.net"
        );
    }

    #[test]
    fn the_default_is_nhs_net_and_nhs_uk() {
        assert_eq!(&*EmailDomains::default(), ["nhs.net", "nhs.uk"]);
    }

    #[test]
    fn an_address_is_admitted_by_its_domain_or_a_parent_domain() {
        let domains = EmailDomains::default();
        let email = |raw| EmailAddress::parse(raw).unwrap();
        assert!(domains.admit(&email("amy@nhs.net")));
        assert!(domains.admit(&email("kim@elft.nhs.uk")));
        assert!(!domains.admit(&email("amy@gmail.com")));
    }
}
