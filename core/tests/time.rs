//! `strongroom_core::time`: calendar conversions, the RFC 3339 / ISO 8601 /
//! SigV4 / Unix-seconds readers and the writers.
//!
//! - tables of edge dates (leap years 1900, 2000, 2100, 2400; 31 December
//!   and 1 January; 29 February; the epoch; years 0000 and 9999) and of
//!   refused text (signs, spaces, 31 February, overflow), with the expected
//!   seconds computed by Python's `calendar.timegm` (CPython 3.11);
//! - round trips (proptest): what a writer writes, the matching reader reads
//!   back as the same instant over the whole range it supports;
//! - a cross-check against an implementation nobody here wrote: Python's
//!   `datetime` (run as `python3`; the test fails, never skips, when it is
//!   missing) formats several thousand instants and converts dates with
//!   zone offsets to Unix seconds;
//! - every day from 1600 to past 2500 against a day-by-day count.
#![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)

use std::io::Write as _;
use std::process::{Command, Stdio};

use proptest::prelude::*;
use strongroom_core::time::{self, TimeError, Timestamp, MAX_UNIX_SECONDS, MIN_UNIX_SECONDS};

#[path = "support/proptest_cases.rs"]
mod proptest_cases;
use proptest_cases::cases;

/// Edge instants: (Unix seconds, RFC 3339 text). The seconds are Python's
/// `calendar.timegm(datetime.fromisoformat(text).timetuple())` (year 0000,
/// which Python's `datetime` lacks, from 0001-01-01 minus the 366 days of
/// leap year 0).
const EDGES: &[(i64, &str)] = &[
    (0, "1970-01-01T00:00:00Z"),
    (-1, "1969-12-31T23:59:59Z"),
    (-2_203_891_201, "1900-02-28T23:59:59Z"),
    (-2_203_891_200, "1900-03-01T00:00:00Z"),
    (951_782_400, "2000-02-29T00:00:00Z"),
    (1_704_067_199, "2023-12-31T23:59:59Z"),
    (1_704_067_200, "2024-01-01T00:00:00Z"),
    (1_709_251_199, "2024-02-29T23:59:59Z"),
    (4_107_542_400, "2100-03-01T00:00:00Z"),
    (13_574_606_400, "2400-02-29T12:00:00Z"),
    (253_402_300_799, "9999-12-31T23:59:59Z"),
    (-62_135_596_800, "0001-01-01T00:00:00Z"),
    (-62_167_219_200, "0000-01-01T00:00:00Z"),
];

#[test]
fn the_range_constants_are_years_0000_to_9999() {
    assert_eq!(
        time::format_rfc3339(MIN_UNIX_SECONDS),
        "0000-01-01T00:00:00Z"
    );
    assert_eq!(
        time::format_rfc3339(MAX_UNIX_SECONDS),
        "9999-12-31T23:59:59Z"
    );
    assert_eq!(time::SECONDS_PER_DAY, 86_400);
}

#[test]
fn leap_years_and_month_lengths() {
    for (year, leap) in [
        (1900, false),
        (2000, true),
        (2023, false),
        (2024, true),
        (2100, false),
        (2400, true),
        (0, true),
        (-4, true),
        (-100, false),
        (-400, true),
        (9999, false),
    ] {
        assert_eq!(time::is_leap_year(year), leap, "{year}");
        let feb = if leap { 29 } else { 28 };
        assert_eq!(time::days_in_month(year, 2), Some(feb), "{year}");
    }
    let lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    for (month, len) in (1..=12).zip(lengths) {
        assert_eq!(time::days_in_month(2023, month), Some(len));
    }
    assert_eq!(time::days_in_month(2023, 0), None);
    assert_eq!(time::days_in_month(2023, 13), None);
}

