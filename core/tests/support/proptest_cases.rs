//! The proptest configuration of the `parser_fuzz` binaries of every crate
//! (included by path): `PROPTEST_CASES` raises their case counts.

use proptest::test_runner::Config as ProptestConfig;

/// `default` proptest cases, or `PROPTEST_CASES` when set (proptest reads
/// that variable only for configurations that leave `cases` at its
/// default).
pub fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(cases)
}
