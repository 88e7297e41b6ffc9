//! AES Key Wrap (RFC 3394) and AES Key Wrap with Padding (RFC 5649), both
//! as NIST SP 800-38F KW and KWP, through the RustCrypto `aes-kw` crate.
//!
//! The key-encryption key (KEK) may be 16, 24 or 32 bytes (AES-128/192/256).
//! KMS uses KWP in the `RSA_AES_KEY_WRAP_SHA_*` import wrapping algorithms.

use aes_kw::{KeyInit, KwAes128, KwAes192, KwAes256, KwpAes128, KwpAes192, KwpAes256, IV_LEN};
use alloc::vec;
use alloc::vec::Vec;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Largest key that KWP can wrap, in bytes (RFC 5649: a 32-bit length field).
/// Strongroom caps it far lower, at 64 KiB, which is larger than any key.
pub const KWP_MAX_KEY_LEN: usize = 64 * 1024;

enum Kek {
    Aes128,
    Aes192,
    Aes256,
}

fn kek_kind(kek: &[u8]) -> Result<Kek> {
    match kek.len() {
        16 => Ok(Kek::Aes128),
        24 => Ok(Kek::Aes192),
        32 => Ok(Kek::Aes256),
        _ => Err(Error::validation(
            "the AES key-encryption key must be 16, 24 or 32 bytes",
        )),
    }
}

/// Wraps `key` under `kek` with AES Key Wrap (RFC 3394, NIST SP 800-38F KW).
///
/// `key` must be a multiple of 8 bytes and at least 16 bytes; the output is
/// `key.len() + 8` bytes.
///
/// # Errors
/// `ValidationException` if `kek` is not 16, 24 or 32 bytes, or `key` has a
/// length RFC 3394 does not allow.
pub fn aes_key_wrap(kek: &[u8], key: &[u8]) -> Result<Vec<u8>> {
    if key.len() < 16 || key.len() % IV_LEN != 0 || key.len() > KWP_MAX_KEY_LEN {
        return Err(Error::validation(
            "AES key wrap input must be a multiple of 8 bytes, at least 16",
        ));
    }
    let mut out = vec![0u8; key.len() + IV_LEN];
    let res = match kek_kind(kek)? {
        Kek::Aes128 => new::<KwAes128>(kek)?.wrap_key(key, &mut out).map(|_| ()),
        Kek::Aes192 => new::<KwAes192>(kek)?.wrap_key(key, &mut out).map(|_| ()),
        Kek::Aes256 => new::<KwAes256>(kek)?.wrap_key(key, &mut out).map(|_| ()),
    };
    res.map_err(|_| Error::internal("AES key wrap failed"))?;
    Ok(out)
}

/// Unwraps an RFC 3394 wrapped key; returns the key (`wrapped.len() - 8` bytes).
///
/// # Errors
/// `ValidationException` if `kek` is not 16, 24 or 32 bytes. Every other
/// failure (wrong length, integrity check) is the one detail-free
/// `InvalidCiphertextException`; no partially unwrapped bytes are kept.
pub fn aes_key_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let kind = kek_kind(kek)?;
    if wrapped.len() < 24 || wrapped.len() % IV_LEN != 0 || wrapped.len() > KWP_MAX_KEY_LEN + IV_LEN
    {
        return Err(Error::invalid_ciphertext());
    }
    let mut out = Zeroizing::new(vec![0u8; wrapped.len() - IV_LEN]);
    let res = match kind {
        Kek::Aes128 => new::<KwAes128>(kek)?
            .unwrap_key(wrapped, &mut out)
            .map(<[u8]>::len),
        Kek::Aes192 => new::<KwAes192>(kek)?
            .unwrap_key(wrapped, &mut out)
            .map(<[u8]>::len),
        Kek::Aes256 => new::<KwAes256>(kek)?
            .unwrap_key(wrapped, &mut out)
            .map(<[u8]>::len),
    };
    finish_unwrap(out, res)
}

/// Wraps `key` under `kek` with AES Key Wrap with Padding (RFC 5649, NIST
/// SP 800-38F KWP).
///
/// `key` may be 1 to [`KWP_MAX_KEY_LEN`] bytes; the output is `key.len()`
/// rounded up to a multiple of 8, plus 8 bytes.
///
/// # Errors
/// `ValidationException` if `kek` is not 16, 24 or 32 bytes or `key` is
/// empty or longer than [`KWP_MAX_KEY_LEN`].
pub fn aes_key_wrap_with_padding(kek: &[u8], key: &[u8]) -> Result<Vec<u8>> {
    if key.is_empty() || key.len() > KWP_MAX_KEY_LEN {
        return Err(Error::validation(
            "AES key wrap with padding input must be 1 to 65536 bytes",
        ));
    }
    let mut out = vec![0u8; key.len().div_ceil(IV_LEN) * IV_LEN + IV_LEN];
    let res = match kek_kind(kek)? {
        Kek::Aes128 => new::<KwpAes128>(kek)?
            .wrap_key(key, &mut out)
            .map(<[u8]>::len),
        Kek::Aes192 => new::<KwpAes192>(kek)?
            .wrap_key(key, &mut out)
            .map(<[u8]>::len),
        Kek::Aes256 => new::<KwpAes256>(kek)?
            .wrap_key(key, &mut out)
            .map(<[u8]>::len),
    };
    let len = res.map_err(|_| Error::internal("AES key wrap with padding failed"))?;
    out.truncate(len);
    Ok(out)
}