#[test]
fn civil_conversions_at_the_edges() {
    assert_eq!(time::days_from_civil(1970, 1, 1), Some(0));
    assert_eq!(time::civil_from_days(0), (1970, 1, 1));
    assert_eq!(time::civil_from_days(-1), (1969, 12, 31));
    assert_eq!(time::days_from_civil(2000, 2, 29), Some(11_016));
    assert_eq!(time::days_from_civil(2400, 2, 29), Some(157_113));
    // Dates that do not exist.
    for (y, m, d) in [
        (1900, 2, 29),
        (2100, 2, 29),
        (2023, 2, 29),
        (2024, 2, 30),
        (2024, 2, 31),
        (2024, 4, 31),
        (2024, 1, 0),
        (2024, 0, 1),
        (2024, 13, 1),
    ] {
        assert_eq!(time::days_from_civil(y, m, d), None, "{y}-{m}-{d}");
    }
    // The whole i64 day range converts without overflow and back; past it
    // a date has no i64 day count.
    for days in [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX] {
        let (y, m, d) = time::civil_from_days(days);
        assert_eq!(time::days_from_civil(y, m, d), Some(days), "{days}");
    }
    assert_eq!(time::days_from_civil(i64::MAX, 12, 31), None);
    assert_eq!(time::days_from_civil(i64::MIN, 1, 1), None);
}

/// The date `n` days after 1600-01-01, counted year by year from the
/// start of its 400-year cycle (146,097 days): the sparse reference of
/// [`civil_conversions_match_counting_days`].
fn civil_by_counting(n: i64) -> (i64, u8, u8) {
    let mut year = 1600 + 400 * (n / 146_097);
    let mut rest = n % 146_097;
    loop {
        let len = if time::is_leap_year(year) { 366 } else { 365 };
        if rest < len {
            break;
        }
        rest -= len;
        year += 1;
    }
    let mut month = 1;
    loop {
        let len = i64::from(time::days_in_month(year, month).unwrap());
        if rest < len {
            break;
        }
        rest -= len;
        month += 1;
    }
    (year, month, u8::try_from(rest + 1).unwrap())
}

#[test]
fn civil_conversions_match_counting_days() {
    let start = time::days_from_civil(1600, 1, 1).unwrap();
    assert_eq!(start, -135_140);
    // Every day from 1600 to 2500, counted one by one...
    let mut expected = start;
    for year in 1600..=2500 {
        for month in 1..=12 {
            for day in 1..=time::days_in_month(year, month).unwrap() {
                assert_eq!(time::days_from_civil(year, month, day), Some(expected));
                assert_eq!(time::civil_from_days(expected), (year, month, day));
                expected += 1;
            }
        }
    }
    // ... then a sparse walk to year 9999.
    for n in (expected - start..3_000_000).step_by(997) {
        let civil = civil_by_counting(n);
        assert_eq!(time::civil_from_days(start + n), civil, "day {n}");
        assert_eq!(
            time::days_from_civil(civil.0, civil.1, civil.2),
            Some(start + n)
        );
    }
}

#[test]
fn edge_instants_write_and_read() {
    for &(secs, text) in EDGES {
        assert_eq!(time::format_rfc3339(secs), text);
        assert_eq!(time::parse_rfc3339_utc(text), Ok(secs), "{text}");
        assert_eq!(
            time::parse_iso8601(text),
            Ok(Timestamp::from_unix_seconds(secs)),
            "{text}"
        );
        assert_eq!(time::check_rfc3339_utc_prefix(text), Ok(()), "{text}");
        let basic: String = text.chars().filter(|c| !matches!(c, '-' | ':')).collect();
        assert_eq!(time::format_amz_date(secs), basic);
        assert_eq!(time::parse_amz_date(&basic), Ok(secs), "{basic}");
    }
}

