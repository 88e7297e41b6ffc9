//! Date values of the `Date…` condition operators: ISO 8601 date-times and
//! Unix epoch seconds, compared as instants.
//!
//! The IAM JSON policy reference ("Condition operators", date condition
//! operators) compares a key against "a date/time value" given either in
//! ISO 8601 format or as epoch (Unix) time. Accepted here, for both the
//! policy's values and the request's:
//! - epoch seconds: ASCII digits, optionally with a fraction (`1700000000`,
//!   `1700000000.25`), as a JSON string or number;
//! - a calendar date `YYYY-MM-DD` (midnight UTC);
//! - a date-time `YYYY-MM-DDThh:mm[:ss[.fraction]]` followed by `Z` or a UTC
//!   offset `±hh:mm` / `±hhmm` (RFC 3339 profile of ISO 8601; `t`/`z` in
//!   lower case too). A date-time without a zone is refused: ISO 8601 reads
//!   it as local time, which a policy cannot know.
//!
//! The readers are [`crate::time::parse_iso8601`] and
//! [`crate::time::parse_unix_seconds_fraction`]: days are checked against
//! the month (leap years of the proleptic Gregorian calendar); hours 00–23,
//! minutes and seconds 00–59.

/// A point in time as the date operators compare them: Unix seconds and
/// nanoseconds.
pub(crate) type Instant = crate::time::Timestamp;

/// Parses a date value (see the module documentation); `None` when `s` is
/// not one.
pub(crate) fn parse_instant(s: &str) -> Option<Instant> {
    let b = s.as_bytes();
    if b.len() >= 10 && b[4] == b'-' {
        crate::time::parse_iso8601(s).ok()
    } else {
        crate::time::parse_unix_seconds_fraction(s).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> (i64, u32) {
        let i = parse_instant(s).unwrap();
        (i.unix_seconds(), i.subsec_nanos())
    }

    #[test]
    fn iso_and_epoch_forms_name_the_same_instant() {
        assert_eq!(at("1970-01-01"), (0, 0));
        assert_eq!(at("1970-01-01T00:00:00Z"), (0, 0));
        assert_eq!(at("2023-11-14T22:13:20Z"), (1_700_000_000, 0));
        assert_eq!(at("1700000000"), (1_700_000_000, 0));
        assert_eq!(at("2023-11-14T23:13:20+01:00"), (1_700_000_000, 0));
        assert_eq!(at("2023-11-14T21:13:20-0100"), (1_700_000_000, 0));
        assert_eq!(at("2023-11-14t22:13z"), (1_699_999_980, 0));
        assert_eq!(at("2023-11-14T22:13:20.5Z"), (1_700_000_000, 500_000_000));
        assert_eq!(at("1700000000.000000001999"), (1_700_000_000, 1));
        assert_eq!(at("2000-02-29T00:00:00Z"), (951_782_400, 0));
        assert_eq!(at("1969-12-31T23:59:59Z"), (-1, 0));
        assert_eq!(at("0000-03-01"), (-62_162_035_200, 0));
        assert_eq!(at("9999-12-31T23:59:59Z"), (253_402_300_799, 0));
    }

    #[test]
    fn malformed_dates_are_refused() {
        for bad in [
            "",
            " 1700000000",
            "1700000000 ",
            "-1",
            "+1700000000",
            "1e9",
            "1700000000.",
            ".5",
            "0x10",
            "1234567890123456789",
            "2023-02-29",
            "2024-02-30",
            "2023-04-31",
            "2023-13-01",
            "2023-00-10",
            "2023-01-00",
            "2023-1-01",
            "23-01-01",
            "2023-01-01T",
            "2023-01-01T00:00:00",
            "2023-01-01 00:00:00Z",
            "2023-01-01T24:00:00Z",
            "2023-01-01T23:60:00Z",
            "2023-01-01T23:59:60Z",
            "2023-01-01T00:00:00.Z",
            "2023-01-01T00:00:00+24:00",
            "2023-01-01T00:00:00+01:60",
            "2023-01-01T00:00:00+1",
            "2023-01-01T00:00:00ZZ",
            "２０２３-01-01",
            "2023-01-01T00:00:00\u{0}Z",
        ] {
            assert!(parse_instant(bad).is_none(), "{bad:?} accepted");
        }
    }
}
