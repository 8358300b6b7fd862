//! Free text as people type it: a description, a message to a patient, a template, a request
//! to join, a role's name. Trimmed, at most so many characters (as people count them, not
//! bytes), and free of NUL and the other control characters, which nobody means to type and
//! which PostgreSQL, email and text messages cannot all carry. Text with lines keeps its line
//! breaks (Windows' `\r\n` and old Macs' `\r` become `\n`) and tabs; a one-line text keeps none.

use super::DomainError;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(String);

/// What one field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRules {
    /// How the field is named in its messages: "The description".
    pub what: &'static str,
    /// At most this many characters.
    pub max: usize,
    /// Line breaks (and tabs) are part of the text.
    pub lines: bool,
}

impl TextRules {
    /// One line: a name, a title.
    pub const fn line(what: &'static str, max: usize) -> Self {
        Self {
            what,
            max,
            lines: false,
        }
    }

    /// Text with lines: a description, a message.
    pub const fn lines(what: &'static str, max: usize) -> Self {
        Self {
            what,
            max,
            lines: true,
        }
    }
}

impl Text {
    /// The text as typed, tidied; it may be empty (see `required` for text that may not).
    pub fn parse(raw: &str, rules: TextRules) -> Result<Self, DomainError> {
        let text = if rules.lines {
            raw.replace("\r\n", "\n").replace('\r', "\n")
        } else {
            raw.to_string()
        };
        let text = text.trim();
        let allowed = |c: char| !c.is_control() || (rules.lines && matches!(c, '\n' | '\t'));
        if !text.chars().all(allowed) {
            let what = rules.what;
            return Err(DomainError::new(
                if !rules.lines && text.contains(['\n', '\r']) {
                    format!("{what} must be on one line")
                } else {
                    format!("{what} must not include hidden control characters. Type it again rather than pasting it")
                },
            ));
        }
        if text.chars().count() > rules.max {
            return Err(DomainError::new(format!(
                "{} must be {} characters or fewer",
                rules.what,
                thousands(rules.max)
            )));
        }
        Ok(Self(text.to_string()))
    }

    /// As `parse`, refusing empty text with `missing` ("Enter a name for the template").
    pub fn required(raw: &str, rules: TextRules, missing: &str) -> Result<Self, DomainError> {
        let text = Self::parse(raw, rules)?;
        if text.is_empty() {
            return Err(DomainError::new(missing));
        }
        Ok(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// 1000 as "1,000", the way the messages write numbers.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: TextRules = TextRules::line("The name", 10);
    const MESSAGE: TextRules = TextRules::lines("The message", 1000);

    #[test]
    fn text_is_trimmed_and_line_breaks_are_kept_only_where_the_text_has_lines() {
        assert_eq!(Text::parse("  Ward 2 ", NAME).unwrap().as_str(), "Ward 2");
        assert_eq!(
            Text::parse("Dear Pat,\r\n\tSee you\rsoon\n", MESSAGE)
                .unwrap()
                .as_str(),
            "Dear Pat,\n\tSee you\nsoon"
        );
        assert!(Text::parse("Ward\n2", NAME).is_err());
        assert!(Text::parse("Ward\t2", NAME).is_err());
        assert_eq!(Text::parse("", MESSAGE).unwrap(), Text::default());
    }

    #[test]
    fn nul_and_every_other_control_character_is_refused_with_the_fields_name() {
        for bad in [
            "a\0b",
            "a\u{1}",
            "\u{1b}[2Jx",
            "a\u{7f}",
            "a\u{85}b",
            "a\u{9b}b",
            "a\u{8}",
        ] {
            let refused = Text::parse(bad, MESSAGE).unwrap_err();
            assert!(
                refused
                    .0
                    .starts_with("The message must not include hidden control characters"),
                "{bad:?}"
            );
            assert!(Text::parse(bad, NAME).is_err(), "{bad:?}");
        }
        // What is not a control character is text: accents, emoji, other scripts.
        assert!(Text::parse("Zoë 🙂 مرحبا", MESSAGE).is_ok());
    }

    #[test]
    fn the_length_is_counted_in_characters() {
        assert!(Text::parse(&"é".repeat(10), NAME).is_ok());
        assert_eq!(
            Text::parse(&"é".repeat(11), NAME).unwrap_err().0,
            "The name must be 10 characters or fewer"
        );
        assert_eq!(
            Text::parse(&"x".repeat(1001), MESSAGE).unwrap_err().0,
            "The message must be 1,000 characters or fewer"
        );
    }

    #[test]
    fn required_text_may_not_be_blank() {
        assert_eq!(
            Text::required("  \n ", MESSAGE, "Enter the message")
                .unwrap_err()
                .0,
            "Enter the message"
        );
    }
}