/// The audit log's `eventTime` (hash-chained: these strings must never
/// change): milliseconds dropped, years past 9999 with the digits they need.
#[test]
fn audit_event_times_are_unchanged() {
    for (millis, text) in [
        (0, "1970-01-01T00:00:00Z"),
        (999, "1970-01-01T00:00:00Z"),
        (951_782_400_000, "2000-02-29T00:00:00Z"),
        (1_709_251_199_999, "2024-02-29T23:59:59Z"),
        (4_102_444_800_000, "2100-01-01T00:00:00Z"),
        (253_402_300_799_000, "9999-12-31T23:59:59Z"),
        (1_234_567_890_123, "2009-02-13T23:31:30Z"),
        (253_402_300_800_000, "10000-01-01T00:00:00Z"),
        (u64::MAX, "584556019-04-03T14:25:51Z"),
    ] {
        assert_eq!(time::format_rfc3339_millis(millis), text, "{millis}");
        let mut out = String::from("x");
        time::write_rfc3339_millis(millis, &mut out);
        assert_eq!(out, format!("x{text}"));
    }
    assert_eq!(
        time::format_rfc3339(-62_167_219_201),
        "-0001-12-31T23:59:59Z"
    );
    assert_eq!(time::format_amz_date(253_402_300_800), "100000101T000000Z");
}

#[test]
fn rfc3339_utc_refusals() {
    for (text, why) in [
        ("", TimeError::Syntax),
        ("2024-01-01T00:00:00z", TimeError::Syntax),
        ("2024-01-01t00:00:00Z", TimeError::Syntax),
        ("2024-01-01 00:00:00Z", TimeError::Syntax),
        ("2024-01-01T00:00:00.5Z", TimeError::Syntax),
        ("2024-01-01T00:00:00+00:00", TimeError::Syntax),
        (" 2024-01-01T00:00:00Z", TimeError::Syntax),
        ("2024-01-01T00:00:00Z ", TimeError::Syntax),
        ("10000-01-01T00:00:00Z", TimeError::Syntax),
        ("-0001-01-01T00:00:00Z", TimeError::Syntax),
        // Signs are not digits (`i64::from_str` takes `+1`).
        ("+024-01-01T00:00:00Z", TimeError::Syntax),
        ("2024-+1-01T00:00:00Z", TimeError::Syntax),
        ("2024-01-+1T00:00:00Z", TimeError::Syntax),
        ("2024-01-01T-1:00:00Z", TimeError::Syntax),
        ("2024-01-01T00:+1:00Z", TimeError::Syntax),
        ("２０２４-01-01T00:00:00Z", TimeError::Syntax),
        ("2024-02-30T00:00:00Z", TimeError::FieldRange),
        ("2023-02-31T00:00:00Z", TimeError::FieldRange),
        ("2023-02-29T00:00:00Z", TimeError::FieldRange),
        ("1900-02-29T00:00:00Z", TimeError::FieldRange),
        ("2100-02-29T00:00:00Z", TimeError::FieldRange),
        ("2024-04-31T00:00:00Z", TimeError::FieldRange),
        ("2024-13-01T00:00:00Z", TimeError::FieldRange),
        ("2024-00-01T00:00:00Z", TimeError::FieldRange),
        ("2024-01-00T00:00:00Z", TimeError::FieldRange),
        ("2024-01-32T00:00:00Z", TimeError::FieldRange),
        ("2024-01-01T24:00:00Z", TimeError::FieldRange),
        ("2024-01-01T00:60:00Z", TimeError::FieldRange),
        ("2016-12-31T23:59:60Z", TimeError::FieldRange),
    ] {
        assert_eq!(time::parse_rfc3339_utc(text), Err(why), "{text:?}");
        assert!(time::check_rfc3339_utc_prefix(text).is_err(), "{text:?}");
    }
    // Prefixes are filters, not times.
    for prefix in ["2024", "2024-01-01", "2024-01-01T00:00:00"] {
        assert_eq!(time::parse_rfc3339_utc(prefix), Err(TimeError::Syntax));
    }
}

