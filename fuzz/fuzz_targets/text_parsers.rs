//! The text parsers: key policies, key identifiers and ARNs, pagination
//! markers, grant tokens, base64, encryption contexts and the timestamps of
//! `core::time` (RFC 3339, ISO 8601, SigV4 `X-Amz-Date`, Unix seconds).
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom_core::grant::grant_id_from_token;
use strongroom_core::key::KeyIdentifier;
use strongroom_core::policy::Policy;
use strongroom_core::{b64, paging, time, EncryptionContext};

fuzz_target!(|data: &[u8]| {
    let _ = EncryptionContext::decode(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Policy::parse(text);
    let _ = KeyIdentifier::parse(text, "local-1", "000000000000");
    let _ = paging::decode_marker(Some(text));
    let _ = paging::decode_key_marker(Some(text));
    let _ = grant_id_from_token(&[3; 32], text);
    let _ = time::parse_rfc3339_utc(text);
    let _ = time::check_rfc3339_utc_prefix(text);
    let _ = time::parse_amz_date(text);
    let _ = time::parse_unix_seconds(text);
    let _ = time::parse_unix_seconds_fraction(text);
    let _ = time::parse_iso8601(text);
    if let Ok(bytes) = b64::decode(text) {
        assert_eq!(b64::encode(&bytes), text);
    }
});
