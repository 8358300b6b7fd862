//! A guest's end date. People (the inviter, the admin, the guest) speak of the last day the guest
//! has access; the database keeps the first moment without it (the start of the next day, UTC),
//! so one comparison with `now()` answers "still in?".

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use super::DomainError;

/// The last day typed as `YYYY-MM-DD`: a real date after `today`.
pub fn parse_last_day(raw: &str, today: NaiveDate) -> Result<NaiveDate, DomainError> {
    let day = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        DomainError::new("Enter a real end date, like 31 3 2027 (day, month, year)")
    })?;
    if day <= today {
        return Err(DomainError::new("The end date must be in the future"));
    }
    if day > today + Duration::days(5 * 366) {
        return Err(DomainError::new(
            "The end date must be within 5 years; leave it empty for no end date",
        ));
    }
    Ok(day)
}

/// When access ends for a guest whose last day is `last_day`.
pub fn ends_at(last_day: NaiveDate) -> DateTime<Utc> {
    last_day
        .succ_opt()
        .unwrap_or(last_day)
        .and_time(NaiveTime::MIN)
        .and_utc()
}

/// The last day with access, for an end stored as `ends_at`.
pub fn last_day(ends_at: DateTime<Utc>) -> NaiveDate {
    (ends_at - Duration::days(1)).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_day_and_the_stored_end_are_one_day_apart_and_round_trip() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        let day = parse_last_day("2027-03-31", today).unwrap();
        assert_eq!(ends_at(day).to_rfc3339(), "2027-04-01T00:00:00+00:00");
        assert_eq!(last_day(ends_at(day)), day);
        assert!(parse_last_day("2027-03-01", today).is_err());
        assert!(parse_last_day("2027-02-30", today).is_err());
        assert!(parse_last_day("2040-01-01", today).is_err());
        assert!(parse_last_day("soon", today).is_err());
    }
}
