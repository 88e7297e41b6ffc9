//! Parsing of AWS-CLI-style option values.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use strongroom::api::{from_json_strict, Tag};
use strongroom::core::grant::{GrantConstraints, GrantOperation};
use strongroom::core::time;
use strongroom::{EncryptionContext, Error};

/// The most bytes an option's file (`fileb://`, `file://`, a raw AES key
/// file) is read to: 1 MiB, far more than any KMS parameter takes (the
/// longest, a key policy, is 32 KiB), so that a file named by mistake (a
/// disk image, `/dev/zero`, a pipe that never ends) is refused instead of
/// read into memory until the process or the machine runs out.
pub const MAX_OPTION_FILE: usize = 1 << 20;

/// The bytes of the file at `path`, at most [`MAX_OPTION_FILE`]
/// ([`strongroom::files::read_file_capped`], shared with `serve`'s files).
///
/// # Errors
/// `ValidationException` naming the file when it cannot be read or is
/// longer.
pub fn read_option_file(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    strongroom::files::read_file_capped(path, MAX_OPTION_FILE, "more than any KMS parameter takes")
}

/// The most bytes `import-keystore --infile` reads: 1 GiB. A sealed export
/// (docs/FORMAT.md, "Sealed keystore export") holds every record of the
/// keystore and is imported from memory whole; a symmetric key with its
/// default policy takes about 780 bytes of it, so a keystore at AWS KMS's
/// default quota of 100,000 keys per account and Region exports to about
/// 75 MiB, and 1 GiB leaves room for keys with long policies, tags, many
/// rotations or grants. Past it the input is taken for a file named by
/// mistake or an endless stream, refused before memory runs out.
pub const MAX_EXPORT_FILE: usize = 1 << 30;

/// The sealed export at `infile` (`-`: standard input), at most
/// [`MAX_EXPORT_FILE`] bytes. An input that does not start with the
/// export's magic (`SRKX`) is refused once its first four bytes are read,
/// so that a device (`/dev/zero`) or another file is not read further; a
/// regular file longer than [`MAX_EXPORT_FILE`] is refused from its length,
/// before any of it is read.
///
/// # Errors
/// `ValidationException` naming the input when it is missing, cannot be
/// read (a directory), is longer than [`MAX_EXPORT_FILE`] or is not an
/// export.
pub fn read_export(infile: &std::path::Path) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let (mut reader, name, len): (Box<dyn Read>, String, u64) = if infile.as_os_str() == "-" {
        (
            Box::new(std::io::stdin().lock()),
            "standard input".into(),
            0,
        )
    } else {
        let name = infile.display().to_string();
        let f = std::fs::File::open(infile)
            .map_err(|e| Error::validation(format!("cannot read {name}: {e}")))?;
        let len = strongroom::files::file_len(&f, &name, MAX_EXPORT_FILE, TOO_LONG_EXPORT)?;
        (Box::new(f), name, len)
    };
    let magic = strongroom::core::export::MAGIC;
    let mut head = Vec::with_capacity(magic.len());
    (&mut reader)
        .take(magic.len() as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::validation(format!("cannot read {name}: {e}")))?;
    if head.len() == magic.len() && head != magic {
        return Err(Error::validation(format!(
            "{name} is not a sealed keystore export (export-keystore writes one; it starts with \"SRKX\")"
        )));
    }
    strongroom::files::read_capped(
        head.as_slice().chain(reader),
        &name,
        len,
        MAX_EXPORT_FILE,
        TOO_LONG_EXPORT,
    )
}

/// Why an export file longer than [`MAX_EXPORT_FILE`] is refused.
const TOO_LONG_EXPORT: &str = "more than a sealed keystore export of this build holds";

