//! Errors beside their fields: collected while parsing a form, shown in the error summary at the
//! top of the page (each linking to its field) and again beside each field.

use crate::domain::DomainError;

#[derive(Debug, Default)]
pub struct FormErrors(Vec<(&'static str, String)>);

impl FormErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field, message.into()));
        }
    }

    /// Keeps the parsed value, or records why it was refused against `field`.
    pub fn check<T>(&mut self, field: &'static str, parsed: Result<T, DomainError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(e) => {
                self.add(field, e.0);
                None
            }
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    /// 200 for a clean form, 422 for one with errors (re-rendered beside its fields).
    pub fn status(&self) -> actix_web::http::StatusCode {
        if self.is_empty() {
            actix_web::http::StatusCode::OK
        } else {
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &(&'static str, String)> {
        self.0.iter()
    }
}

/// The NHS date input posts three boxes (`{name}-day`, `{name}-month`, `{name}-year`); the
/// contract's field is one ISO date (`{name}`, YYYY-MM-DD), which callers may still send.
/// The boxes, when any was filled, become that ISO text (an impossible date stays impossible,
/// so the field's own rule refuses it); otherwise the ISO field as sent.
pub fn date_field(iso: &str, day: &str, month: &str, year: &str) -> String {
    let (day, month, year) = (day.trim(), month.trim(), year.trim());
    if day.is_empty() && month.is_empty() && year.is_empty() {
        return iso.trim().to_string();
    }
    match (
        day.parse::<u32>(),
        month.parse::<u32>(),
        year.parse::<u32>(),
    ) {
        (Ok(d), Ok(m), Ok(y)) if year.len() == 4 => format!("{y:04}-{m:02}-{d:02}"),
        _ => format!("{year}-{month}-{day}?"),
    }
}

/// What the date input's boxes show: what was typed in them, else the ISO date split up.
pub fn date_parts(iso: &str, day: &str, month: &str, year: &str) -> (String, String, String) {
    if !(day.is_empty() && month.is_empty() && year.is_empty()) {
        return (day.into(), month.into(), year.into());
    }
    match chrono::NaiveDate::parse_from_str(iso.trim(), "%Y-%m-%d") {
        Ok(date) => (
            date.format("%-d").to_string(),
            date.format("%-m").to_string(),
            date.format("%Y").to_string(),
        ),
        Err(_) => Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_boxes_become_the_contracts_iso_date() {
        assert_eq!(date_field("", "31", "3", "1984"), "1984-03-31");
        assert_eq!(date_field("1984-03-31", "", "", ""), "1984-03-31");
        // Impossible or partial dates stay unparseable, so the field's rule refuses them.
        assert!(
            chrono::NaiveDate::parse_from_str(&date_field("", "31", "2", "1984"), "%Y-%m-%d")
                .is_err()
        );
        assert!(
            chrono::NaiveDate::parse_from_str(&date_field("", "", "3", "1984"), "%Y-%m-%d")
                .is_err()
        );
        assert!(
            chrono::NaiveDate::parse_from_str(&date_field("", "1", "3", "84"), "%Y-%m-%d").is_err()
        );
        assert_eq!(
            date_parts("1984-03-31", "", "", ""),
            ("31".into(), "3".into(), "1984".into())
        );
        assert_eq!(
            date_parts("", "x", "", "1984"),
            ("x".into(), "".into(), "1984".into())
        );
    }
}
