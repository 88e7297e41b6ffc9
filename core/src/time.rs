//! Calendar time: the one place where Strongroom converts between Unix time
//! and dates, and writes or reads timestamps as text.
//!
//! Unix time counts seconds since 1970-01-01T00:00:00Z without leap
//! seconds (POSIX), so every day has [`SECONDS_PER_DAY`] seconds. Dates are
//! those of the proleptic Gregorian calendar (ISO 8601), in UTC.
//!
//! | form | example | writer | reader | used by |
//! |------|---------|--------|--------|---------|
//! | RFC 3339 UTC | `2024-05-01T12:34:56Z` | [`write_rfc3339`], [`write_rfc3339_millis`] | [`parse_rfc3339_utc`], [`check_rfc3339_utc_prefix`] | audit `eventTime`, `aws:CurrentTime`, the CLI's times, audit filters |
//! | ISO 8601 date or date-time with a zone | `2024-05-01`, `2024-05-01T14:34:56.5+02:00` | — | [`parse_iso8601`] | IAM `Date…` condition operators |
//! | Unix seconds | `1714566896`, `1714566896.25` | — | [`parse_unix_seconds`], [`parse_unix_seconds_fraction`] | the CLI's times, IAM `Date…` operators |
//! | ISO 8601 basic, as AWS Signature Version 4's `X-Amz-Date` | `20240501T123456Z` | [`format_amz_date`] | [`parse_amz_date`] | the server |
//!
//! Every reader takes ASCII digits only (no sign, space, or other Unicode
//! digit where a digit belongs), checks each field against its range —
//! month 01–12, day 01 to the month's last (29 February only in leap years:
//! years divisible by 4, except centuries not divisible by 400), hour
//! 00–23, minute and second 00–59 — and returns a [`TimeError`] for
//! anything else, never a panic. A leap second (`:60`) is refused: Unix
//! time has none, so it names no instant.

use alloc::string::String;
use core::fmt::{self, Write};

/// Seconds in a day of Unix time (86,400: no leap seconds).
pub const SECONDS_PER_DAY: i64 = 86_400;

/// 0000-01-01T00:00:00Z in Unix seconds: the first instant of the
/// four-digit years that RFC 3339 and the readers here take.
pub const MIN_UNIX_SECONDS: i64 = -62_167_219_200;

/// 9999-12-31T23:59:59Z in Unix seconds: the last second of the four-digit
/// years that RFC 3339 and the readers here take.
pub const MAX_UNIX_SECONDS: i64 = 253_402_300_799;

/// Why a timestamp was refused by one of this module's readers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeError {
    /// The text does not follow the reader's grammar: a missing, extra or
    /// different character, or a non-digit where a digit belongs.
    Syntax,
    /// A field is outside its range: month 01–12, day past the month's
    /// last (`2023-02-29`, `2024-04-31`) or 00, hour above 23, minute or
    /// second above 59, a zone offset above 23:59.
    FieldRange,
    /// Well-formed, but the value is outside what the reader returns (Unix
    /// seconds past `u64`, more than 18 digits of IAM epoch seconds, or an
    /// instant before 1970 where the caller needs one from 1970 on).
    OutOfRange,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeError::Syntax => "not in the expected form",
            TimeError::FieldRange => {
                "a field is out of range (month 01-12, the day within its month, \
                 hour 00-23, minute and second 00-59, a zone offset to 23:59)"
            }
            TimeError::OutOfRange => "the time is outside the supported range",
        })
    }
}

impl core::error::Error for TimeError {}

/// An instant with sub-second precision: Unix seconds (negative before
/// 1970) and the nanoseconds after that second (0 to 999,999,999). Ordered
/// as time is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

impl Timestamp {
    /// The instant `secs` Unix seconds after the epoch, on the second.
    pub const fn from_unix_seconds(secs: i64) -> Self {
        Timestamp { secs, nanos: 0 }
    }

    /// Whole Unix seconds (rounded towards the past).
    pub const fn unix_seconds(self) -> i64 {
        self.secs
    }

    /// Nanoseconds after [`unix_seconds`](Self::unix_seconds), below 10^9.
    pub const fn subsec_nanos(self) -> u32 {
        self.nanos
    }
}

