//! The text parsers: key policies, key identifiers and ARNs, pagination
//! markers, grant tokens, base64 and encryption contexts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom_core::grant::grant_id_from_token;
use strongroom_core::key::KeyIdentifier;
use strongroom_core::policy::Policy;
use strongroom_core::{b64, paging, EncryptionContext};

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
    if let Ok(bytes) = b64::decode(text) {
        assert_eq!(b64::encode(&bytes), text);
    }
});
