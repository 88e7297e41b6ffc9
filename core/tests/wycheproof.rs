//! Wycheproof (C2SP) test vectors run through Strongroom's primitive seam,
//! never through the crypto crates directly, once per backend: the tests of
//! `rustcrypto::…` call `strongroom_core::crypto::rustcrypto` (every build),
//! those of `awslc::…` call `strongroom_core::crypto::awslc` (builds with
//! the `backend-aws-lc` feature, e.g. `cargo test --workspace`).
//!
//! The vectors live outside the repository, in `shared/vectors/wycheproof/`
//! beside it. Every file there is run; each case lands in one of:
//!
//! - **ran**: the seam offers the file's parameters; every `valid` case must
//!   be accepted (and, where the seam can produce it, reproduced), every
//!   `invalid` case rejected, and each `acceptable` case gets the decision
//!   written next to its flag below.
//! - **cross**: the seam deliberately does not offer the parameters (e.g. a
//!   PSS salt length other than the hash length, OAEP with MGF1 over another
//!   hash): the case runs through the nearest KMS algorithm and must be
//!   *rejected*, which proves that Strongroom does not silently accept a
//!   neighbouring parameter set.
//! - **skipped**: the parameters cannot be expressed through the seam at
//!   all (e.g. AES-GCM with a 128-bit key, SHA-1 signatures); counted per
//!   reason and printed.
//!
//! The test fails if any file runs zero cases (ran + cross), or if a file
//! has an algorithm prefix the harness does not know.
//!
//! Decisions on `acceptable` cases:
//! - `aes_wrap` `ShortKey` (a 64-bit key wrapped into 16 bytes): **rejected**;
//!   RFC 3394 §2 requires n ≥ 2 semiblocks, and KMS never wraps such keys.
//! - `rsa_signature_*` `MissingNull` (DigestInfo without the NULL parameter):
//!   **rejected**; RFC 8017 §9.2 note 2 lets verifiers accept it, but
//!   Strongroom compares the one canonical encoding, as BoringSSL does.
//! - `rsa_pkcs1_*_sig_gen` `WeakHash` (SHA-1/SHA-224) and `SmallPublicKey`
//!   (below 2048 bits): **skipped**, KMS offers neither.
//! - `rsa_oaep_*` "First byte is 1": the `rsa` 0.10.0 known deviation (see
//!   `rsa_oaep_decrypt`) is tolerated for RustCrypto only; AWS-LC must reject.
//! - `rsa_oaep_misc` `SmallIntegerCiphertext`/`EncryptionWithLabel`: only in
//!   groups with a label and a non-KMS modulus size, so **skipped**.

#![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)

mod rustcrypto {
    use strongroom_core::crypto::rustcrypto as backend;
    const BACKEND: &str = "rustcrypto";
    const RSA_CRATE_OAEP_DEVIATION: bool = true;
    include!("support/wycheproof_harness.rs");
}

#[cfg(feature = "backend-aws-lc")]
mod awslc {
    use strongroom_core::crypto::awslc as backend;
    const BACKEND: &str = "aws-lc";
    const RSA_CRATE_OAEP_DEVIATION: bool = false;
    include!("support/wycheproof_harness.rs");
}
