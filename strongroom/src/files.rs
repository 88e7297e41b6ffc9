//! Reading the files named by options (the server's `--credentials`,
//! `--tls-cert` and `--tls-key`, and the `strongroom` command's `fileb://`
//! arguments and `import-keystore --infile`) with a cap on their length, so
//! that a file named by mistake (a disk image, `/dev/zero`, a pipe that
//! never ends) is refused instead of read into memory until the process or
//! the machine runs out. The root key file has its own reader
//! ([`crate::root::read_key_file`]). And where an output path's bytes go
//! ([`open_output`]): through its symbolic links, never over them.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

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

/// Where the bytes written to an output path go ([`open_output`]).
#[derive(Debug)]
pub enum Output {
    /// A regular file that is not a symbolic link, or a name to create.
    /// The caller writes a temporary file in that path's directory and
    /// renames it over the path, so a failure leaves the file as it was.
    Replace(PathBuf),
    /// Written into, never replaced ([`Destination`]).
    WriteInto(Destination),
}

/// An output opened for writing and written into once complete
/// ([`Destination::put`]), never replaced:
/// - a FIFO, a device (`/dev/null`, a terminal), a socket, opened for
///   writing as the shell's `>` opens it (`O_CREAT` without `O_TRUNC`, so
///   `fs.protected_fifos` applies; not truncated);
/// - an open file of the process named by a link in `/proc`
///   (`/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`), opened for
///   appending, so that a file the shell redirected there with `>` or `>>`
///   receives the bytes as if written to that descriptor;
/// - a regular file named through a symbolic link, opened by the kernel
///   through the link as the shell's `>` opens it (so the kernel's rules
///   for links apply: `fs.protected_symlinks` refuses another user's link
///   in a sticky world-writable directory such as `/tmp`, and
///   `fs.protected_regular` another user's file there), not cut until the
///   output is complete. The file keeps its inode, mode, owner and other
///   hard links; the link stays.
///
/// The output is staged until complete in an anonymous temporary file in
/// the system temp directory (`TMPDIR`), not beside the destination.
#[derive(Debug)]
pub struct Destination {
    file: File,
    /// A regular file: its space reserved, overwritten from its start, cut
    /// to the new length and synced by [`Destination::put`].
    rewrite: bool,
}

impl Destination {
    /// Writes the `len` bytes `src` yields into the output, once the output
    /// is complete. A regular file (named through a link) gets the space
    /// for `len` bytes reserved first (`fallocate` on Linux: where the file system
    /// reserves, a full disk fails here with the file unchanged; copy-on-write
    /// file systems and those without `fallocate` can still run out during
    /// the copy), is overwritten from its start, cut to `len` bytes and
    /// synced. Not atomic: an I/O error or a crash during the copy leaves it
    /// partly rewritten, as the shell's `>` would.
    ///
    /// # Errors
    /// The I/O error of the reservation, a write, the cut or the sync.
    pub fn put(&mut self, src: &mut dyn Read, len: u64) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom, Write};
        if self.rewrite {
            // The blocks of the new contents first, so that a full disk is
            // found before the old contents are touched; then overwritten
            // from the start and cut to the new length (never truncated to
            // nothing first). A file system without `fallocate` goes on.
            reserve(&self.file, len)?;
            self.file.seek(SeekFrom::Start(0))?;
        }
        std::io::copy(&mut src.take(len), &mut self.file)?;
        self.file.flush()?;
        if self.rewrite {
            self.file.set_len(len)?;
            self.file.sync_all()?;
        }
        Ok(())
    }
}

/// Reserves the blocks of the first `len` bytes of `file` (Linux
/// `fallocate`, mode 0), so that a full disk or quota is found before a
/// rewrite touches the old contents. Only those are errors
/// ([`reservation_refused`]); a file system or sandbox that does not offer
/// the call (EOPNOTSUPP on ext4 without extents or NFSv3, EINVAL, ENOSYS or
/// EPERM from a seccomp filter) goes on without a reservation, as do other
/// systems, which have no such call here.
fn reserve(file: &File, len: u64) -> std::io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if len > 0 {
        if let Err(e) = rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, len) {
            if reservation_refused(e) {
                return Err(e.into());
            }
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = (file, len);
    Ok(())
}

/// Whether a failed reservation ([`reserve`]) means the rewrite cannot fit
/// (ENOSPC, EDQUOT, EFBIG: refused, the file unchanged) rather than that
/// reserving is not offered (anything else: go on without it).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn reservation_refused(e: rustix::io::Errno) -> bool {
    use rustix::io::Errno;
    matches!(e, Errno::NOSPC | Errno::DQUOT | Errno::FBIG)
}

