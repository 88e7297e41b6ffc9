//! Parsing of AWS-CLI-style option values.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use strongroom::api::Tag;
use strongroom::core::grant::{GrantConstraints, GrantOperation};
use strongroom::{EncryptionContext, Error};

/// A blob parameter: `fileb://path` (raw bytes), `file://path` (the file's
/// bytes) or base64 text, as the AWS CLI v2 reads blobs.
pub fn parse_blob(s: &str) -> Result<Vec<u8>, Error> {
    if let Some(p) = s
        .strip_prefix("fileb://")
        .or_else(|| s.strip_prefix("file://"))
    {
        return std::fs::read(p).map_err(|e| Error::validation(format!("cannot read {p}: {e}")));
    }
    STANDARD
        .decode(s.trim())
        .map_err(|_| Error::validation("expected fileb://PATH, file://PATH or base64 text"))
}

/// An encryption context: `k=v,k2=v2` or a JSON object of strings.
pub fn parse_context(s: &str) -> Result<EncryptionContext, Error> {
    let t = s.trim();
    if t.starts_with('{') {
        let map: std::collections::BTreeMap<String, String> = serde_json::from_str(t)
            .map_err(|e| Error::validation(format!("encryption context: {e}")))?;
        return Ok(EncryptionContext(map));
    }
    let mut pairs = Vec::new();
    for item in t.split(',').filter(|p| !p.is_empty()) {
        let (k, v) = item.split_once('=').ok_or_else(|| {
            Error::validation(format!("encryption context entry '{item}' is not k=v"))
        })?;
        pairs.push((k.to_string(), v.to_string()));
    }
    EncryptionContext::from_pairs(pairs)
}

/// Tags: each value `TagKey=k,TagValue=v`, or one JSON list of `{TagKey, TagValue}`.
pub fn parse_tags(values: &[String]) -> Result<Vec<Tag>, Error> {
    let mut tags = Vec::new();
    for v in values {
        let t = v.trim();
        if t.starts_with('[') {
            let list: Vec<Tag> =
                serde_json::from_str(t).map_err(|e| Error::validation(format!("tags: {e}")))?;
            tags.extend(list);
            continue;
        }
        let (mut key, mut value) = (None, String::new());
        for part in t.split(',') {
            match part.split_once('=') {
                Some(("TagKey", k)) => key = Some(k.to_string()),
                Some(("TagValue", val)) => value = val.to_string(),
                _ => {
                    return Err(Error::validation(format!(
                        "tag '{t}' is not TagKey=k,TagValue=v"
                    )))
                }
            }
        }
        let tag_key = key.ok_or_else(|| Error::validation(format!("tag '{t}' has no TagKey")))?;
        tags.push(Tag {
            tag_key,
            tag_value: value,
        });
    }
    Ok(tags)
}

/// A text parameter: `file://path` (the file's text) or the text itself.
pub fn parse_text(s: &str) -> Result<String, Error> {
    match s.strip_prefix("file://") {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| Error::validation(format!("cannot read {p}: {e}"))),
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
        return serde_json::from_str(t).map_err(|e| Error::validation(format!("constraints: {e}")));
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
        match name.trim() {
            "EncryptionContextEquals" => out.encryption_context_equals = Some(ctx),
            "EncryptionContextSubset" => out.encryption_context_subset = Some(ctx),
            other => {
                return Err(Error::validation(format!(
                    "constraints: unknown constraint '{other}' (EncryptionContextEquals or EncryptionContextSubset)"
                )))
            }
        }
        rest = after.trim_start_matches(',').trim();
    }
    Ok(out)
}