/// A blob parameter: `fileb://path` (raw bytes), `file://path` (the file's
/// bytes) or base64 text, as the AWS CLI v2 reads blobs.
///
/// Base64 text may be wrapped: ASCII white space (space, tab, line feed,
/// form feed, carriage return) anywhere in it is dropped, so `"$(base64
/// file)"` (a line end every 76 characters) is read. Any other character
/// outside the standard alphabet and its padding is refused, as are
/// missing padding and nonzero unused bits (one spelling per value). AWS
/// CLI v2 decodes with Python's `base64.b64decode(value)`, whose default
/// (`validate=False`) drops every character outside the alphabet (`aGk=!`
/// reads as `aGk=`); Strongroom drops only white space, so a mistyped
/// value is refused rather than read as other bytes.
pub fn parse_blob(s: &str) -> Result<Vec<u8>, Error> {
    if let Some(p) = s
        .strip_prefix("fileb://")
        .or_else(|| s.strip_prefix("file://"))
    {
        return read_option_file(p.as_ref());
    }
    // Built in place in one buffer of the text's length: collecting would
    // grow it, leaving unzeroized copies of the secret in freed buffers.
    let mut compact = zeroize::Zeroizing::new(String::with_capacity(s.len()));
    for c in s.chars().filter(|c| !c.is_ascii_whitespace()) {
        compact.push(c);
    }
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| Error::validation("expected fileb://PATH, file://PATH or base64 text"))
}

/// An encryption context: `k=v,k2=v2` or a JSON object of strings.
pub fn parse_context(s: &str) -> Result<EncryptionContext, Error> {
    let t = s.trim();
    if t.starts_with('{') {
        let map: std::collections::BTreeMap<String, String> = unique_members(t)
            .and_then(|()| serde_json::from_str(t))
            .map_err(|e| Error::validation(format!("encryption context: {e}")))?;
        return Ok(EncryptionContext(map));
    }
    EncryptionContext::from_pairs(shorthand_pairs(t, "encryption context entry")?)
}

/// The `k=v` pairs of the shorthand `k=v,k2=v2` (empty entries skipped),
/// in order; repeats are left to the caller.
///
/// # Errors
/// `ValidationException` naming the entry (`what` says of what) that has
/// no `=`.
fn shorthand_pairs<'a>(t: &'a str, what: &str) -> Result<Vec<(&'a str, &'a str)>, Error> {
    t.split(',')
        .filter(|p| !p.is_empty())
        .map(|item| {
            item.split_once('=')
                .ok_or_else(|| Error::validation(format!("{what} '{item}' is not k=v")))
        })
        .collect()
}

/// Refuses JSON in which an object names a member twice (`{"a":"1","a":"2"}`):
/// serde_json would keep the last silently, where the shorthand (`a=1,a=2`)
/// and the endpoint refuse the repetition.
fn unique_members(json: &str) -> Result<(), serde_json::Error> {
    strongroom_server::wire::check_no_duplicate_members(json.as_bytes())
}

/// Tags: each value `TagKey=k,TagValue=v` (`TagValue` may be left out: the
/// empty value), or one JSON list of `{"TagKey": k, "TagValue": v}`.
///
/// # Errors
/// `ValidationException` for a shorthand tag with another field, a field
/// given twice (`TagKey=a,TagValue=1,TagValue=2`: the second was kept; a
/// second `TagKey` named a second tag whose value was lost) or no
/// `TagKey`; for JSON that does not parse as such a list, with a member
/// other than `TagKey` and `TagValue`, or with a member repeated.
pub fn parse_tags(values: &[String]) -> Result<Vec<Tag>, Error> {
    let mut tags = Vec::new();
    for v in values {
        let t = v.trim();
        if t.starts_with('[') {
            // A member other than TagKey and TagValue (a misspelt
            // `TagValu`) is refused by name, not dropped.
            unique_members(t).map_err(|e| Error::validation(format!("tags: {e}")))?;
            let list: Vec<Tag> = from_json_strict(t.as_bytes(), &[])
                .map_err(|e| Error::validation(format!("tags: {e}")))?;
            tags.extend(list);
            continue;
        }
        let (mut key, mut value) = (None, None);
        let pairs = shorthand_pairs(t, "tag")
            .map_err(|_| Error::validation(format!("tag '{t}' is not TagKey=k,TagValue=v")))?;
        for (name, val) in pairs {
            let slot = match name {
                "TagKey" => &mut key,
                "TagValue" => &mut value,
                _ => {
                    return Err(Error::validation(format!(
                        "tag '{t}' is not TagKey=k,TagValue=v"
                    )))
                }
            };
            if slot.replace(val).is_some() {
                return Err(Error::validation(format!(
                    "tag '{t}': {name} is given more than once (give each tag as its own \
                     TagKey=k,TagValue=v value)"
                )));
            }
        }
        let tag_key = key.ok_or_else(|| Error::validation(format!("tag '{t}' has no TagKey")))?;
        tags.push(Tag {
            tag_key: tag_key.to_string(),
            tag_value: value.unwrap_or_default().to_string(),
        });
    }
    Ok(tags)
}

