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
//! Days are checked against the month (leap years of the proleptic
//! Gregorian calendar); hours 00–23, minutes and seconds 00–59.

/// A point in time: seconds since 1970-01-01T00:00:00Z (negative before)
/// and the nanoseconds after that second. Ordered as time is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Instant {
    secs: i64,
    nanos: u32,
}

/// Parses a date value (see the module documentation); `None` when `s` is
/// not one.
pub(crate) fn parse_instant(s: &str) -> Option<Instant> {
    let b = s.as_bytes();
    if b.len() >= 10 && b[4] == b'-' {
        parse_iso(b)
    } else {
        parse_epoch(b)
    }
}

/// `digits[.digits]` as epoch seconds.
fn parse_epoch(b: &[u8]) -> Option<Instant> {
    let (whole, frac) = match b.iter().position(|&c| c == b'.') {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    // 18 digits keep the value inside i64 (and far past year 9999).
    if whole.is_empty() || whole.len() > 18 || !whole.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let secs = digits(whole)?;
    let nanos = match frac {
        None => 0,
        Some(f) => fraction_nanos(f)?,
    };
    Some(Instant {
        secs: i64::try_from(secs).ok()?,
        nanos,
    })
}

/// The value of a run of ASCII digits (at most 18).
fn digits(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    b.iter().try_fold(0u64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0'))
    })
}

/// Nanoseconds of a fraction's digits (`5` → 500,000,000); digits past the
/// ninth are checked and dropped.
fn fraction_nanos(f: &[u8]) -> Option<u32> {
    if f.is_empty() || !f.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut nanos = 0u32;
    for i in 0..9 {
        nanos = nanos * 10 + f.get(i).map_or(0, |&c| u32::from(c - b'0'));
    }
    Some(nanos)
}

/// A fixed-width field of ASCII digits at `b[at..at + len]`.
fn field(b: &[u8], at: usize, len: usize) -> Option<u64> {
    digits(b.get(at..at + len)?)
}

fn parse_iso(b: &[u8]) -> Option<Instant> {
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let year = field(b, 0, 4)?;
    let month = field(b, 5, 2)?;
    let day = field(b, 8, 2)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if b.len() == 10 {
        return Some(Instant {
            secs: days * 86_400,
            nanos: 0,
        });
    }
    if !matches!(b[10], b'T' | b't') || b.get(13) != Some(&b':') {
        return None;
    }
    let hour = field(b, 11, 2)?;
    let minute = field(b, 14, 2)?;
    let mut at = 16;
    let mut second = 0;
    let mut nanos = 0;
    if b.get(at) == Some(&b':') {
        second = field(b, at + 1, 2)?;
        at += 3;
        if b.get(at) == Some(&b'.') {
            let start = at + 1;
            let end = start + b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
            nanos = fraction_nanos(&b[start..end])?;
            at = end;
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let offset = zone_offset(&b[at..])?;
    let local = days * 86_400 + i64::try_from(hour * 3600 + minute * 60 + second).ok()?;
    Some(Instant {
        secs: local - offset,
        nanos,
    })
}

/// The seconds east of UTC of a zone designator: `Z`, `±hh:mm` or `±hhmm`.
fn zone_offset(z: &[u8]) -> Option<i64> {
    let (sign, rest) = match z {
        [b'Z' | b'z'] => return Some(0),
        [b'+', rest @ ..] => (1, rest),
        [b'-', rest @ ..] => (-1, rest),
        _ => return None,
    };
    let (hours, minutes) = match rest {
        [_, _, b':', _, _] => (field(rest, 0, 2)?, field(rest, 3, 2)?),
        [_, _, _, _] => (field(rest, 0, 2)?, field(rest, 2, 2)?),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * i64::try_from(hours * 3600 + minutes * 60).ok()?)
}

fn is_leap(year: u64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the proleptic Gregorian `year-month-day`
/// (negative before), for years 0000–9999: the inverse of the audit
/// module's `civil_from_days`, with years starting on March 1 so that the
/// leap day ends a year.
fn days_from_civil(year: u64, month: u64, day: u64) -> i64 {
    // All quantities are small (year ≤ 9999): the casts cannot wrap.
    #[allow(clippy::cast_possible_wrap)]
    let (y, m, d) = (year as i64, month as i64, day as i64);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // 0..=399
    let mp = (m + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> (i64, u32) {
        let i = parse_instant(s).unwrap();
        (i.secs, i.nanos)
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

    #[test]
    fn days_from_civil_counts_every_day() {
        let mut expected = days_from_civil(1599, 3, 1);
        for year in 1599..2401 {
            for month in 1..=12 {
                if year == 1599 && month < 3 {
                    continue;
                }
                for day in 1..=days_in_month(year, month) {
                    assert_eq!(days_from_civil(year, month, day), expected);
                    expected += 1;
                }
            }
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }
}
