//! An NHS number: ten digits whose last is the modulus-11 check digit of the other nine. Kept
//! as the bare digits; shown as people write it, `943 476 5919`.

use super::DomainError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NhsNumber(String);

impl NhsNumber {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        if compact.is_empty() {
            return Err(DomainError::new("Enter the patient's NHS number"));
        }
        if compact.len() != 10 || !compact.chars().all(|c| c.is_ascii_digit()) {
            return Err(DomainError::new(
                "Enter an NHS number with 10 digits, like 943 476 5919",
            ));
        }
        let digits: Vec<u32> = compact.chars().filter_map(|c| c.to_digit(10)).collect();
        if check_digit(&digits[..9]) != Some(digits[9]) {
            return Err(DomainError::new(
                "Enter a valid NHS number: check it against the patient's record (its last digit does not match)",
            ));
        }
        Ok(Self(compact))
    }

    /// The ten digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As people write it: 943 476 5919.
    pub fn spaced(&self) -> String {
        spaced(&self.0)
    }
}

/// Any stored ten digits, as people write them.
pub fn spaced(digits: &str) -> String {
    if digits.len() == 10 {
        format!("{} {} {}", &digits[..3], &digits[3..6], &digits[6..])
    } else {
        digits.to_string()
    }
}

/// Modulus 11: weights 10 down to 2; 11 minus the remainder, where 11 means 0 and 10 means
/// no NHS number can end this way.
fn check_digit(nine: &[u32]) -> Option<u32> {
    let sum: u32 = nine
        .iter()
        .zip((2..=10).rev())
        .map(|(digit, weight)| digit * weight)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        check => Some(check),
    }
}

impl std::fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.spaced())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_nhs_numbers_in_their_usual_forms_are_accepted() {
        for raw in ["9434765919", "943 476 5919", " 943-476-5919 ", "4010232137"] {
            assert!(NhsNumber::parse(raw).is_ok(), "{raw}");
        }
        let number = NhsNumber::parse("943 476 5919").unwrap();
        assert_eq!(number.as_str(), "9434765919");
        assert_eq!(number.to_string(), "943 476 5919");
    }

    #[test]
    fn a_check_digit_of_eleven_is_zero() {
        // 100000003 weighs 10 + 6 = 16; 16 mod 11 = 5; 11 - 5 = 6. And 000000000 gives 11 → 0.
        assert!(NhsNumber::parse("0000000000").is_ok());
        assert!(NhsNumber::parse("1000000036").is_ok());
    }

    #[test]
    fn a_wrong_check_digit_is_refused() {
        for raw in ["9434765918", "9434765910", "4010232138"] {
            assert!(NhsNumber::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn numbers_whose_check_would_be_ten_are_refused() {
        // 000000006: 6 × 2 = 12; 12 mod 11 = 1; 11 - 1 = 10: no valid number starts so.
        assert!(check_digit(&[0, 0, 0, 0, 0, 0, 0, 0, 6]).is_none());
        for last in 0..=9 {
            assert!(NhsNumber::parse(&format!("000000006{last}")).is_err());
        }
    }

    #[test]
    fn short_long_and_lettered_numbers_are_refused() {
        for raw in ["", "943476591", "94347659190", "94347659a9", "+943476591"] {
            assert!(NhsNumber::parse(raw).is_err(), "{raw}");
        }
    }
}
