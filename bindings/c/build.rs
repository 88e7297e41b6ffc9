//! Gives `libstrongroom.so` its SONAME, `libstrongroom.so.<SOVERSION>`, on
//! ELF platforms, so that programs record the ABI they were linked against
//! and `make install` can add the usual symlinks
//! (`libstrongroom.so` -> `libstrongroom.so.<SOVERSION>` -> `libstrongroom.so.<VERSION>`).
//!
//! SOVERSION is the C ABI's version, not the crate's: it changes only when an
//! existing function, type or constant of `include/strongroom.h` changes
//! incompatibly (adding functions keeps it). The header exports it as
//! `STRONGROOM_SOVERSION`; a unit test keeps the two equal.

/// The C ABI version: bump on any incompatible change of the header.
const SOVERSION: u32 = 0;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=STRONGROOM_SOVERSION={SOVERSION}");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let family = std::env::var("CARGO_CFG_TARGET_FAMILY").unwrap_or_default();
    // ELF linkers (GNU ld, gold, lld, mold) take -soname; Mach-O and PE do not.
    let elf = family.split(',').any(|f| f == "unix") && !matches!(os.as_str(), "macos" | "ios");
    if elf {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libstrongroom.so.{SOVERSION}");
    }
}