#[test]
fn rfc3339_utc_prefixes() {
    for good in [
        "0000",
        "2024",
        "2024-02",
        "2024-02-29",
        "2024-02-29T23",
        "2024-02-29T23:59",
        "2024-02-29T23:59:59",
        "2024-02-29T23:59:59Z",
    ] {
        assert_eq!(time::check_rfc3339_utc_prefix(good), Ok(()), "{good}");
    }
    for (bad, why) in [
        ("", TimeError::Syntax),
        ("202", TimeError::Syntax),
        ("2024-", TimeError::Syntax),
        ("2024-0", TimeError::Syntax),
        ("2024-1-01", TimeError::Syntax),
        ("2024-02-29T", TimeError::Syntax),
        ("2024-02-29T2", TimeError::Syntax),
        ("20240229", TimeError::Syntax),
        ("2024-02-29T23:59:59+01:00", TimeError::Syntax),
        ("2024-13", TimeError::FieldRange),
        ("2023-02-29", TimeError::FieldRange),
        ("2024-02-29T24", TimeError::FieldRange),
        ("2024-02-29T23:60", TimeError::FieldRange),
    ] {
        assert_eq!(time::check_rfc3339_utc_prefix(bad), Err(why), "{bad:?}");
    }
}

#[test]
fn amz_dates() {
    // The AWS Signature Version 4 documentation's example date.
    assert_eq!(time::parse_amz_date("20150830T123600Z"), Ok(1_440_938_160));
    assert_eq!(time::format_amz_date(1_440_938_160), "20150830T123600Z");
    assert_eq!(
        time::parse_amz_date("00000101T000000Z"),
        Ok(MIN_UNIX_SECONDS)
    );
    for (text, why) in [
        ("2015-08-30T12:36:00Z", TimeError::Syntax),
        ("20150830T123600", TimeError::Syntax),
        ("20150830t123600Z", TimeError::Syntax),
        ("20150830T123600z", TimeError::Syntax),
        ("+0150830T123600Z", TimeError::Syntax),
        ("2015083 T123600Z", TimeError::Syntax),
        ("20150830T1236001Z", TimeError::Syntax),
        ("20151330T123600Z", TimeError::FieldRange),
        ("20150231T000000Z", TimeError::FieldRange),
        ("20150431T000000Z", TimeError::FieldRange),
        ("19000229T000000Z", TimeError::FieldRange),
        ("20150830T243600Z", TimeError::FieldRange),
        ("20150830T123660Z", TimeError::FieldRange),
    ] {
        assert_eq!(time::parse_amz_date(text), Err(why), "{text}");
    }
}

#[test]
fn unix_seconds() {
    assert_eq!(time::parse_unix_seconds("0"), Ok(0));
    assert_eq!(time::parse_unix_seconds("000123"), Ok(123));
    assert_eq!(
        time::parse_unix_seconds("18446744073709551615"),
        Ok(u64::MAX)
    );
    assert_eq!(
        time::parse_unix_seconds("18446744073709551616"),
        Err(TimeError::OutOfRange)
    );
    assert_eq!(
        time::parse_unix_seconds("99999999999999999999999"),
        Err(TimeError::OutOfRange)
    );
    for bad in ["", "+1", "-1", "+0", " 1", "1 ", "1.5", "1e9", "0x10", "١٢"] {
        assert_eq!(
            time::parse_unix_seconds(bad),
            Err(TimeError::Syntax),
            "{bad:?}"
        );
    }
    let at = |s: &str| {
        time::parse_unix_seconds_fraction(s).map(|t| (t.unix_seconds(), t.subsec_nanos()))
    };
    assert_eq!(at("1700000000"), Ok((1_700_000_000, 0)));
    assert_eq!(at("1700000000.25"), Ok((1_700_000_000, 250_000_000)));
    assert_eq!(at("0.000000001999"), Ok((0, 1)));
    assert_eq!(at("999999999999999999"), Ok((999_999_999_999_999_999, 0)));
    assert_eq!(at("1234567890123456789"), Err(TimeError::OutOfRange));
    for bad in ["", "1.", ".5", "+1", "-1", "1.5.", "1.+5", "1. 5", "1e9"] {
        assert_eq!(at(bad), Err(TimeError::Syntax), "{bad:?}");
    }
}