/// Opens the output path `out` of a file function or command, following
/// its symbolic links as the shell's `>` and `cp` do: the output goes to
/// the file a link names, opened through the link by the kernel (never a
/// path resolved here and then replaced), and the link stays. A link that
/// names no file (dangling, a loop) is refused, as `cp` refuses to write
/// through a dangling link: the file it would create could be anywhere.
///
/// # Errors
/// `ValidationException` naming `out` when it (or, for a link, the file
/// opened through it) is one of the files of a keystore open in this
/// process ([`crate::own_files`]), a directory (or a link to one), a
/// symbolic link that names no file or that the kernel will not follow for
/// this user, or an existing FIFO, device or open file that cannot be
/// opened for writing ([`crate::envelope::path_error`]).
pub fn open_output(out: &Path) -> Result<Output, Error> {
    crate::own_files::refuse_open_keystore_file(out)?;
    let open = |append: bool| {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).append(append);
        if !append {
            // `O_CREAT` (without `O_TRUNC`), as the shell's `>` opens: the
            // kernel's `fs.protected_fifos` / `fs.protected_regular` then
            // refuse another user's FIFO or file in a sticky world-writable
            // directory (they check only an `O_CREAT` open). The file
            // exists (checked before); one made in a race is private.
            o.create(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        }
        o.open(out)
            .map_err(|e| crate::envelope::path_error("cannot open the output", out, &e))
    };
    if proc_link(out).is_some() {
        let file = open(true)?;
        return Ok(Output::WriteInto(Destination {
            file,
            rewrite: false,
        }));
    }
    if std::fs::symlink_metadata(out).is_ok_and(|m| m.file_type().is_symlink()) {
        let checked = std::fs::metadata(out);
        match &checked {
            Err(e) if e.kind() != std::io::ErrorKind::PermissionDenied => {
                return Err(Error::validation(format!(
                    "the output {} is a symbolic link that names no file ({e}): \
                     create the file it should name first, or give the file's own path",
                    out.display()
                )))
            }
            Ok(m) if m.is_dir() => return Err(directory(out)),
            _ => {}
        }
        let file = open(false)?;
        // The file opened is the one checked: a link that went dangling in
        // between (the open then made its target) or was swapped is refused.
        if let Ok(before) = &checked {
            refuse_changed(before, &file, out)?;
        }
        // What was opened, not what the path names now: a link swapped
        // after the check above cannot point the output at a keystore file.
        crate::own_files::refuse_open_keystore_handle(&file, out)?;
        let rewrite = file
            .metadata()
            .map_err(|e| crate::envelope::path_error("cannot open the output", out, &e))?
            .is_file();
        return Ok(Output::WriteInto(Destination { file, rewrite }));
    }
    match std::fs::metadata(out) {
        Ok(m) if m.is_dir() => Err(directory(out)),
        Ok(m) if !m.is_file() => Ok(Output::WriteInto(Destination {
            file: open(false)?,
            rewrite: false,
        })),
        _ => Ok(Output::Replace(out.to_path_buf())),
    }
}

/// Refuses an output whose opened `file` is not the file `before` (the
/// metadata read through the same path just before the open).
///
/// # Errors
/// `ValidationException` naming `out`.
fn refuse_changed(before: &std::fs::Metadata, file: &File, out: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let same = file
            .metadata()
            .is_ok_and(|m| m.dev() == before.dev() && m.ino() == before.ino());
        if !same {
            return Err(Error::validation(format!(
                "the output {} changed while it was opened (its symbolic link \
                 now names another file): try again",
                out.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = (before, file, out);
    Ok(())
}

fn directory(out: &Path) -> Error {
    Error::validation(format!("the output {} is a directory", out.display()))
}

/// Whether the output path `out` names this process's standard output
/// through links in `/proc`: `/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/1`
/// or a link to one of them.
pub fn names_stdout(out: &Path) -> bool {
    let Some(link) = proc_link(out) else {
        return false;
    };
    let Some(dir) = link.parent().filter(|_| link.ends_with("1")) else {
        return false;
    };
    let pid = Path::new("/proc").join(std::process::id().to_string());
    let task_dir = dir.parent().and_then(Path::parent);
    dir == Path::new("/dev/fd")
        || (dir.ends_with("fd")
            && (dir.parent() == Some(pid.as_path()) || task_dir == Some(&pid.join("task"))))
}

/// The first of the symbolic links that `out` goes through (itself, then
/// what each names; at most 40, as Linux follows) that lies in `/proc` or
/// `/dev/fd` (`/dev/stdout` names `/proc/self/fd/1`), as its directory
/// resolved joined with its name: such a link names an open file (a pipe,
/// a file the shell redirected, possibly deleted), not a path that could
/// be replaced. `None` when there is none.
fn proc_link(out: &Path) -> Option<PathBuf> {
    let mut p = out.to_path_buf();
    for _ in 0..=40 {
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let dir = std::fs::canonicalize(dir).ok()?;
        let is_link = std::fs::symlink_metadata(&p).ok()?.file_type().is_symlink();
        let here = dir.join(p.file_name()?);
        if (is_link && dir.starts_with("/proc")) || dir == Path::new("/dev/fd") {
            return Some(here);
        }
        if !is_link {
            return None;
        }
        // A relative target is relative to the link's own directory.
        p = dir.join(std::fs::read_link(&here).ok()?);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Second reading 20: only a reservation that cannot fit refuses the
    /// rewrite; a file system or sandbox without `fallocate` (EINVAL on
    /// FreeBSD-style ZFS, ENOSYS or EPERM from seccomp) goes on, where
    /// every write through a link failed before.
    #[test]
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn only_a_reservation_that_cannot_fit_refuses_the_rewrite() {
        use rustix::io::Errno;
        for e in [Errno::NOSPC, Errno::DQUOT, Errno::FBIG] {
            assert!(reservation_refused(e), "{e:?}");
        }
        for e in [Errno::OPNOTSUPP, Errno::INVAL, Errno::NOSYS, Errno::PERM] {
            assert!(!reservation_refused(e), "{e:?}");
        }
    }

    /// Second reading 20: the file opened through a link must be the file
    /// checked through it; another one (the link retargeted, or its target
    /// made by the open after it went dangling) is refused.
    #[test]
    #[cfg(unix)]
    fn a_link_that_names_another_file_once_opened_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, b"a").unwrap();
        std::fs::write(&b, b"b").unwrap();
        let before = std::fs::metadata(&a).unwrap();
        let opened = File::open(&b).unwrap();
        let e = refuse_changed(&before, &opened, &a).unwrap_err();
        assert!(e.message().contains("changed while it was opened"), "{e}");
        refuse_changed(&before, &File::open(&a).unwrap(), &a).unwrap();
    }
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