/// A text parameter: `file://path` (the file's text) or the text itself.
pub fn parse_text(s: &str) -> Result<String, Error> {
    match s.strip_prefix("file://") {
        Some(p) => String::from_utf8(read_option_file(p.as_ref())?).map_err(|_| {
            Error::validation(format!(
                "cannot read {p}: stream did not contain valid UTF-8"
            ))
        }),
        None => Ok(s.to_string()),
    }
}

/// Grant operations: each value one name or a comma-separated list.
pub fn parse_operations(values: &[String]) -> Result<Vec<GrantOperation>, Error> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(GrantOperation::parse)
        .collect()
}

/// Grant constraints: a JSON object, or the AWS CLI shorthand
/// `EncryptionContextEquals={k=v,k2=v2},EncryptionContextSubset={k=v}`.
pub fn parse_constraints(s: &str) -> Result<GrantConstraints, Error> {
    let t = s.trim();
    if t.starts_with('{') {
        return unique_members(t)
            .and_then(|()| serde_json::from_str(t))
            .map_err(|e| Error::validation(format!("constraints: {e}")));
    }
    let mut out = GrantConstraints::default();
    let mut rest = t;
    while !rest.is_empty() {
        let (name, after) = rest.split_once("={").ok_or_else(|| {
            Error::validation(format!(
                "constraints: expected Name={{k=v,...}} in '{rest}'"
            ))
        })?;
        let (body, after) = after
            .split_once('}')
            .ok_or_else(|| Error::validation("constraints: missing '}'"))?;
        let ctx = parse_context(body)?;
        let slot = match name.trim() {
            "EncryptionContextEquals" => &mut out.encryption_context_equals,
            "EncryptionContextSubset" => &mut out.encryption_context_subset,
            other => {
                return Err(Error::validation(format!(
                    "constraints: unknown constraint '{other}' (EncryptionContextEquals or EncryptionContextSubset)"
                )))
            }
        };
        if slot.replace(ctx).is_some() {
            return Err(Error::validation(format!(
                "constraints: {} is given more than once",
                name.trim()
            )));
        }
        rest = after.trim_start_matches(',').trim();
    }
    Ok(out)
}