#[test]
fn iso8601_with_zones() {
    let at = |s: &str| time::parse_iso8601(s).map(|t| (t.unix_seconds(), t.subsec_nanos()));
    assert_eq!(at("2023-11-14"), Ok((1_699_920_000, 0)));
    assert_eq!(at("2023-11-14T22:13:20Z"), Ok((1_700_000_000, 0)));
    assert_eq!(at("2023-11-14T23:13:20+01:00"), Ok((1_700_000_000, 0)));
    assert_eq!(at("2023-11-14T21:13:20-0100"), Ok((1_700_000_000, 0)));
    assert_eq!(at("2023-11-15T08:13:20+10:00"), Ok((1_700_000_000, 0)));
    assert_eq!(at("2023-11-14t22:13z"), Ok((1_699_999_980, 0)));
    assert_eq!(
        at("2023-11-14T22:13:20.5Z"),
        Ok((1_700_000_000, 500_000_000))
    );
    assert_eq!(
        at("2023-11-14T22:13:20.0000000019Z"),
        Ok((1_700_000_000, 1))
    );
    assert_eq!(
        at("0000-01-01T00:00+23:59"),
        Ok((MIN_UNIX_SECONDS - 86_340, 0))
    );
    assert_eq!(
        at("9999-12-31T23:59:59-23:59"),
        Ok((MAX_UNIX_SECONDS + 86_340, 0))
    );
    for (text, why) in [
        ("2023-11-14T22:13:20", TimeError::Syntax),
        ("2023-11-14T", TimeError::Syntax),
        ("2023-11-14T22Z", TimeError::Syntax),
        ("2023-11-14T22:13:2Z", TimeError::Syntax),
        ("2023-11-14T22:13:20.Z", TimeError::Syntax),
        ("2023-11-14 22:13:20Z", TimeError::Syntax),
        ("2023-11-14T22:13:20+1", TimeError::Syntax),
        ("2023-11-14T22:13:20+01", TimeError::Syntax),
        ("2023-11-14T22:13:20+01:0", TimeError::Syntax),
        ("2023-11-14T22:13:20+-1:00", TimeError::Syntax),
        ("2023-11-14T22:13:20ZZ", TimeError::Syntax),
        ("2023-11-1", TimeError::Syntax),
        ("2023-+1-14", TimeError::Syntax),
        ("2023-02-31", TimeError::FieldRange),
        ("2023-02-29T00:00Z", TimeError::FieldRange),
        ("2023-11-14T24:00Z", TimeError::FieldRange),
        ("2023-11-14T23:59:60Z", TimeError::FieldRange),
        ("2023-11-14T22:13:20+24:00", TimeError::FieldRange),
        ("2023-11-14T22:13:20+01:60", TimeError::FieldRange),
    ] {
        assert_eq!(at(text), Err(why), "{text:?}");
    }
}

#[test]
fn errors_say_what_is_wrong() {
    assert_eq!(TimeError::Syntax.to_string(), "not in the expected form");
    assert!(TimeError::FieldRange
        .to_string()
        .contains("the day within its month"));
    assert!(TimeError::OutOfRange.to_string().contains("range"));
}

/// `offset` seconds east of UTC as `±hh:mm`.
fn offset_text(offset: i64) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.abs();
    format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
}

