//! Who an invitation is for, as typed into the invite form: one or many addresses separated by
//! commas, semicolons or new lines; each an email address or (for guests) a UK mobile number.

use super::{DomainError, EmailAddress, MobileNumber};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Invitee {
    Email(EmailAddress),
    Mobile(MobileNumber),
}

impl Invitee {
    /// An entry with an @ is an email address; anything else must be a UK mobile number.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let raw = raw.trim();
        if raw.contains('@') {
            // "Dave Patel <dave.patel@nhs.net>", as pasted from an address book.
            let address = match (raw.rfind('<'), raw.rfind('>')) {
                (Some(start), Some(end)) if start < end => &raw[start + 1..end],
                _ => raw,
            };
            EmailAddress::parse(address)
                .map(Invitee::Email)
                .map_err(|_| DomainError::new("not a valid email address"))
        } else {
            MobileNumber::parse(raw)
                .map(Invitee::Mobile)
                .map_err(|_| DomainError::new("not a valid email address or UK mobile number"))
        }
    }

    /// Splits the pasted text into entries, each parsed on its own, duplicates dropped.
    pub fn parse_list(raw: &str) -> Vec<(String, Result<Invitee, DomainError>)> {
        let mut seen = Vec::new();
        let mut entries = Vec::new();
        for entry in raw.split([',', ';', '\n', '\r']).map(str::trim) {
            if entry.is_empty() {
                continue;
            }
            let parsed = Invitee::parse(entry);
            if let Ok(invitee) = &parsed {
                if seen.contains(invitee) {
                    continue;
                }
                seen.push(invitee.clone());
            }
            entries.push((entry.to_string(), parsed));
        }
        entries
    }

    pub fn email(&self) -> Option<&EmailAddress> {
        match self {
            Invitee::Email(email) => Some(email),
            Invitee::Mobile(_) => None,
        }
    }

    pub fn mobile(&self) -> Option<&MobileNumber> {
        match self {
            Invitee::Mobile(mobile) => Some(mobile),
            Invitee::Email(_) => None,
        }
    }
}

impl std::fmt::Display for Invitee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invitee::Email(email) => email.fmt(f),
            Invitee::Mobile(mobile) => mobile.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_list_splits_on_commas_and_new_lines_and_drops_duplicates() {
        let entries = Invitee::parse_list(
            "amy@nhs.net, Dave Patel <DAVE@nhs.net>\n\n07700 900123;amy@NHS.net\r\nnonsense",
        );
        let shown: Vec<String> = entries
            .iter()
            .map(|(_, parsed)| match parsed {
                Ok(invitee) => invitee.to_string(),
                Err(e) => format!("error: {e}"),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "amy@nhs.net",
                "dave@nhs.net",
                "07700 900123",
                "error: not a valid email address or UK mobile number"
            ]
        );
        assert_eq!(entries[3].0, "nonsense");
    }

    #[test]
    fn an_entry_with_an_at_sign_must_be_a_whole_email_address() {
        assert!(Invitee::parse("amy@").is_err());
        assert_eq!(
            Invitee::parse(" amy@nhs.net ").unwrap(),
            Invitee::Email(EmailAddress::parse("amy@nhs.net").unwrap())
        );
    }
}