/// Whether `year` of the proleptic Gregorian calendar has 366 days:
/// divisible by 4, except centuries not divisible by 400 (1900 no, 2000
/// yes). Year 0 (1 BC) is a leap year.
pub const fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1–12) of `year`: 28 to 31; `None` for another month.
pub const fn days_in_month(year: i64, month: u8) -> Option<u8> {
    match month {
        2 if is_leap_year(year) => Some(29),
        2 => Some(28),
        4 | 6 | 9 | 11 => Some(30),
        1 | 3 | 5 | 7 | 8 | 10 | 12 => Some(31),
        _ => None,
    }
}

/// Days from 1970-01-01 to the proleptic Gregorian date `year-month-day`
/// (negative before it), in constant time: the inverse of
/// [`civil_from_days`].
///
/// `None` when the date does not exist (month outside 1–12, day 0 or past
/// the month's last) or the count does not fit `i64`.
pub fn days_from_civil(year: i64, month: u8, day: u8) -> Option<i64> {
    let last = days_in_month(year, month)?;
    if day == 0 || day > last {
        return None;
    }
    // Years start on March 1 so that the leap day ends one; 400-year eras
    // of 146,097 days. In i128, so that no year overflows.
    let y = i128::from(year) - i128::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // 0..=399
    let mp = (i128::from(month) + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + i128::from(day) - 1; // 0..=365
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // 0..=146_096
                                                     // 719,468 days from 0000-03-01 to 1970-01-01.
    i64::try_from(era * 146_097 + doe - 719_468).ok()
}

/// The proleptic Gregorian `(year, month, day)` of `days` since 1970-01-01
/// (negative before it), in constant time for every `i64`: the day is
/// shifted to a calendar whose years start on March 1 (so the leap day
/// ends a year), split into 400-year eras of 146,097 days, then into the
/// year of the era and the day of that year. Month 1–12, day 1–31.
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    // days + 719,468 (0000-03-01 to 1970-01-01) without overflow: the era
    // count and the rest are split first.
    let rest = days.rem_euclid(146_097) + 719_468; // < 6 eras
    let era = days.div_euclid(146_097) + rest / 146_097;
    let doe = rest % 146_097; // day of the era, 0..=146_096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, from March 1
    let mp = (5 * doy + 2) / 153; // month, March = 0
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // month 1..=12 and day 1..=31 by construction.
    (year, small(month), small(day))
}

/// A value known to be below 256 as `u8`.
fn small(v: i64) -> u8 {
    u8::try_from(v).unwrap_or(u8::MAX)
}

/// Unix seconds of a date and a time of day, the fields already checked.
fn unix_seconds(year: i64, month: u8, day: u8, h: u32, m: u32, s: u32) -> Option<i64> {
    days_from_civil(year, month, day)?
        .checked_mul(SECONDS_PER_DAY)?
        .checked_add(i64::from(h * 3600 + m * 60 + s))
}

/// The date and time of day of Unix seconds `secs`.
fn fields_of(secs: i64) -> [i64; 6] {
    let (year, month, day) = civil_from_days(secs.div_euclid(SECONDS_PER_DAY));
    let t = secs.rem_euclid(SECONDS_PER_DAY);
    [
        year,
        i64::from(month),
        i64::from(day),
        t / 3600,
        t % 3600 / 60,
        t % 60,
    ]
}

/// Appends `fields` (year, month, day, hour, minute, second) with the
/// separator after each. The year is four digits from 0000 to 9999;
/// outside, as many as it needs (`10000`, `-0001`).
fn write_fields(fields: [i64; 6], seps: [&str; 6], out: &mut String) {
    let year = fields[0];
    if (0..=9999).contains(&year) {
        push_digits(year, 4, out);
    } else if year < 0 {
        // Writing to a String cannot fail.
        let _ = write!(out, "-{:04}", year.unsigned_abs());
    } else {
        let _ = write!(out, "{year}");
    }
    out.push_str(seps[0]);
    for (v, sep) in fields[1..].iter().zip(&seps[1..]) {
        push_digits(*v, 2, out);
        out.push_str(sep);
    }
}

/// `v` (0 ≤ v < 10^width) as `width` ASCII digits, without the formatting
/// machinery (the audit log writes one per record).
fn push_digits(v: i64, width: u32, out: &mut String) {
    for p in (0..width).rev() {
        let digit = (v / 10i64.pow(p)).rem_euclid(10);
        out.push(char::from(b'0' + small(digit)));
    }
}