proptest! {
    #![proptest_config(cases(2048))]

    /// RFC 3339 and SigV4 text round-trip over years 0000–9999; every
    /// prefix cut at a field is a valid filter.
    #[test]
    fn written_times_read_back(secs in MIN_UNIX_SECONDS..=MAX_UNIX_SECONDS) {
        let text = time::format_rfc3339(secs);
        prop_assert_eq!(text.len(), 20);
        prop_assert_eq!(time::parse_rfc3339_utc(&text), Ok(secs));
        prop_assert_eq!(time::parse_iso8601(&text), Ok(Timestamp::from_unix_seconds(secs)));
        for cut in [4, 7, 10, 13, 16, 19, 20] {
            prop_assert_eq!(time::check_rfc3339_utc_prefix(&text[..cut]), Ok(()));
        }
        let amz = time::format_amz_date(secs);
        prop_assert_eq!(amz.len(), 16);
        prop_assert_eq!(time::parse_amz_date(&amz), Ok(secs));
        let days = secs.div_euclid(86_400);
        let (y, m, d) = time::civil_from_days(days);
        prop_assert_eq!(time::days_from_civil(y, m, d), Some(days));
    }

    /// A local time with a zone offset names the UTC instant it says.
    #[test]
    fn offsets_shift_the_instant(
        secs in MIN_UNIX_SECONDS + 86_400..=MAX_UNIX_SECONDS - 86_400,
        minutes in -(23 * 60 + 59)..=(23 * 60 + 59i64),
        nanos in 0u32..1_000_000_000,
    ) {
        let offset = minutes * 60;
        let local = time::format_rfc3339(secs + offset);
        let text = format!("{}.{nanos:09}{}", &local[..19], offset_text(offset));
        let t = time::parse_iso8601(&text).unwrap();
        prop_assert_eq!((t.unix_seconds(), t.subsec_nanos()), (secs, nanos));
        // The offset without its colon, `±hhmm`, and no seconds.
        let compact = format!("{}{}", &local[..16], offset_text(offset).replace(':', ""));
        let t = time::parse_iso8601(&compact).unwrap();
        prop_assert_eq!(t.unix_seconds(), secs - secs.rem_euclid(60));
    }

    /// Unix seconds round-trip for every `u64` (and every IAM epoch value
    /// with a fraction).
    #[test]
    fn unix_seconds_read_back(n in any::<u64>(), frac in 0u32..1_000_000_000) {
        prop_assert_eq!(time::parse_unix_seconds(&n.to_string()), Ok(n));
        let whole = n % 1_000_000_000_000_000_000;
        let t = time::parse_unix_seconds_fraction(&format!("{whole}.{frac:09}")).unwrap();
        prop_assert_eq!((t.unix_seconds(), t.subsec_nanos()), (i64::try_from(whole).unwrap(), frac));
    }

    /// Civil days and back over all of `i64`.
    #[test]
    fn civil_days_round_trip(days in any::<i64>()) {
        let (y, m, d) = time::civil_from_days(days);
        prop_assert!((1..=time::days_in_month(y, m).unwrap()).contains(&d));
        prop_assert_eq!(time::days_from_civil(y, m, d), Some(days));
    }

    /// Arbitrary and timestamp-shaped text never panics; what is accepted
    /// is written back the same way.
    #[test]
    fn arbitrary_text_is_read_or_refused(
        text in "\\PC{0,24}|[0-9+ -]{4}-[0-9+ -]{2}-[0-9+ -]{2}T[0-9+]{2}:[0-9+]{2}:[0-9+]{2}Z|[0-9]{8}T[0-9]{6}Z",
    ) {
        if let Ok(secs) = time::parse_rfc3339_utc(&text) {
            prop_assert_eq!(time::format_rfc3339(secs), text.as_str());
        }
        if let Ok(secs) = time::parse_amz_date(&text) {
            prop_assert_eq!(time::format_amz_date(secs), text.as_str());
        }
        let _ = time::parse_iso8601(&text);
        let _ = time::check_rfc3339_utc_prefix(&text);
        let _ = time::parse_unix_seconds_fraction(&text);
    }
}

// ---- cross-check against Python's datetime ---------------------------------

/// Runs `script` under `python3` with `input` on its standard input; its
/// standard output. Fails (never skips) when Python cannot be run.
fn python(script: &str, input: &str) -> String {
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "python3 is needed for the reference cross-check of core::time \
                 (Python's datetime) and could not be run: {e}"
            )
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 failed: {:?}", out.status);
    String::from_utf8(out.stdout).unwrap()
}

