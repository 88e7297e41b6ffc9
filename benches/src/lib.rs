//! Criterion benchmarks of Strongroom; see `benches/RESULTS.md` for results
//! and `benches/benches/*.rs` for the benchmarks themselves.