/// Appends Unix seconds `secs` as an RFC 3339 UTC timestamp with second
/// precision, `YYYY-MM-DDThh:mm:ssZ` (20 bytes for years 0000–9999), as
/// CloudTrail writes `eventTime`. A year outside 0000–9999 (which RFC 3339
/// cannot state) is written with the digits it needs, `-` before a
/// negative one: `10000-01-01T00:00:00Z`.
pub fn write_rfc3339(secs: i64, out: &mut String) {
    write_fields(fields_of(secs), ["-", "-", "T", ":", ":", "Z"], out);
}

/// [`write_rfc3339`] into a new string.
pub fn format_rfc3339(secs: i64) -> String {
    let mut out = String::with_capacity(20);
    write_rfc3339(secs, &mut out);
    out
}

/// Appends Unix milliseconds `millis` as [`write_rfc3339`] does, the
/// milliseconds dropped (rounded towards the past): the audit log's
/// `eventTime`. Every `u64` is written (year 584,556,019 at most).
pub fn write_rfc3339_millis(millis: u64, out: &mut String) {
    // u64::MAX / 1000 < i64::MAX: the conversion cannot fail.
    write_rfc3339(i64::try_from(millis / 1000).unwrap_or(i64::MAX), out);
}

/// [`write_rfc3339_millis`] into a new string.
pub fn format_rfc3339_millis(millis: u64) -> String {
    let mut out = String::with_capacity(20);
    write_rfc3339_millis(millis, &mut out);
    out
}

/// Unix seconds `secs` in the ISO 8601 basic format of AWS Signature
/// Version 4's `X-Amz-Date`, `YYYYMMDD'T'hhmmss'Z'` (16 bytes for years
/// 0000–9999; outside, the year as [`write_rfc3339`] writes it).
pub fn format_amz_date(secs: i64) -> String {
    let mut out = String::with_capacity(16);
    write_fields(fields_of(secs), ["", "", "T", "", "", "Z"], &mut out);
    out
}

/// The fields of a fixed-width timestamp read against `pattern`: each of
/// the letters `YMDhms` stands for one ASCII digit of the year, month, day,
/// hour, minute or second; any other byte must be itself.
///
/// With `prefix`, `text` may stop early, right after a complete field or
/// after the pattern's last byte (so `2024`, `2024-05` of the RFC 3339
/// pattern); absent fields are `None`.
fn scan(text: &[u8], pattern: &[u8], prefix: bool) -> Result<[Option<u32>; 6], TimeError> {
    const LETTERS: &[u8; 6] = b"YMDhms";
    let ends_field = |n: usize| {
        n == pattern.len()
            || (n > 0 && LETTERS.contains(&pattern[n - 1]) && pattern[n] != pattern[n - 1])
    };
    let complete = text.len() == pattern.len() || (prefix && text.len() < pattern.len());
    if !complete || !ends_field(text.len()) {
        return Err(TimeError::Syntax);
    }
    let mut fields = [None; 6];
    for (&c, &p) in text.iter().zip(pattern) {
        match LETTERS.iter().position(|&l| l == p) {
            Some(i) if c.is_ascii_digit() => {
                let v = fields[i].unwrap_or(0u32);
                fields[i] = Some(v * 10 + u32::from(c - b'0'));
            }
            None if c == p => {}
            _ => return Err(TimeError::Syntax),
        }
    }
    Ok(fields)
}

/// Checks scanned fields against their ranges (those present), and gives
/// Unix seconds when all six are.
fn check_fields(f: [Option<u32>; 6]) -> Result<Option<i64>, TimeError> {
    let [year, month, day, hour, minute, second] = f;
    let year = i64::from(year.unwrap_or(0));
    let month = month.map(|m| u8::try_from(m).unwrap_or(0));
    if month.is_some_and(|m| !(1..=12).contains(&m)) {
        return Err(TimeError::FieldRange);
    }
    let day = day.map(|d| u8::try_from(d).unwrap_or(0));
    if let (Some(m), Some(d)) = (month, day) {
        days_from_civil(year, m, d).ok_or(TimeError::FieldRange)?;
    }
    let over = |v: Option<u32>, max: u32| v.is_some_and(|v| v > max);
    if over(hour, 23) || over(minute, 59) || over(second, 59) {
        return Err(TimeError::FieldRange);
    }
    Ok(match (month, day, hour, minute, second) {
        (Some(mo), Some(d), Some(h), Some(mi), Some(s)) => {
            Some(unix_seconds(year, mo, d, h, mi, s).ok_or(TimeError::OutOfRange)?)
        }
        _ => None,
    })
}

