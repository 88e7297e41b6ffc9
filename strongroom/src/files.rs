//! Reading the files named by options (the server's `--credentials`,
//! `--tls-cert` and `--tls-key`, and the `strongroom` command's `fileb://`
//! arguments and `import-keystore --infile`) with a cap on their length, so
//! that a file named by mistake (a disk image, `/dev/zero`, a pipe that
//! never ends) is refused instead of read into memory until the process or
//! the machine runs out. The root key file has its own reader
//! ([`crate::root::read_key_file`]).

use std::io::Read;
use std::path::Path;

use strongroom_core::Error;

/// The bytes of the file at `path`, at most `max`; `why` says why longer
/// is wrong (it ends the error message: "…is longer than N bytes, {why}").
///
/// A regular file longer than `max` is refused from its length, before any
/// of it is read; a shorter one is read into one buffer sized from its
/// length (so a secret is not also left in the freed buffers of a growing
/// vector); a pipe or device is read until its end or one byte past `max`.
///
/// # Errors
/// `ValidationException` naming the file when it is missing, cannot be
/// read (a directory: "Is a directory") or is longer than `max` bytes.
pub fn read_file_capped(path: &Path, max: usize, why: &str) -> Result<Vec<u8>, Error> {
    let name = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| cannot_read(&name, &e))?;
    let len = file_len(&f, &name, max, why)?;
    read_capped(f, &name, len, max, why)
}

/// The length of the open file `f` (called `name` in errors) from its
/// metadata, 0 when unknown or not a regular file (a pipe, a device), for
/// [`read_capped`]'s `len_hint`.
///
/// # Errors
/// `ValidationException` ("cannot read {name}: it is longer than {max}
/// bytes, {why}") for a regular file longer than `max` bytes: refused
/// without reading it, where [`read_capped`] would read `max` bytes first.
pub fn file_len(f: &std::fs::File, name: &str, max: usize, why: &str) -> Result<u64, Error> {
    let Ok(meta) = f.metadata() else {
        return Ok(0);
    };
    if !meta.is_file() {
        return Ok(0);
    }
    if meta.len() > u64::try_from(max).unwrap_or(u64::MAX) {
        return Err(too_long(name, max, why));
    }
    Ok(meta.len())
}

/// As [`read_file_capped`], from `reader` (standard input, say), called
/// `name` in errors; `len_hint` is its length if known (else 0).
///
/// # Errors
/// `ValidationException` naming it when it cannot be read or is longer
/// than `max` bytes.
pub fn read_capped(
    reader: impl Read,
    name: &str,
    len_hint: u64,
    max: usize,
    why: &str,
) -> Result<Vec<u8>, Error> {
    let cap = usize::try_from(len_hint).unwrap_or(usize::MAX).min(max) + 1;
    let mut bytes = Vec::with_capacity(cap);
    reader
        .take(u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| cannot_read(name, &e))?;
    if bytes.len() > max {
        return Err(too_long(name, max, why));
    }
    Ok(bytes)
}

fn too_long(name: &str, max: usize, why: &str) -> Error {
    Error::validation(format!(
        "cannot read {name}: it is longer than {max} bytes, {why}"
    ))
}

fn cannot_read(name: &str, e: &std::io::Error) -> Error {
    Error::validation(format!("cannot read {name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use strongroom_core::ErrorKind;

    #[test]
    fn files_are_read_up_to_the_cap_and_refused_past_it() {
        let dir = tempfile::tempdir().unwrap();
        let fits = dir.path().join("fits");
        std::fs::write(&fits, [7u8; 10]).unwrap();
        assert_eq!(read_file_capped(&fits, 10, "x").unwrap(), [7u8; 10]);
        let e = read_file_capped(&fits, 9, "too long for a test").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException);
        assert!(
            e.message().contains(&fits.display().to_string())
                && e.message()
                    .ends_with("longer than 9 bytes, too long for a test"),
            "{e}"
        );
        for missing in [dir.path().join("none"), dir.path().to_path_buf()] {
            let e = read_file_capped(&missing, 10, "x").unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
            assert!(e.message().contains(&missing.display().to_string()), "{e}");
        }
        // An endless stream stops one byte past the cap.
        let e = read_capped(std::io::repeat(0), "the stream", 0, 1000, "x").unwrap_err();
        assert!(e
            .message()
            .starts_with("cannot read the stream: it is longer than 1000"));
        #[cfg(unix)]
        {
            let e = read_file_capped(Path::new("/dev/zero"), 4096, "x").unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
        }
    }

    /// A regular file longer than the cap is refused from its length: a
    /// sparse file of 1 GiB + 1 byte under a 1 GiB cap (reading it to the
    /// cap would allocate and fill 1 GiB) is refused at once.
    #[test]
    fn a_regular_file_past_the_cap_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len((1 << 30) + 1).unwrap();
        drop(f);
        let started = std::time::Instant::now();
        let e = read_file_capped(&big, 1 << 30, "x").unwrap_err();
        assert!(
            e.message()
                .ends_with(&format!("it is longer than {} bytes, x", 1 << 30)),
            "{e}"
        );
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
        let f = std::fs::File::open(&big).unwrap();
        assert!(file_len(&f, "big", 1 << 30, "x").is_err());
        assert_eq!(
            file_len(&f, "big", (1 << 30) + 1, "x").unwrap(),
            (1 << 30) + 1
        );
    }
}