/// A time in Unix seconds, written as Unix seconds (ASCII digits only:
/// core's [`parse_unix_seconds`](strongroom::core::time::parse_unix_seconds))
/// or as RFC 3339 UTC `YYYY-MM-DDTHH:MM:SSZ` from 1970 on (core's
/// [`parse_rfc3339_utc`](strongroom::core::time::parse_rfc3339_utc): every
/// field in range, the day in its month — `2023-02-29` and `2024-04-31`
/// are refused). White space around the value is ignored.
///
/// # Errors
/// `ValidationException` naming the text and what is wrong with it.
pub fn parse_time(s: &str) -> Result<u64, Error> {
    let t = s.trim();
    let secs = if t.bytes().all(|c| c.is_ascii_digit()) {
        time::parse_unix_seconds(t)
    } else {
        time::parse_rfc3339_utc(t)
            .and_then(|secs| u64::try_from(secs).map_err(|_| time::TimeError::OutOfRange))
    };
    secs.map_err(|e| {
        Error::validation(format!(
            "'{t}' is not Unix seconds or YYYY-MM-DDTHH:MM:SSZ from 1970 on: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An export file longer than [`MAX_EXPORT_FILE`] (a sparse file that
    /// starts with the magic) is refused from its length, at once, where
    /// reading it to the cap would allocate and fill 1 GiB.
    #[test]
    fn an_export_file_past_the_cap_is_refused_unread() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.srkx");
        let mut f = std::fs::File::create(&big).unwrap();
        f.write_all(strongroom::core::export::MAGIC).unwrap();
        f.set_len(MAX_EXPORT_FILE as u64 + 1).unwrap();
        drop(f);
        let started = std::time::Instant::now();
        let e = read_export(&big).unwrap_err();
        assert_eq!(e.kind(), strongroom::ErrorKind::ValidationException);
        assert!(
            e.message().ends_with(&format!(
                "is longer than {MAX_EXPORT_FILE} bytes, {TOO_LONG_EXPORT}"
            )),
            "{e}"
        );
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
    }

    #[test]
    fn times_parse_as_unix_seconds_or_rfc3339_utc() {
        assert_eq!(parse_time("1801353600").ok(), Some(1_801_353_600));
        assert_eq!(parse_time("2027-01-31T00:00:00Z").ok(), Some(1_801_353_600));
        assert_eq!(parse_time("2024-02-29T23:59:59Z").ok(), Some(1_709_251_199));
        assert_eq!(parse_time("1970-01-01T00:00:00Z").ok(), Some(0));
        assert_eq!(parse_time(" 1801353600\n").ok(), Some(1_801_353_600));
        assert_eq!(parse_time("18446744073709551615").ok(), Some(u64::MAX));
        for bad in [
            "",
            // Unix seconds are digits only: a sign was taken by
            // `u64::from_str`.
            "+1801353600",
            "+0",
            "-0",
            "18446744073709551616",
            "1801353600.5",
            "2027-13-01T00:00:00Z",
            "2027-01-31 00:00:00Z",
            "1969-12-31T23:59:59Z",
            "x",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        // Impossible dates and times, refused as by the audit filter (core's
        // `time` module reads both).
        for bad in [
            "2023-02-29T00:00:00Z",
            "2023-02-30T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T00:00:60Z",
            "2024-00-10T00:00:00Z",
            "2024-01-00T00:00:00Z",
            // Signs and spaces are not digits.
            "+024-01-01T00:00:00Z",
            "2024-+1-01T00:00:00Z",
            "2024-01-01T-1:00:00Z",
            " 2024-01-1T00:00:00Z",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
            assert!(strongroom::check_time_filter(bad.trim()).is_err(), "{bad}");
        }
        assert_eq!(parse_time("2000-02-29T00:00:00Z").ok(), Some(951_782_400));
        assert_eq!(parse_time("2024-12-31T23:59:59Z").ok(), Some(1_735_689_599));
    }

    /// A file named for a blob or text option is read to at most 1 MiB
    /// (it was read whole: `fileb:///dev/zero` grew until memory ran out).
    #[test]
    fn option_files_longer_than_any_kms_parameter_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let long = dir.path().join("long");
        std::fs::write(&long, vec![b'a'; MAX_OPTION_FILE + 1]).unwrap();
        let fits = dir.path().join("fits");
        std::fs::write(&fits, vec![b'a'; MAX_OPTION_FILE]).unwrap();
        for arg in [
            format!("fileb://{}", long.display()),
            format!("file://{}", long.display()),
        ] {
            let e = parse_blob(&arg).unwrap_err();
            assert_eq!(e.kind(), strongroom::ErrorKind::ValidationException);
            assert!(e.message().contains("longer than 1048576 bytes"), "{e}");
        }
        let e = parse_text(&format!("file://{}", long.display())).unwrap_err();
        assert!(e.message().contains("longer than"), "{e}");
        assert_eq!(
            parse_blob(&format!("fileb://{}", fits.display()))
                .unwrap()
                .len(),
            MAX_OPTION_FILE
        );
        assert_eq!(
            parse_text(&format!("file://{}", fits.display()))
                .unwrap()
                .len(),
            MAX_OPTION_FILE
        );
        let e = parse_blob(&format!("fileb://{}", dir.path().join("none").display())).unwrap_err();
        assert_eq!(e.kind(), strongroom::ErrorKind::ValidationException);
    }

    /// A repeated key is refused in the JSON form as in the shorthand
    /// (serde_json kept the last value), and so is a repeated constraint or
    /// a repeated key inside one.
    #[test]
    fn a_repeated_context_key_or_constraint_is_refused_in_every_spelling() {
        for bad in [
            r#"{"a":"1","a":"2"}"#,
            r#"{"a":"1","b":"2","a":"1"}"#,
            "a=1,a=2",
        ] {
            let e = parse_context(bad).unwrap_err();
            assert_eq!(
                e.kind(),
                strongroom::ErrorKind::ValidationException,
                "{bad}"
            );
        }
        assert_eq!(parse_context(r#"{"a":"1","b":"2"}"#).unwrap().len(), 2);
        for bad in [
            r#"{"EncryptionContextEquals":{"a":"1","a":"2"}}"#,
            r#"{"EncryptionContextEquals":{"a":"1"},"EncryptionContextEquals":{"b":"2"}}"#,
            "EncryptionContextEquals={a=1},EncryptionContextEquals={b=2}",
            "EncryptionContextSubset={a=1,a=2}",
        ] {
            let e = parse_constraints(bad).unwrap_err();
            assert_eq!(
                e.kind(),
                strongroom::ErrorKind::ValidationException,
                "{bad}"
            );
        }
        let c = parse_constraints("EncryptionContextEquals={a=1},EncryptionContextSubset={b=2}")
            .unwrap();
        assert!(c.encryption_context_equals.is_some() && c.encryption_context_subset.is_some());
    }

    /// A tag field given twice in the shorthand, and a JSON member other
    /// than `TagKey` and `TagValue` or given twice, are refused (the
    /// shorthand kept the last value, or took a second `TagKey` as the
    /// only key; JSON dropped `TagValu`).
    #[test]
    fn a_repeated_or_unknown_tag_field_is_refused() {
        for bad in [
            "TagKey=env,TagValue=prod,TagKey=team",
            "TagKey=a,TagValue=1,TagValue=2",
            "TagKey=a,TagKey=a",
            "TagKey=a,Value=1",
            "TagValue=1",
            r#"[{"TagKey":"owner","TagValue":"x","TagValu":"typo"}]"#,
            r#"[{"TagKey":"owner","TagValue":"x","TagValue":"y"}]"#,
            r#"[{"TagKey":"owner"}]"#,
        ] {
            let e = parse_tags(&[bad.to_string()]).unwrap_err();
            assert_eq!(
                e.kind(),
                strongroom::ErrorKind::ValidationException,
                "{bad}"
            );
        }
        // An unknown member is named, with where it is and what is accepted.
        let e =
            parse_tags(&[r#"[{"TagKey":"a","TagValue":"b"},{"TagKey":"c","Value":"d"}]"#.into()])
                .unwrap_err();
        assert!(
            e.message()
                .contains(r#"unknown member "Value" in [1]; accepted: TagKey, TagValue"#),
            "{e}"
        );
        let tag = |k: &str, v: &str| Tag {
            tag_key: k.into(),
            tag_value: v.into(),
        };
        assert_eq!(
            parse_tags(&[
                "TagKey=env,TagValue=prod".into(),
                "TagKey=team".into(),
                r#"[{"TagKey":"owner","TagValue":"x"}]"#.into(),
            ])
            .unwrap(),
            [tag("env", "prod"), tag("team", ""), tag("owner", "x")]
        );
    }

    /// Wrapped base64 (`base64` wraps at 76 columns, `"$(base64 file)"`
    /// keeps the line ends) is read; characters other than ASCII white
    /// space outside the alphabet are still refused.
    #[test]
    fn base64_blobs_may_be_wrapped_with_white_space() {
        let bytes: Vec<u8> = (0..=255).collect();
        let encoded = STANDARD.encode(&bytes);
        let wrapped: Vec<&str> = encoded
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        for text in [
            wrapped.join("\n"),
            wrapped.join("\r\n") + "\n",
            format!(" {}\t", wrapped.join(" \x0c")),
        ] {
            assert_eq!(parse_blob(&text).unwrap(), bytes, "{text:?}");
        }
        assert_eq!(parse_blob("aG\nk=").unwrap(), b"hi");
        for bad in [
            "aGk=!",
            "aG-k=",
            "aGk",
            "aGl=",
            "aGk=\u{a0}",
            "aGk=\x0b",
            "a\u{3000}Gk=",
        ] {
            let e = parse_blob(bad).unwrap_err();
            assert_eq!(
                e.kind(),
                strongroom::ErrorKind::ValidationException,
                "{bad:?}"
            );
        }
    }

    /// Both spellings of a context with an empty key build the same context
    /// (encryption then refuses it, decryption of an older blob accepts it).
    #[test]
    fn both_spellings_of_an_empty_key_agree() {
        let kv = parse_context("=x,k=v").unwrap();
        let json = parse_context(r#"{"":"x","k":"v"}"#).unwrap();
        assert_eq!(kv, json);
        assert_eq!(kv.get(""), Some("x"));
        let e = kv.check_for_encryption().unwrap_err();
        assert_eq!(e.kind(), strongroom::ErrorKind::ValidationException);
    }
}

/// Fuzzing of the option parsers (`docs/TESTING.md`): arbitrary text
/// never panics, an accepted value has one spelling where the format
/// has one, and a refused one is `ValidationException`.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;
    use strongroom::ErrorKind;

    fn refused<T: std::fmt::Debug>(r: Result<T, Error>) -> Result<Option<T>, TestCaseError> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::ValidationException, "{}", e);
                Ok(None)
            }
        }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` of Unix seconds `t`: the audit log's
    /// formatter (core's `time::format_rfc3339`), independent of the parser.
    fn format_time(t: u64) -> String {
        time::format_rfc3339(i64::try_from(t).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
        ))]

        /// Times: digits (and nothing else: no sign) are Unix seconds;
        /// the RFC 3339 form reads only
        /// as the one spelling of a real UTC time (no sign in a field,
        /// no 31 February).
        #[test]
        fn times(
            text in "\\PC{0,24}|[+-]?[0-9]{1,21}|[0-9+ -]{4}-[0-9+ -]{2}-[0-9+ -]{2}T[0-9+]{2}:[0-9+]{2}:[0-9+]{2}Z",
            when in 0u64..253_402_300_800,
            fields in (1970u32..2100, 1u32..=12, 1u32..=31, 0u32..24, 0u32..60, 0u32..60),
            sign in any::<bool>(),
        ) {
            // A date of real-looking fields: the day may be past the
            // month's end, the month may carry a sign.
            let (y, m, d, hh, mm, ss) = fields;
            let month = if sign && m < 10 { format!("+{m}") } else { format!("{m:02}") };
            let date = format!("{y:04}-{month}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z");
            if let Some(t) = refused(parse_time(&date))? {
                prop_assert_eq!(format_time(t), date);
            }
            if let Some(t) = refused(parse_time(&text))? {
                let trimmed = text.trim();
                if trimmed.bytes().all(|b| b.is_ascii_digit()) {
                    prop_assert_eq!(Ok(t), trimmed.parse::<u64>());
                } else {
                    prop_assert_eq!(format_time(t), trimmed);
                }
            }
            prop_assert_eq!(parse_time(&format_time(when)).unwrap(), when);
        }

        /// Blobs that are not `file://` or `fileb://` names: base64 with
        /// one spelling per value once ASCII white space is dropped.
        #[test]
        fn blobs(text in "\\PC{0,40}|[A-Za-z0-9+/=]{0,40}|[A-Za-z0-9+/= \t\n\r]{0,40}") {
            prop_assume!(!text.starts_with("file://") && !text.starts_with("fileb://"));
            if let Some(b) = refused(parse_blob(&text))? {
                let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                prop_assert_eq!(STANDARD.encode(b), compact);
            }
        }

        /// Encryption contexts, tags, grant operations and constraints,
        /// in their shorthand and JSON forms and as arbitrary text.
        #[test]
        fn option_values(
            text in "\\PC{0,40}|[a-zA-Z=,{}\\[\\]\": ]{0,40}|\\{(\"[a-z]{0,3}\": ?(\"[a-z]{0,3}\"|1|null|\\[\\]),?){0,3}\\}",
        ) {
            refused(parse_context(&text))?;
            refused(parse_tags(std::slice::from_ref(&text)))?;
            refused(parse_operations(std::slice::from_ref(&text)))?;
            refused(parse_constraints(&text))?;
        }
    }
}