/// The RFC 3339 UTC pattern (section 5.6, `date-time` with `Z` and no
/// fraction), for [`scan`].
const RFC3339_UTC: &[u8] = b"YYYY-MM-DDThh:mm:ssZ";

/// Reads an RFC 3339 UTC timestamp in the one spelling Strongroom writes,
/// `YYYY-MM-DDThh:mm:ssZ` (exactly 20 bytes, upper-case `T` and `Z`, no
/// fraction, no offset), as Unix seconds from [`MIN_UNIX_SECONDS`]
/// (0000-01-01T00:00:00Z) to [`MAX_UNIX_SECONDS`]. The inverse of
/// [`write_rfc3339`] over that range.
///
/// # Errors
/// [`TimeError::Syntax`] for any other text; [`TimeError::FieldRange`] for
/// a field out of range (`2023-02-29T00:00:00Z`, `…T24:00:00Z`).
pub fn parse_rfc3339_utc(text: &str) -> Result<i64, TimeError> {
    let secs = check_fields(scan(text.as_bytes(), RFC3339_UTC, false)?)?;
    secs.ok_or(TimeError::Syntax)
}

/// Checks that `text` is an RFC 3339 UTC timestamp as
/// [`parse_rfc3339_utc`] reads it, or a prefix of one cut after a field:
/// `2024`, `2024-05`, `2024-05-01`, `2024-05-01T12`, `2024-05-01T12:34`,
/// `2024-05-01T12:34:56` (4, 7, 10, 13, 16, 19 or 20 bytes), every field
/// present in range (the day within its month). Such text compares with
/// written timestamps as text in time order (the audit filters).
///
/// # Errors
/// As [`parse_rfc3339_utc`].
pub fn check_rfc3339_utc_prefix(text: &str) -> Result<(), TimeError> {
    check_fields(scan(text.as_bytes(), RFC3339_UTC, true)?).map(drop)
}

/// Reads the ISO 8601 basic-format timestamp of AWS Signature Version 4's
/// `X-Amz-Date` header, `YYYYMMDD'T'hhmmss'Z'` (exactly 16 bytes), as Unix
/// seconds (negative before 1970), years 0000–9999. The inverse of
/// [`format_amz_date`] over that range.
///
/// # Errors
/// [`TimeError::Syntax`] for any other text (`2015-08-30T12:36:00Z`
/// included); [`TimeError::FieldRange`] for a field out of range
/// (`20150231T000000Z`, `20150830T123660Z`).
pub fn parse_amz_date(text: &str) -> Result<i64, TimeError> {
    let secs = check_fields(scan(text.as_bytes(), b"YYYYMMDDThhmmssZ", false)?)?;
    secs.ok_or(TimeError::Syntax)
}

/// Reads Unix seconds written as one or more ASCII digits (no sign, space
/// or fraction; leading zeros allowed), any value of `u64`.
///
/// # Errors
/// [`TimeError::Syntax`] for other text (`+1`, `-1`, `1.5`, empty text);
/// [`TimeError::OutOfRange`] past `u64::MAX`.
pub fn parse_unix_seconds(text: &str) -> Result<u64, TimeError> {
    let b = text.as_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return Err(TimeError::Syntax);
    }
    b.iter()
        .try_fold(0u64, |acc, &c| {
            acc.checked_mul(10)?.checked_add(u64::from(c - b'0'))
        })
        .ok_or(TimeError::OutOfRange)
}

/// Reads Unix seconds with an optional fraction, `digits[.digits]`
/// (`1700000000`, `1700000000.25`), as IAM's date condition operators take
/// epoch time: at most 18 whole digits (past year 9999 and within `i64`),
/// at least one digit on each side of the point; fraction digits past the
/// ninth (nanoseconds) are checked and dropped.
///
/// # Errors
/// [`TimeError::Syntax`] for other text (a sign, a space, `1.`, `.5`,
/// `1e9`); [`TimeError::OutOfRange`] for more than 18 whole digits.
pub fn parse_unix_seconds_fraction(text: &str) -> Result<Timestamp, TimeError> {
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let secs = parse_unix_seconds(whole)?;
    if whole.len() > 18 {
        return Err(TimeError::OutOfRange);
    }
    let nanos = match fraction {
        None => 0,
        Some(f) => fraction_nanos(f.as_bytes())?,
    };
    Ok(Timestamp {
        secs: i64::try_from(secs).map_err(|_| TimeError::OutOfRange)?,
        nanos,
    })
}

