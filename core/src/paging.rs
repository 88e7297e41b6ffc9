//! Pagination of the List* operations as KMS does it: `Limit` and an opaque
//! `Marker` taken from the previous page's `NextMarker`. The markers are the
//! same as the native keystore's (base64 of the last ID read, or of an index
//! into a per-key list), so a marker means the same thing in every binding.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error::{Error, ErrorKind, Result};

/// Default page size of ListKeys, ListKeyRotations, ListKeyPolicies.
pub const DEFAULT_LIMIT: usize = 100;

/// The range `1..=max` and the default of one List operation's `Limit`,
/// as the AWS KMS API reference gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest `Limit` accepted.
    pub max: u32,
    /// The page size when `Limit` is absent.
    pub default: u32,
}

/// ListKeys, ListKeyRotations, ListKeyPolicies: `Limit` 1–1000, default 100.
pub const LIST_KEYS: Limits = Limits {
    max: 1000,
    default: 100,
};
/// ListAliases: `Limit` 1–100, default 50.
pub const LIST_ALIASES: Limits = Limits {
    max: 100,
    default: 50,
};
/// ListGrants and ListRetirableGrants: `Limit` 1–100, default 50.
pub const LIST_GRANTS: Limits = Limits {
    max: 100,
    default: 50,
};
/// ListResourceTags: `Limit` 1–50, default 50.
pub const LIST_RESOURCE_TAGS: Limits = Limits {
    max: 50,
    default: 50,
};

/// The page size for `limit` within `range`.
///
/// # Errors
/// `ValidationException` outside `1..=range.max`.
pub fn limit_within(limit: Option<u32>, range: Limits) -> Result<usize> {
    match limit {
        None => Ok(range.default as usize),
        Some(l) if (1..=range.max).contains(&l) => Ok(l as usize),
        Some(_) => Err(Error::validation(alloc::format!(
            "Limit must be between 1 and {}",
            range.max
        ))),
    }
}

/// `Limit` 1–1000, default 100 ([`LIST_KEYS`]).
///
/// # Errors
/// `ValidationException` outside 1–1000.
pub fn page_limit(limit: Option<u32>) -> Result<usize> {
    limit_within(limit, LIST_KEYS)
}

/// The marker that continues after `last`.
pub fn encode_marker(last: &str) -> String {
    crate::b64::encode(last.as_bytes())
}

fn invalid_marker() -> Error {
    Error::new(ErrorKind::InvalidMarkerException, "the marker is not valid")
}

/// Longest `Marker` KMS accepts (characters).
pub const MAX_MARKER_LEN: usize = 1024;

/// KMS's constraints on a `Marker`: 1 to 1024 characters of the pattern
/// `[\u0020-\u00FF]*`.
///
/// # Errors
/// `ValidationException` otherwise.
pub fn check_marker(marker: &str) -> Result<()> {
    let mut len = 0usize;
    for c in marker.chars() {
        if !('\u{20}'..='\u{ff}').contains(&c) {
            return Err(Error::validation(
                "Marker must match the pattern [\\u0020-\\u00FF]*",
            ));
        }
        len += 1;
    }
    if len == 0 || len > MAX_MARKER_LEN {
        return Err(Error::validation(alloc::format!(
            "Marker must be 1 to {MAX_MARKER_LEN} characters long; it is {len}"
        )));
    }
    Ok(())
}

/// The ID a marker continues after.
///
/// # Errors
/// `ValidationException` for a marker outside KMS's constraints
/// ([`check_marker`]), `InvalidMarkerException` for a marker this keystore
/// did not make.
pub fn decode_marker(marker: Option<&str>) -> Result<Option<String>> {
    marker
        .map(|m| {
            check_marker(m)?;
            crate::b64::decode(m)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(invalid_marker)
        })
        .transpose()
}

/// The key ID a `ListKeys` marker continues after.
///
/// # Errors
/// `InvalidMarkerException` for a marker that is not one `ListKeys` makes
/// (base64 of a key ID, a lowercase hyphenated UUID): garbage, or the marker
/// of another List operation.
pub fn decode_key_marker(marker: Option<&str>) -> Result<Option<String>> {
    decode_marker_shaped(marker, |id| {
        uuid::Uuid::try_parse(id).is_ok_and(|u| u.hyphenated().to_string() == id)
    })
}

/// The alias name a `ListAliases` marker continues after.
///
/// # Errors
/// `InvalidMarkerException` for a marker that is not one `ListAliases` makes
/// (base64 of an alias name, `alias/...`): garbage, or the marker of another
/// List operation.
pub fn decode_alias_marker(marker: Option<&str>) -> Result<Option<String>> {
    decode_marker_shaped(marker, |name| name.starts_with("alias/"))
}

/// [`decode_marker`], refusing a decoded value that fails `shape`.
fn decode_marker_shaped(marker: Option<&str>, shape: fn(&str) -> bool) -> Result<Option<String>> {
    match decode_marker(marker)? {
        Some(v) if !shape(&v) => Err(invalid_marker()),
        other => Ok(other),
    }
}

/// One page of a list held in full (tags, rotations): the items and the
/// `NextMarker` (an index) when more remain.
///
/// # Errors
/// `ValidationException` for the limit, `InvalidMarkerException`.
pub fn paginate_index<T>(
    all: Vec<T>,
    limit: Option<u32>,
    marker: Option<&str>,
) -> Result<(Vec<T>, Option<String>)> {
    paginate_index_within(all, limit, marker, LIST_KEYS)
}

/// [`paginate_index`] with an operation's own `Limit` range (e.g.
/// [`LIST_GRANTS`]: 1–100, default 50).
///
/// # Errors
/// `ValidationException` for a limit outside `range`, `InvalidMarkerException`.
pub fn paginate_index_within<T>(
    all: Vec<T>,
    limit: Option<u32>,
    marker: Option<&str>,
    range: Limits,
) -> Result<(Vec<T>, Option<String>)> {
    let limit = limit_within(limit, range)?;
    let start = match decode_marker(marker)? {
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|&i| i <= all.len())
            .ok_or_else(invalid_marker)?,
        None => 0,
    };
    let end = start.saturating_add(limit).min(all.len());
    let next = (end < all.len()).then(|| encode_marker(&end.to_string()));
    Ok((
        all.into_iter().skip(start).take(end - start).collect(),
        next,
    ))
}
