//! Keyset paging: where a page starts (after or before a row's key: a person's surname,
//! first name and id, or an invitation's sending time and id), carried in links as an opaque
//! key, and the capped counts that such pages show instead of counting everyone.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A row's place in a list's order, as a link carries it.
pub trait Key: Sized {
    fn encode(&self) -> String;
    /// `None` for anything this server did not write.
    fn parse(text: &str) -> Option<Self>;
}

/// The parts of a key, joined by a control character (which no name or time holds).
fn join(parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(parts.join("\u{1f}"))
}

fn split<const N: usize>(text: &str) -> Option<[String; N]> {
    let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let parts: Vec<String> = text.split(SEPARATOR).map(str::to_string).collect();
    if text.chars().any(|c| c.is_control() && c != SEPARATOR) {
        return None;
    }
    parts.try_into().ok()
}

/// A person's place in the order (surname, first name, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageKey {
    pub surname: String,
    pub first_name: String,
    pub id: Uuid,
}

/// Names hold no control characters (`domain::Text` refuses them), so one separates the parts.
const SEPARATOR: char = '\u{1f}';

impl Key for PageKey {
    fn encode(&self) -> String {
        join(&[&self.surname, &self.first_name, &self.id.to_string()])
    }

    fn parse(text: &str) -> Option<Self> {
        let [surname, first_name, id] = split::<3>(text)?;
        Some(Self {
            surname,
            first_name,
            id: id.parse().ok()?,
        })
    }
}

/// An invitation's place in the newest-first list: when it was last sent, then its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentKey {
    pub sent_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Key for SentKey {
    fn encode(&self) -> String {
        join(&[
            &self
                .sent_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            &self.id.to_string(),
        ])
    }

    fn parse(text: &str) -> Option<Self> {
        let [sent_at, id] = split::<2>(text)?;
        Some(Self {
            sent_at: DateTime::parse_from_rfc3339(&sent_at)
                .ok()?
                .with_timezone(&Utc),
            id: id.parse().ok()?,
        })
    }
}

/// Which page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PageStart<K = PageKey> {
    #[default]
    First,
    /// The page that follows this row ("Next").
    After(K),
    /// The page that ends just before this row ("Previous").
    Before(K),
}

impl<K: Key> PageStart<K> {
    /// From a link's `after` and `before` parameters; a key this server did not write is the
    /// first page.
    pub fn from_query(after: &str, before: &str) -> Self {
        if let Some(key) = K::parse(after).filter(|_| !after.is_empty()) {
            Self::After(key)
        } else if let Some(key) = K::parse(before).filter(|_| !before.is_empty()) {
            Self::Before(key)
        } else {
            Self::First
        }
    }
}

/// One page of a list, with where the pages beside it start.
#[derive(Debug)]
pub struct Paged<T, K = PageKey> {
    pub rows: Vec<T>,
    /// The key to put in "Previous" (`before`), when there is an earlier page.
    pub previous: Option<K>,
    /// The key to put in "Next" (`after`), when there is a later page.
    pub next: Option<K>,
}

impl<T, K> Paged<T, K> {
    /// No rows, no other pages.
    pub fn empty() -> Self {
        Self {
            rows: Vec::new(),
            previous: None,
            next: None,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U, K> {
        Paged {
            rows: self.rows.into_iter().map(f).collect(),
            previous: self.previous,
            next: self.next,
        }
    }
}

/// How many a list holds, counted up to a cap: past it, "more than".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Exactly(i64),
    MoreThan(i64),
}

/// Lists are counted up to this many.
pub const COUNT_CAP: i64 = 1000;

impl Count {
    /// From a count of at most `COUNT_CAP + 1` rows.
    pub fn capped(counted: i64) -> Self {
        if counted > COUNT_CAP {
            Self::MoreThan(COUNT_CAP)
        } else {
            Self::Exactly(counted)
        }
    }

    /// "1 person", "30 people", "more than 1,000 people" (`one` and `many` are the nouns).
    pub fn describe(&self, one: &str, many: &str) -> String {
        match self {
            Self::Exactly(1) => format!("1 {one}"),
            Self::Exactly(n) => format!("{} {many}", thousands(*n)),
            Self::MoreThan(n) => format!("More than {} {many}", thousands(*n)),
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Self::Exactly(0)
    }
}

fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_survives_its_link_and_a_forged_one_is_the_first_page() {
        let key = PageKey {
            surname: "O'Brien-Ó Súilleabháin".into(),
            first_name: "Zoë".into(),
            id: Uuid::new_v4(),
        };
        assert_eq!(PageKey::parse(&key.encode()), Some(key.clone()));
        assert_eq!(
            PageStart::from_query("", &key.encode()),
            PageStart::Before(key)
        );
        let sent = SentKey {
            sent_at: Utc::now(),
            id: Uuid::new_v4(),
        };
        let parsed = SentKey::parse(&sent.encode()).unwrap();
        assert_eq!(parsed.id, sent.id);
        assert_eq!(
            parsed.sent_at.timestamp_micros(),
            sent.sent_at.timestamp_micros()
        );
        for forged in [
            "",
            "not base64!",
            "YWJj",
            &URL_SAFE_NO_PAD.encode("a\u{1f}b\u{1f}c"),
        ] {
            assert_eq!(
                PageStart::<PageKey>::from_query(forged, forged),
                PageStart::First
            );
            assert_eq!(
                PageStart::<SentKey>::from_query(forged, forged),
                PageStart::First
            );
        }
    }

    #[test]
    fn counts_past_the_cap_say_more_than() {
        assert_eq!(
            Count::capped(1001).describe("person", "people"),
            "More than 1,000 people"
        );
        assert_eq!(
            Count::capped(1000).describe("person", "people"),
            "1,000 people"
        );
        assert_eq!(Count::capped(1).describe("person", "people"), "1 person");
    }
}
