//! JSON (the AWS CLI's default shape) and text (tab-separated) output.

use serde_json::Value;
use strongroom::Error;

use crate::OutputFormat;

/// Prints `v` to stdout in `format`. `null` (operations with no response
/// body) prints nothing, as the AWS CLI does.
pub fn print(format: OutputFormat, v: &Value) -> Result<(), Error> {
    if v.is_null() {
        return Ok(());
    }
    match format {
        OutputFormat::Json => {
            let s = serde_json::to_string_pretty(v).map_err(|e| Error::internal(e.to_string()))?;
            println!("{s}");
        }
        OutputFormat::Text => {
            let mut lines = Vec::new();
            text(None, v, &mut lines);
            for l in lines {
                println!("{l}");
            }
        }
    }
    Ok(())
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True".into() } else { "False".into() }),
        Value::Null => Some("None".into()),
        _ => None,
    }
}

/// The AWS CLI's text layout: an object's scalars on one tab-separated line
/// (prefixed by its upper-cased name when nested), nested values after it.
fn text(name: Option<&str>, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            let scalars: Vec<String> = map.values().filter_map(scalar).collect();
            if !scalars.is_empty() {
                let mut line = Vec::new();
                if let Some(n) = name {
                    line.push(n.to_uppercase());
                }
                line.extend(scalars);
                out.push(line.join("\t"));
            }
            for (k, child) in map {
                if scalar(child).is_none() {
                    text(Some(k), child, out);
                }
            }
        }
        Value::Array(items) => {
            if items.iter().all(|i| scalar(i).is_some()) {
                let mut line = vec![name.unwrap_or("").to_uppercase()];
                line.extend(items.iter().filter_map(scalar));
                out.push(line.join("\t"));
            } else {
                for i in items {
                    text(name, i, out);
                }
            }
        }
        other => out.push(scalar(other).unwrap_or_default()),
    }
}

/// Prints audit records as a table: time, event, principal, key, error.
pub fn print_audit_table(records: &[Value]) {
    let s = |r: &Value, p: &str| {
        r.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_string()
    };
    println!(
        "{:<20}  {:<32}  {:<44}  {:<36}  ERROR",
        "TIME", "EVENT", "PRINCIPAL", "KEY"
    );
    for r in records {
        let key = r
            .pointer("/resources/0/ARN")
            .and_then(Value::as_str)
            .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<20}  {:<32}  {:<44}  {:<36}  {}",
            s(r, "/eventTime"),
            s(r, "/eventName"),
            s(r, "/userIdentity/arn"),
            key,
            s(r, "/errorCode")
        );
    }
}

/// PEM text (RFC 7468) of a DER document: base64 in 64-character lines
/// between `-----BEGIN {label}-----` and `-----END {label}-----`.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