/// Unwraps an RFC 5649 wrapped key; returns the key with its padding removed.
///
/// # Errors
/// `ValidationException` if `kek` is not 16, 24 or 32 bytes. Every other
/// failure (wrong length, integrity check, bad padding) is the one
/// detail-free `InvalidCiphertextException`; no partially unwrapped bytes
/// are kept.
pub fn aes_key_unwrap_with_padding(kek: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let kind = kek_kind(kek)?;
    if wrapped.len() < 16 || wrapped.len() % IV_LEN != 0 || wrapped.len() > KWP_MAX_KEY_LEN + IV_LEN
    {
        return Err(Error::invalid_ciphertext());
    }
    let mut out = Zeroizing::new(vec![0u8; wrapped.len() - IV_LEN]);
    let res = match kind {
        Kek::Aes128 => new::<KwpAes128>(kek)?
            .unwrap_key(wrapped, &mut out)
            .map(<[u8]>::len),
        Kek::Aes192 => new::<KwpAes192>(kek)?
            .unwrap_key(wrapped, &mut out)
            .map(<[u8]>::len),
        Kek::Aes256 => new::<KwpAes256>(kek)?
            .unwrap_key(wrapped, &mut out)
            .map(<[u8]>::len),
    };
    finish_unwrap(out, res)
}

fn new<C: KeyInit>(kek: &[u8]) -> Result<C> {
    C::new_from_slice(kek)
        .map_err(|_| Error::validation("the AES key-encryption key must be 16, 24 or 32 bytes"))
}

/// Truncates `out` to the unwrapped length, or wipes it and returns the one
/// bare error (the `aes-kw` crate also wipes on integrity failure; this is
/// belt and braces, and `Zeroizing` wipes again on drop).
fn finish_unwrap(
    mut out: Zeroizing<Vec<u8>>,
    res: core::result::Result<usize, aes_kw::Error>,
) -> Result<Zeroizing<Vec<u8>>> {
    match res {
        Ok(len) => {
            out.truncate(len);
            Ok(out)
        }
        Err(_) => {
            out.iter_mut().for_each(|b| *b = 0);
            Err(Error::invalid_ciphertext())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn h(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn rfc3394_section_4_6_256_bit_key_under_256_bit_kek() {
        let kek = h("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
        let key = h("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F");
        let wrapped =
            h("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21");
        assert_eq!(aes_key_wrap(&kek, &key).unwrap(), wrapped);
        assert_eq!(*aes_key_unwrap(&kek, &wrapped).unwrap(), key);
    }

    #[test]
    fn rfc5649_section_6_examples() {
        let kek = h("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8");
        let key = h("c37b7e6492584340bed12207808941155068f738");
        let wrapped = h("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a");
        assert_eq!(aes_key_wrap_with_padding(&kek, &key).unwrap(), wrapped);
        assert_eq!(*aes_key_unwrap_with_padding(&kek, &wrapped).unwrap(), key);
        let key = h("466f7250617369");
        let wrapped = h("afbeb0f07dfbf5419200f2ccb50bb24f");
        assert_eq!(aes_key_wrap_with_padding(&kek, &key).unwrap(), wrapped);
        assert_eq!(*aes_key_unwrap_with_padding(&kek, &wrapped).unwrap(), key);
    }

    #[test]
    fn tampering_and_bad_lengths_are_one_bare_error() {
        let kek = [7u8; 32];
        let key = [9u8; 32];
        let mut w = aes_key_wrap(&kek, &key).unwrap();
        let mut wp = aes_key_wrap_with_padding(&kek, &key[..20]).unwrap();
        w[3] ^= 1;
        wp[30] ^= 0x80;
        for r in [
            aes_key_unwrap(&kek, &w),
            aes_key_unwrap(&kek, &w[..w.len() - 1]),
            aes_key_unwrap(&kek, &[]),
            aes_key_unwrap(&kek, &[0u8; 16]),
            aes_key_unwrap_with_padding(&kek, &wp),
            aes_key_unwrap_with_padding(&kek, &[]),
            aes_key_unwrap_with_padding(&kek, &[0u8; 8]),
            aes_key_unwrap_with_padding(&kek, &[0u8; 17]),
        ] {
            assert_eq!(r.unwrap_err(), Error::invalid_ciphertext());
        }
        assert_eq!(
            aes_key_unwrap(&[0u8; 15], &[0u8; 24]).unwrap_err().kind(),
            ErrorKind::ValidationException
        );
        assert_eq!(
            aes_key_wrap(&kek, &[0u8; 8]).unwrap_err().kind(),
            ErrorKind::ValidationException
        );
        assert_eq!(
            aes_key_wrap_with_padding(&kek, &[]).unwrap_err().kind(),
            ErrorKind::ValidationException
        );
    }

    #[test]
    fn round_trips_for_every_kek_size_and_many_lengths() {
        for kek_len in [16, 24, 32] {
            let kek = vec![0x42u8; kek_len];
            for n in 1..=70usize {
                let key: Vec<u8> = (0..n).map(|i| i as u8).collect();
                let w = aes_key_wrap_with_padding(&kek, &key).unwrap();
                assert_eq!(*aes_key_unwrap_with_padding(&kek, &w).unwrap(), key);
                if n >= 16 && n % 8 == 0 {
                    let w = aes_key_wrap(&kek, &key).unwrap();
                    assert_eq!(*aes_key_unwrap(&kek, &w).unwrap(), key);
                }
            }
        }
    }
}