/// Nanoseconds of a fraction's digits (`5` → 500,000,000): one or more
/// ASCII digits, those past the ninth checked and dropped.
fn fraction_nanos(f: &[u8]) -> Result<u32, TimeError> {
    if f.is_empty() || !f.iter().all(u8::is_ascii_digit) {
        return Err(TimeError::Syntax);
    }
    Ok((0..9).fold(0u32, |n, i| {
        n * 10 + f.get(i).map_or(0, |&c| u32::from(c - b'0'))
    }))
}

/// Reads an ISO 8601 calendar date or date-time with a zone, in the
/// extended format, as IAM's date condition operators (`DateEquals`,
/// `DateLessThan`, …) take "a date/time value in ISO 8601 format":
///
/// - `YYYY-MM-DD`: midnight UTC of that date;
/// - `YYYY-MM-DDThh:mm`, then optionally `:ss` (itself optionally followed
///   by `.` and a fraction of one or more digits, those past the ninth
///   checked and dropped), then a zone: `Z` or a UTC offset `±hh:mm` or
///   `±hhmm` (00:00 to 23:59). `t` and `z` may be lower case, as RFC 3339
///   section 5.6 allows.
///
/// A date-time without a zone is refused: ISO 8601 reads it as local time,
/// which a policy cannot know. Years 0000–9999; with an offset the instant
/// may fall up to 23:59 outside them.
///
/// # Errors
/// [`TimeError::Syntax`] for other text (a space for `T`, a one-digit
/// field, `+1` as an offset); [`TimeError::FieldRange`] for a field or
/// offset out of range (`2023-02-29`, `…T24:00Z`, `…+24:00`).
pub fn parse_iso8601(text: &str) -> Result<Timestamp, TimeError> {
    let b = text.as_bytes();
    let (date, time) = b.split_at(b.len().min(10));
    let [year, month, day, ..] = scan(date, b"YYYY-MM-DD", false)?;
    let Some((&sep, time)) = time.split_first() else {
        let midnight = check_fields([year, month, day, Some(0), Some(0), Some(0)])?;
        return Ok(Timestamp::from_unix_seconds(
            midnight.ok_or(TimeError::Syntax)?,
        ));
    };
    if !matches!(sep, b'T' | b't') {
        return Err(TimeError::Syntax);
    }
    // hh:mm, then :ss and a fraction if present, then the zone.
    let [.., hour, minute, _] = scan(time.get(..5).ok_or(TimeError::Syntax)?, b"hh:mm", false)?;
    let mut rest = &time[5..];
    let mut second = Some(0);
    let mut nanos = 0;
    if let Some(after) = rest.strip_prefix(b":") {
        let sec = after.get(..2).ok_or(TimeError::Syntax)?;
        second = scan(sec, b"ss", false)?[5];
        rest = &after[2..];
        if let Some(after) = rest.strip_prefix(b".") {
            let n = after.iter().take_while(|c| c.is_ascii_digit()).count();
            nanos = fraction_nanos(&after[..n])?;
            rest = &after[n..];
        }
    }
    let offset = zone_offset(rest)?;
    let local = check_fields([year, month, day, hour, minute, second])?;
    let secs = local
        .ok_or(TimeError::Syntax)?
        .checked_sub(offset)
        .ok_or(TimeError::OutOfRange)?;
    Ok(Timestamp { secs, nanos })
}

/// The seconds east of UTC of an ISO 8601 zone designator: `Z` (or `z`),
/// `±hh:mm` or `±hhmm`, hours 00–23 and minutes 00–59.
fn zone_offset(z: &[u8]) -> Result<i64, TimeError> {
    let (sign, rest) = match z {
        [b'Z' | b'z'] => return Ok(0),
        [b'+', rest @ ..] => (1, rest),
        [b'-', rest @ ..] => (-1, rest),
        _ => return Err(TimeError::Syntax),
    };
    let pattern: &[u8] = if rest.len() == 5 { b"hh:mm" } else { b"hhmm" };
    let [.., hours, minutes, _] = scan(rest, pattern, false)?;
    let (hours, minutes) = (hours.unwrap_or(0), minutes.unwrap_or(0));
    if hours > 23 || minutes > 59 {
        return Err(TimeError::FieldRange);
    }
    Ok(sign * i64::from(hours * 3600 + minutes * 60))
}