/// A deterministic stream of pseudo-random `u64` (SplitMix64).
fn splitmix(seed: u64) -> impl Iterator<Item = u64> {
    let mut state = seed;
    std::iter::repeat_with(move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

/// `n` in `lo..=hi` from a random `u64`.
fn in_range(r: u64, lo: i64, hi: i64) -> i64 {
    let span = u64::try_from(hi - lo).unwrap() + 1;
    lo + i64::try_from(r % span).unwrap()
}

/// Python's `datetime` (years 1–9999) writes the same RFC 3339 text for
/// edge and pseudo-random instants.
#[test]
fn formatting_matches_python_datetime() {
    const PY_MIN: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
    let mut instants: Vec<i64> = EDGES.iter().map(|e| e.0).filter(|&s| s >= PY_MIN).collect();
    instants.extend(
        splitmix(1)
            .take(3000)
            .map(|r| in_range(r, PY_MIN, MAX_UNIX_SECONDS)),
    );
    // Around every year boundary of 1896–2404 (leap-year rules at work).
    for year in 1896..=2404 {
        let jan1 = time::days_from_civil(year, 1, 1).unwrap() * 86_400;
        instants.extend([jan1 - 1, jan1, jan1 + 59 * 86_400 - 1, jan1 + 59 * 86_400]);
    }
    let input: String = instants.iter().map(|s| format!("{s}\n")).collect();
    let script = "import sys, datetime as d\n\
        e = d.datetime(1970, 1, 1)\n\
        for line in sys.stdin:\n\
        \x20   t = e + d.timedelta(seconds=int(line))\n\
        \x20   print(t.isoformat(timespec='seconds') + 'Z')\n";
    let out = python(script, &input);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), instants.len());
    for (secs, py) in instants.iter().zip(lines) {
        assert_eq!(time::format_rfc3339(*secs), py, "{secs}");
        assert_eq!(time::parse_rfc3339_utc(py), Ok(*secs), "{py}");
    }
}

/// Python's `datetime` converts dates with zone offsets to the same Unix
/// seconds, and agrees on which dates exist (31 February, 29 February of
/// 1900 and 2100...).
#[test]
fn zoned_dates_and_date_validity_match_python_datetime() {
    let mut rng = splitmix(2);
    let mut next = move |lo, hi| in_range(rng.next().unwrap(), lo, hi);
    let mut cases = Vec::new();
    for _ in 0..3000 {
        let (y, mo, d) = (next(2, 9998), next(1, 12), next(1, 31));
        let (h, mi, s) = (next(0, 23), next(0, 59), next(0, 59));
        let off = next(-(23 * 60 + 59), 23 * 60 + 59) * 60;
        cases.push((y, mo, d, h, mi, s, off));
    }
    for y in [1900, 2000, 2023, 2024, 2100, 2400] {
        cases.extend((28..=31).map(|d| (y, 2, d, 12, 0, 0, 0)));
    }
    let input: String = cases
        .iter()
        .map(|c| format!("{} {} {} {} {} {} {}\n", c.0, c.1, c.2, c.3, c.4, c.5, c.6))
        .collect();
    let script = "import sys, datetime as d\n\
        u = d.timezone.utc\n\
        e = d.datetime(1970, 1, 1, tzinfo=u)\n\
        for line in sys.stdin:\n\
        \x20   y, mo, da, h, mi, s, off = map(int, line.split())\n\
        \x20   try:\n\
        \x20       t = d.datetime(y, mo, da, h, mi, s, tzinfo=d.timezone(d.timedelta(seconds=off)))\n\
        \x20   except ValueError:\n\
        \x20       print('invalid')\n\
        \x20       continue\n\
        \x20   print((t - e) // d.timedelta(seconds=1))\n";
    let out = python(script, &input);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), cases.len());
    let mut valid = 0;
    for (&(y, mo, d, h, mi, s, off), py) in cases.iter().zip(lines) {
        let text = format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{}",
            offset_text(off)
        );
        let ours = time::parse_iso8601(&text).map(Timestamp::unix_seconds);
        if py == "invalid" {
            assert_eq!(ours, Err(TimeError::FieldRange), "{text}");
            let (m8, d8) = (u8::try_from(mo).unwrap(), u8::try_from(d).unwrap());
            assert_eq!(time::days_from_civil(y, m8, d8), None, "{text}");
        } else {
            assert_eq!(ours, Ok(py.parse::<i64>().unwrap()), "{text}");
            valid += 1;
        }
    }
    // Both kinds were compared.
    assert!(valid > 2000 && valid < cases.len(), "{valid}");
}
