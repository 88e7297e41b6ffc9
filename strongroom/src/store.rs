//! The storage seam. [`Storage`] is what the keystore needs from a database:
//! rows of authenticated JSON, read and written in transactions. SQLite
//! ([`SqliteStorage`]) is the embedded default; a shared database (e.g.
//! PostgreSQL) is a second implementation of the same two traits.

use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use strongroom_core::{Error, Result};

#[cfg(unix)]
use crate::signal::ChangeSignal;

/// The change-signal file of the keystore at `keystore_path`: `-signal`
/// appended to the file name, as SQLite appends `-wal` and `-shm` (format in
/// `docs/FORMAT.md`; used on Unix only). The keystore uses it beside its file
/// with symbolic links resolved (for a path without links, exactly this
/// one). It holds two counters and never anything secret; a keystore opened
/// without it creates it again.
pub fn signal_path(keystore_path: &Path) -> PathBuf {
    sidecar(keystore_path, "-signal")
}

/// A stored row: an identifier, a JSON body and its MAC tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Key ID, alias name or meta name.
    pub id: String,
    /// The serialized record (JSON, never plaintext key material).
    pub body: Vec<u8>,
    /// HMAC-SHA256 tag of the body under the root key's record-MAC key.
    pub tag: Vec<u8>,
}

/// The tables the keystore uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// Keystore-wide settings.
    Meta,
    /// Key records, by key ID.
    Keys,
    /// Aliases, by alias name.
    Aliases,
    /// Grants, by `<key ID>/<grant ID>` (so a key's grants are one range).
    Grants,
}

impl Table {
    /// The tables whose rows the keystore integrity state covers, in the
    /// order of their bucket entries (`docs/FORMAT.md`, "Keystore integrity
    /// state"): each has a `bucket` column.
    pub const BUCKETED: [Table; 3] = [Table::Keys, Table::Aliases, Table::Grants];

    fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Keys => "keys",
            Table::Aliases => "aliases",
            Table::Grants => "grants",
        }
    }
}

/// What [`Tx::for_each_row_id`] calls with each row's id (`None` when it
/// is not non-empty text) and tag.
pub type RowIdVisitor<'a> = dyn FnMut(Option<&str>, &[u8]) -> Result<()> + 'a;

/// What [`Tx::for_each_in_buckets`] calls with each row's recorded bucket
/// (`-1` if none), id and tag.
pub type BucketVisitor<'a> = dyn FnMut(i64, &str, &[u8]) -> Result<()> + 'a;

/// Operations inside one transaction.
pub trait Tx {
    /// The row `id` of `table`.
    ///
    /// # Errors
    /// `KMSInternalException` on a storage failure.
    fn get(&mut self, table: Table, id: &str) -> Result<Option<Row>>;
    /// Rows of `table` with `id > after`, ascending, at most `limit`.
    ///
    /// # Errors
    /// `KMSInternalException` on a storage failure.
    fn list(&mut self, table: Table, after: Option<&str>, limit: usize) -> Result<Vec<Row>>;
    /// Rows of `table` with `after < id < before`, ascending, at most
    /// `limit`: a key range, such as one key's grants, so that a write
    /// checks the integrity buckets of those rows only. The default reads
    /// through [`list`](Self::list) and drops the rows from `before` on.
    ///
    /// # Errors
    /// `KMSInternalException` on a storage failure.
    fn list_range(
        &mut self,
        table: Table,
        after: &str,
        before: &str,
        limit: usize,
    ) -> Result<Vec<Row>> {
        let mut rows = self.list(table, Some(after), limit)?;
        rows.retain(|r| r.id.as_str() < before);
        Ok(rows)
    }
    /// How many rows `table` holds. The default counts them through
    /// [`for_each_tag`](Self::for_each_tag).
    ///
    /// # Errors
    /// `KMSInternalException` on a storage failure.
    fn count(&mut self, table: Table) -> Result<u64> {
        let mut n = 0;
        self.for_each_tag(table, &mut |_, _| {
            n += 1;
            Ok(())
        })?;
        Ok(n)
    }
    /// Inserts or replaces a row.
    ///
    /// # Errors
    /// `KMSInternalException` on a storage failure.
    fn put(&mut self, table: Table, row: &Row) -> Result<()>;
    /// Deletes a row; absent rows are fine.
    ///
    /// # Errors
    /// `KMSInternalException` on a storage failure.
    fn delete(&mut self, table: Table, id: &str) -> Result<()>;
    /// Calls `f` with the `(id, tag)` of every row of `table`, in id order,
    /// without loading bodies (used to check the digest of a keystore of
    /// format version 1 before migrating it).
    ///
    /// # Errors
    /// `f`'s error or `KMSInternalException` on a storage failure.
    fn for_each_tag(
        &mut self,
        table: Table,
        f: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut after: Option<String> = None;
        loop {
            let rows = self.list(table, after.as_deref(), 1000)?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            after = Some(last.id.clone());
            for r in &rows {
                f(&r.id, &r.tag)?;
            }
        }
    }
    /// Calls `f` with the id and tag of every row of `table`, in id order,
    /// without bodies and with no condition on the id, so that the rows a
    /// listing cannot return (its first page starts after `''`) are visited
    /// too: their id is passed as `None` (an id that is not a non-empty
    /// text value, such as `NULL`, `''`, a number or a blob). The default
    /// reads through [`for_each_tag`](Self::for_each_tag).
    ///
    /// # Errors
    /// `f`'s error or `KMSInternalException` on a storage failure.
    fn for_each_row_id(&mut self, table: Table, f: &mut RowIdVisitor<'_>) -> Result<()> {
        self.for_each_tag(table, &mut |id, tag| {
            f(Some(id).filter(|i| !i.is_empty()), tag)
        })
    }
    /// Checks that the database holds exactly the keystore's tables and
    /// indexes, as Strongroom creates them (`docs/FORMAT.md`, "Keystore
    /// integrity state"): no view, trigger or other table or index, no table or index
    /// with other SQL. The default (a storage without such a schema)
    /// checks nothing.
    ///
    /// # Errors
    /// `KMSInternalException` when the schema differs or on a storage
    /// failure.
    fn check_schema(&mut self) -> Result<()> {
        Ok(())
    }
    /// Inserts or replaces a row of a [`Table::BUCKETED`] table and records
    /// its integrity bucket (0–262,143; `docs/FORMAT.md`, "Keystore integrity
    /// state"), so that [`list_bucket`](Self::list_bucket) finds it.
    ///
    /// # Errors
    /// `KMSInternalException` on a storage failure.
    fn put_in_bucket(&mut self, table: Table, row: &Row, bucket: u32) -> Result<()>;
    /// The table, id and tag of every row of the [`Table::BUCKETED`] tables
    /// recorded in `bucket`, in the order of that list, then by id bytes, without
    /// bodies (indexed lookups: the cost depends on the bucket's size, not
    /// the tables').
    ///
    /// # Errors
    /// `KMSInternalException` on a storage failure.
    fn list_bucket(&mut self, bucket: u32) -> Result<Vec<(Table, String, Vec<u8>)>>;
    /// Calls `f` with the recorded bucket (`-1` if none), id (`''` if it is
    /// not text) and tag of every row of `table`, in (bucket, id) order,
    /// without bodies (used to check the whole integrity state on open).
    ///
    /// # Errors
    /// `f`'s error or `KMSInternalException` on a storage failure.
    fn for_each_in_buckets(&mut self, table: Table, f: &mut BucketVisitor<'_>) -> Result<()>;
    /// Adds the `bucket` column and its index to tables made before them
    /// (keystore format version 1); nothing if they are there.
    ///
    /// # Errors
    /// `KMSInternalException` on a storage failure.
    fn add_bucket_columns(&mut self) -> Result<()>;
    /// Creates, in the shape of keystore format version 1, the key, alias
    /// and grant tables a keystore made by an older version may lack
    /// (`grants` came later); nothing for tables that are there. Run by
    /// the migration inside its transaction, so that a refused migration
    /// leaves the file as it was.
    ///
    /// # Errors
    /// `KMSInternalException` on a storage failure.
    fn create_old_tables(&mut self) -> Result<()>;
}

/// A database that runs closures in read or write transactions. A write
/// transaction that returns `Ok` is durable when `write` returns.
pub trait Storage: Send + Sync {
    /// Runs `f` in a read transaction (a consistent snapshot).
    ///
    /// # Errors
    /// `f`'s error, or `KMSInternalException` on a storage failure.
    fn read(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;
    /// Runs `f` in a write transaction, serialized with every other writer
    /// (threads and processes); commits when `f` returns `Ok`, rolls back
    /// otherwise.
    ///
    /// # Errors
    /// `f`'s error, or `KMSInternalException` on a storage failure.
    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;
    /// A cheap change detector: a counter whose value differs between two
    /// calls whenever a write transaction committed in between, through this
    /// storage or any other connection or process. `None` (the default) when
    /// the storage has none; callers then cache nothing.
    ///
    /// # Errors
    /// `KMSInternalException` on a storage failure.
    fn change_counter(&self) -> Result<Option<u64>> {
        Ok(None)
    }
}

/// The `meta` table, as every format version made it.
const META_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS meta (id TEXT PRIMARY KEY, body BLOB NOT NULL, tag BLOB NOT NULL);";

/// The key, alias and grant tables in the shape of keystore format version
/// 1 (no `bucket` column: the migration adds it), where they are missing.
const OLD_TABLES: &str =
    "CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, body BLOB NOT NULL, tag BLOB NOT NULL);
     CREATE TABLE IF NOT EXISTS aliases (id TEXT PRIMARY KEY, body BLOB NOT NULL, tag BLOB NOT NULL);
     CREATE TABLE IF NOT EXISTS grants (id TEXT PRIMARY KEY, body BLOB NOT NULL, tag BLOB NOT NULL);";

fn db_err(e: rusqlite::Error) -> Error {
    Error::internal(format!("keystore database error: {e}"))
}

/// `<path> is not a Strongroom keystore`, with what it lacks.
fn not_a_keystore(path: &Path, what: &str) -> Error {
    Error::internal(format!(
        "{} is not a Strongroom keystore ({what})",
        path.display()
    ))
}

/// Refuses the database of `conn` (the file at `path`) unless it is a
/// keystore's: an SQLite database with a `meta` table (with an `id`
/// column) holding the `check` row every format version writes first.
/// Read only: nothing is written to another application's file named by
/// mistake, not even a journal mode.
///
/// # Errors
/// `KMSInternalException`: `<path> is not a Strongroom keystore`, saying
/// what it lacks, or the SQLite error of a file that cannot be read.
fn check_keystore(conn: &Connection, path: &Path) -> Result<()> {
    let query = |sql: &str| -> Result<bool> {
        conn.query_row(sql, [], |r| r.get::<_, bool>(0))
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::NotADatabase) => {
                    not_a_keystore(path, "it is not an SQLite database")
                }
                _ => db_err(e),
            })
    };
    let lacks = "an SQLite database without Strongroom's meta/check row";
    if !query("SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")? {
        return Err(not_a_keystore(path, lacks));
    }
    // `meta` is a common table name: its `check` row (written first by
    // every format version) tells a keystore; a `meta` table without an
    // `id` column is not a keystore's either.
    if !query("SELECT COUNT(*) > 0 FROM pragma_table_info('meta') WHERE name = 'id'")?
        || !query("SELECT COUNT(*) > 0 FROM meta WHERE id = 'check'")?
    {
        return Err(not_a_keystore(path, lacks));
    }
    Ok(())
}

/// Prepared statements each connection keeps (rusqlite's default is 16).
const STATEMENT_CACHE: usize = 64;

/// [`SCHEMA`]: `meta` and its primary-key index, then each bucketed table
/// with its primary-key and `bucket` indexes.
macro_rules! schema {
    ($($n:literal),*) => {
        [
            (
                "table",
                "meta",
                "meta",
                Some("CREATE TABLE meta (id TEXT PRIMARY KEY, body BLOB NOT NULL, tag BLOB NOT NULL)"),
            ),
            ("index", "sqlite_autoindex_meta_1", "meta", None),
            $(
                (
                    "table",
                    $n,
                    $n,
                    Some(concat!(
                        "CREATE TABLE ", $n, " (id TEXT PRIMARY KEY, body BLOB NOT NULL, \
                         tag BLOB NOT NULL, bucket INTEGER NOT NULL DEFAULT -1)"
                    )),
                ),
                ("index", concat!("sqlite_autoindex_", $n, "_1"), $n, None),
                (
                    "index",
                    concat!($n, "_bucket"),
                    $n,
                    Some(concat!("CREATE INDEX ", $n, "_bucket ON ", $n, " (bucket, id, tag)")),
                ),
            )*
        ]
    };
}

/// A keystore file's schema (`sqlite_master`: type, name, table, SQL), as
/// a new file is made and a migrated one left: exactly these rows
/// ([`Tx::check_schema`]). SQLite keeps a table's SQL without `IF NOT
/// EXISTS` and with a column added by `ALTER TABLE` appended, so a
/// keystore of format version 1 migrated reads the same.
const SCHEMA: [(&str, &str, &str, Option<&str>); 11] = schema!["keys", "aliases", "grants"];

/// Read connections per [`SqliteStorage`], opened on first use, so that
/// threads sharing one handle read in parallel (WAL readers do not block).
const READERS: usize = 4;

/// How often a handle checks `PRAGMA data_version` (and that the signal file
/// is still the one it mapped) even when the change signal is quiescent: the
/// bound on how late a commit by a writer that does not move the signal
/// (another program, or a library version before the signal) is seen.
pub const SIGNAL_RECHECK: Duration = Duration::from_millis(100);

/// [`SqliteStorage::seen_signal`] when no quiescent signal was folded in
/// since the last check of `data_version`.
const NO_SIGNAL: u64 = u64::MAX;

/// A read connection and the `PRAGMA data_version` it last returned.
struct Reader {
    conn: Connection,
    data_version: i64,
}

/// SQLite storage: one file, WAL journal, `synchronous=FULL` so that a
/// committed write survives `kill -9` and power loss, a busy timeout so that
/// several processes can share the file. Writes go through one connection;
/// reads through a small pool of connections, in parallel.
///
/// On Unix, a 64-byte change-signal file beside the database
/// (`<file>-signal`, see `docs/FORMAT.md`) makes
/// [`change_counter`](Storage::change_counter) two atomic loads from shared
/// memory instead of an SQLite read transaction: every write transaction
/// moves its counters. `PRAGMA data_version` is still read when a write is in
/// progress somewhere, after a writer died mid-write, when the file is
/// unusable, and at least every [`SIGNAL_RECHECK`], so that commits by
/// programs that do not move the signal are seen too.
pub struct SqliteStorage {
    conn: Mutex<Connection>,
    path: PathBuf,
    readers: Vec<Mutex<Option<Reader>>>,
    next_reader: AtomicUsize,
    /// Bumped by every commit through `conn`, whenever a reader's
    /// `data_version` shows a commit by another connection, and whenever
    /// the quiescent change signal shows a value not folded in before.
    epoch: AtomicU64,
    /// The mapped change signal, if usable.
    #[cfg(unix)]
    signal: Option<ChangeSignal>,
    /// The signal file was deleted or replaced: readers no longer trust it
    /// (writers still move it, for other handles that map it).
    #[cfg(unix)]
    signal_retired: AtomicBool,
    /// The quiescent signal value last folded into `epoch`, or [`NO_SIGNAL`].
    seen_signal: AtomicU64,
    /// Serializes the slow path of `change_counter` (folding and checks).
    fold: Mutex<()>,
    /// Time origin of `next_check`.
    base: Instant,
    /// Nanoseconds after `base` when `data_version` is next checked anyway.
    next_check: AtomicU64,
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStorage").finish_non_exhaustive()
    }
}

/// Checks that `path` names something a keystore can be opened from
/// before SQLite is given it: SQLite answers a directory with "disk I/O
/// error" (a `KMSInternalException` that does not say what is wrong).
///
/// # Errors
/// `NotFoundException` if there is nothing at `path`; `ValidationException`
/// naming `path` if it is a directory.
fn check_existing_file(path: &Path) -> Result<()> {
    if !path.exists() {
        return Err(Error::not_found(format!(
            "no keystore at {}",
            path.display()
        )));
    }
    if path.is_dir() {
        return Err(Error::validation(format!(
            "{} is a directory, not a keystore file: give the path of the keystore file",
            path.display()
        )));
    }
    Ok(())
}

impl SqliteStorage {
    /// Opens (`create = false`) or creates (`create = true`, mode 0600) the
    /// file; creating is [`create_with`](Self::create_with) with nothing
    /// written (an empty schema).
    ///
    /// # Errors
    /// `NotFoundException` if opening a file that does not exist,
    /// `ValidationException` naming `path` if opening a directory,
    /// `AlreadyExistsException` if creating one that does,
    /// `KMSInternalException` for other database failures.
    pub fn open(path: &Path, create: bool) -> Result<Self> {
        if create {
            return Self::create_with(path, &mut |_| Ok(()));
        }
        check_existing_file(path)?;
        Self::connect(path, false, true)
    }

    /// Creates the file at `path` (mode 0600) with Strongroom's schema and
    /// the rows `fill` writes, atomically: the database is built and
    /// synced under a temporary name in the same directory
    /// (`.<file name>.<random>.creating`, with its own SQLite sidecars,
    /// checkpointed into it and removed before it is linked), then linked
    /// into place without replacing a file another process created
    /// meanwhile, and the directory is synced. A crash leaves either no
    /// file at `path` or the complete one (and at most the temporary file,
    /// which nothing opens: delete it), so a retry is never blocked by a
    /// half-made file. Then opens `path` as [`open`](Self::open) does.
    ///
    /// # Errors
    /// `AlreadyExistsException` if `path` exists (before or when linking;
    /// the message says when it is a directory) or a non-empty `-wal` or
    /// `-journal` file of an earlier file at `path` is beside it (SQLite
    /// would apply its pages to the new file); `ValidationException`
    /// naming `path` when its directory is missing, not a directory, not
    /// writable or read-only;
    /// the error of `fill`; `KMSInternalException` for other database or
    /// I/O failures (when only syncing the directory after the link fails,
    /// the complete file is left at `path`).
    pub fn create_with(
        path: &Path,
        fill: &mut dyn FnMut(&mut dyn Tx) -> Result<()>,
    ) -> Result<Self> {
        let exists = || {
            Error::new(
                strongroom_core::ErrorKind::AlreadyExistsException,
                format!("a keystore already exists at {}", path.display()),
            )
        };
        match std::fs::metadata(path) {
            // Named for what it is: "a keystore already exists" would send
            // the caller looking for a keystore that is not there.
            Ok(m) if m.is_dir() => {
                return Err(Error::new(
                    strongroom_core::ErrorKind::AlreadyExistsException,
                    format!(
                        "{} is a directory, not a keystore file: give the path of the file to create (such as {})",
                        path.display(),
                        path.join("strongroom.db").display()
                    ),
                ))
            }
            _ if std::fs::symlink_metadata(path).is_ok() => return Err(exists()),
            _ => {}
        }
        refuse_leftover_journal(path)?;
        let io = |what: &str, e: std::io::Error| {
            Error::internal(format!("cannot {what} {}: {e}", path.display()))
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let mut builder = tempfile::Builder::new();
        let prefix = format!(".{}.", name.as_deref().unwrap_or("keystore"));
        builder.prefix(&prefix).suffix(".creating");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o600));
        }
        #[cfg(unix)]
        remove_abandoned(dir, &prefix);
        // A missing or unwritable directory is the path's fault
        // (`ValidationException`), not an internal error to retry.
        let staged = builder
            .tempfile_in(dir)
            .map_err(|e| crate::envelope::path_error("cannot create the keystore", path, &e))?;
        // Held until the file is linked into place (or removed): marks it
        // as being built, for `remove_abandoned` of other creates.
        #[cfg(unix)]
        rustix::fs::flock(staged.as_file(), rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| io("lock the temporary file for", e.into()))?;
        {
            let db = Self::connect(staged.path(), true, false)?;
            db.write(fill)?;
            // Everything into the file itself: closing the only connection
            // then removes the temporary `-wal` and `-shm`.
            let conn = db.conn.lock().unwrap_or_else(|p| p.into_inner());
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .map_err(db_err)?;
        }
        staged
            .as_file()
            .sync_all()
            .map_err(|e| io("sync the new keystore for", e))?;
        match staged.persist_noclobber(path) {
            Ok(_) => {}
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists()),
            Err(e) => return Err(io("create", e.error)),
        }
        #[cfg(unix)]
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io("sync the directory of", e))?;
        // Left behind by an earlier keystore at this path and not usable:
        // replaced on open. A usable one is kept (its values are only
        // counters), so that no two handles of this keystore ever map
        // different signal files.
        #[cfg(unix)]
        ChangeSignal::remove_if_invalid(&signal_path(&canonical(path)));
        Self::connect(path, false, true)
    }

    /// Connects to the database file at `path` (which exists), creating
    /// Strongroom's schema if `create`, with the change-signal file beside
    /// it if `signal` (not for a file being built under a temporary name).
    fn connect(path: &Path, create: bool, signal: bool) -> Result<Self> {
        use rusqlite::OpenFlags;
        #[cfg(not(unix))]
        let _ = signal;
        // SQLite opens a sidecar it may not write read only, and then
        // refuses every write: give back what a read-only open took away.
        #[cfg(unix)]
        if let Ok(keystore) = std::fs::metadata(path) {
            let base = canonical(path);
            for suffix in ["-wal", "-shm"] {
                restore_owner_access(&sidecar(&base, suffix), &keystore);
            }
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(db_err)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(db_err)?;
        // Room for every statement of a write (three tables, their bucket
        // queries, meta), so that none is prepared again per call.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        if !create {
            // Nothing is written to a file that is not a keystore (another
            // application's database named by mistake, or a keystore whose
            // `meta` table was dropped), not even the journal mode.
            check_keystore(&conn, path)?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db_err)?;
        if create {
            let mut sql = String::new();
            for (ty, name, _, create) in SCHEMA {
                // The meta table is made below, as for an older file.
                if let (Some(c), false) = (create, ty == "table" && name == "meta") {
                    sql.push_str(c);
                    sql.push_str(";\n");
                }
            }
            conn.execute_batch(&sql).map_err(db_err)?;
        }
        if create {
            conn.execute_batch(&format!("{META_TABLE}\n{OLD_TABLES}"))
                .map_err(db_err)?;
        }
        // Otherwise a table a keystore made by an older version lacks
        // (`grants` came later) is made by the migration, in its
        // transaction ([`Tx::create_old_tables`]); a file with a `meta`
        // table but no `meta/check` row ends in "not a Strongroom keystore".
        // Nothing is created here: a refused open or migration leaves the
        // file as it was.
        let path = canonical(path);
        Ok(SqliteStorage {
            conn: Mutex::new(conn),
            #[cfg(unix)]
            signal: signal
                .then(|| ChangeSignal::open(&signal_path(&path), &path))
                .flatten(),
            path,
            readers: (0..READERS).map(|_| Mutex::new(None)).collect(),
            next_reader: AtomicUsize::new(0),
            epoch: AtomicU64::new(0),
            #[cfg(unix)]
            signal_retired: AtomicBool::new(false),
            seen_signal: AtomicU64::new(NO_SIGNAL),
            fold: Mutex::new(()),
            base: Instant::now(),
            next_check: AtomicU64::new(0),
        })
    }

    /// Whether this storage has a usable change-signal file (tests and
    /// diagnostics; without one every call reads `PRAGMA data_version`).
    pub fn has_change_signal(&self) -> bool {
        #[cfg(unix)]
        {
            self.live_signal().is_some()
        }
        #[cfg(not(unix))]
        {
            false
        }
    }

    /// The change signal, unless absent or retired.
    #[cfg(unix)]
    fn live_signal(&self) -> Option<&ChangeSignal> {
        self.signal
            .as_ref()
            .filter(|_| !self.signal_retired.load(Ordering::Relaxed))
    }

    /// The quiescent value of the live change signal, repairing it first if
    /// a writer died in a window; `None` without one.
    fn quiescent_signal(&self, repair: bool) -> Option<u64> {
        #[cfg(unix)]
        {
            let s = self.live_signal()?;
            s.quiescent()
                .or_else(|| (repair && s.recover()).then(|| s.quiescent()).flatten())
        }
        #[cfg(not(unix))]
        {
            let _ = repair;
            None
        }
    }

    /// Nanoseconds since `base`.
    fn now_nanos(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The slow path of [`change_counter`](Storage::change_counter), under
    /// `fold`: folds a quiescent signal into `epoch`, or reads
    /// `data_version` when there is none, and on schedule.
    fn change_counter_slow(&self) -> Result<u64> {
        let _fold = self.fold.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.now_nanos();
        let due = now >= self.next_check.load(Ordering::Relaxed);
        if due {
            #[cfg(unix)]
            if self.signal.as_ref().is_some_and(|s| !s.still_at_path()) {
                self.signal_retired.store(true, Ordering::Relaxed);
            }
            let interval = u64::try_from(SIGNAL_RECHECK.as_nanos()).unwrap_or(u64::MAX);
            self.next_check
                .store(now.saturating_add(interval), Ordering::Relaxed);
        }
        // Read before `data_version`: a value folded in must be quiescent no
        // later than the database state the call goes on to read.
        let signal = self.quiescent_signal(true);
        if due || signal.is_none() {
            self.check_data_version()?;
        }
        match signal {
            Some(b) => {
                if self.seen_signal.load(Ordering::Acquire) != b {
                    // `epoch` moves before `seen_signal` names `b`, so the
                    // fast path never returns an `epoch` from before `b`.
                    self.epoch.fetch_add(1, Ordering::AcqRel);
                    self.seen_signal.store(b, Ordering::Release);
                }
            }
            None => self.seen_signal.store(NO_SIGNAL, Ordering::Release),
        }
        Ok(self.epoch.load(Ordering::Acquire))
    }

    /// Reads `PRAGMA data_version` on a read connection and moves `epoch`
    /// if it shows a commit that connection had not seen.
    fn check_data_version(&self) -> Result<()> {
        self.with_reader(|r| {
            let v = data_version(&r.conn)?;
            if v != r.data_version {
                r.data_version = v;
                self.epoch.fetch_add(1, Ordering::AcqRel);
            }
            Ok(())
        })
    }

    /// Runs `f` on a free read connection (opening it if needed), or waits
    /// for one.
    fn with_reader<T>(&self, f: impl FnOnce(&mut Reader) -> Result<T>) -> Result<T> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        let mut guard = (0..n)
            .find_map(|i| self.readers[(start + i) % n].try_lock().ok())
            .unwrap_or_else(|| {
                self.readers[start % n]
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            });
        if guard.is_none() {
            use rusqlite::OpenFlags;
            let conn = Connection::open_with_flags(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(db_err)?;
            conn.busy_timeout(Duration::from_secs(30)).map_err(db_err)?;
            conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            conn.pragma_update(None, "query_only", true)
                .map_err(db_err)?;
            let data_version = data_version(&conn)?;
            // A new reader has no history: count it as a change.
            self.epoch.fetch_add(1, Ordering::AcqRel);
            *guard = Some(Reader { conn, data_version });
        }
        match guard.as_mut() {
            Some(r) => f(r),
            None => Err(Error::internal("no read connection")),
        }
    }
}

/// Refuses to create a keystore at `path` (which does not exist) while a
/// non-empty SQLite write-ahead log or rollback journal of an earlier file
/// at that path is beside it (as given, or with symbolic links resolved):
/// one a process killed before its checkpoint left behind, with committed
/// pages of that earlier keystore. SQLite would replay it into the new file
/// on its first open, so the new keystore would be the old one's pages (or
/// unreadable under another root key). It is never deleted: it may hold
/// the earlier keystore's last changes. An empty one holds nothing and is
/// left to SQLite.
///
/// # Errors
/// `AlreadyExistsException` naming the file.
fn refuse_leftover_journal(path: &Path) -> Result<()> {
    for base in [path.to_path_buf(), canonical(path)] {
        for suffix in ["-wal", "-journal"] {
            let side = sidecar(&base, suffix);
            if std::fs::symlink_metadata(&side).is_ok_and(|m| m.len() > 0) {
                return Err(Error::new(
                    strongroom_core::ErrorKind::AlreadyExistsException,
                    format!(
                        "{} is the SQLite journal of an earlier keystore at this path, \
                         with changes never written into its file; SQLite would apply \
                         them to a new keystore: move it away (with that keystore's file) \
                         before creating a keystore at {}",
                        side.display(),
                        path.display()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Removes the temporary files of creates of the same keystore path that
/// a crash abandoned (`<prefix>*.creating` in `dir`, with the sidecars
/// SQLite gave them): those no live process holds its `flock` on.
/// Failures are ignored (the files are only litter).
#[cfg(unix)]
fn remove_abandoned(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(prefix) && name.ends_with(".creating")) {
            continue;
        }
        let path = entry.path();
        let Ok(f) = std::fs::File::open(&path) else {
            continue;
        };
        if rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_ok() {
            for suffix in ["-wal", "-shm", "-journal"] {
                let _ = std::fs::remove_file(sidecar(&path, suffix));
            }
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// `path` with `suffix` appended to its file name (`ks.db` → `ks.db-wal`),
/// as SQLite names its sidecars and Strongroom its change-signal file.
pub(crate) fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Gives the side file `side` (a `-wal`, `-shm` or `-signal` file) of the
/// keystore file whose metadata is `keystore` the owner's read and write
/// permission that the keystore file has and it lacks, adding nothing
/// else; returns whether it did. SQLite makes `-wal` and `-shm` with the
/// mode the keystore file has then, so a keystore opened while its file was
/// read only (`chmod a-w`) leaves them read only, and after its write
/// permission is back every write would fail ("attempt to write a readonly
/// database") until they are given theirs too. Only a regular file (not a
/// symbolic link) of the keystore file's owner is changed; a file this
/// process may not change (another user's) or read is left as it is. The
/// file is looked at first by name (`lstat`: nothing is opened when it
/// needs no change), then opened without following a symbolic link as a
/// path only (`O_PATH | O_NOFOLLOW`), checked through that descriptor
/// (`fstat`) and changed through it (`chmod` of `/proc/self/fd/N`, which
/// names the opened file itself): a link swapped in at `side` in a shared
/// directory never has the file it names changed (the owner's root key
/// file made readable by others, say). An `O_PATH` descriptor is used
/// because closing any other descriptor of `-shm` would release every
/// POSIX lock this process holds on it (SQLite's wal-index locks of the
/// other handles open in this process); closing an `O_PATH` one does not.
/// Without `/proc`, and on systems other than Linux, the file is left as
/// it is.
#[cfg(unix)]
pub(crate) fn restore_owner_access(side: &Path, keystore: &std::fs::Metadata) -> bool {
    use rustix::fs::{FileType, Mode, OFlags};
    use std::os::unix::fs::MetadataExt;
    let want = keystore.mode() & 0o600;
    let needs = |is_file: bool, uid: u32, mode: u32| {
        is_file && uid == keystore.uid() && mode & want != want
    };
    // The usual case (nothing to give back) opens nothing.
    match std::fs::symlink_metadata(side) {
        Ok(m) if needs(m.file_type().is_file(), m.uid(), m.mode()) => {}
        _ => return false,
    }
    // `O_PATH` and `/proc/self/fd` are Linux's; elsewhere the file is left
    // as it is and a refused write names it (`write_err`).
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        false
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let Ok(fd) = rustix::fs::open(
            side,
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            return false;
        };
        let Ok(st) = rustix::fs::fstat(&fd) else {
            return false;
        };
        let mode = st.st_mode;
        let is_file = FileType::from_raw_mode(st.st_mode) == FileType::RegularFile;
        if !needs(is_file, st.st_uid, mode) {
            return false;
        }
        let by_fd = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
        rustix::fs::chmod(by_fd.as_str(), Mode::from_raw_mode((mode | want) & 0o7777)).is_ok()
    }
}

/// The SQLite error `e` of a write to the keystore at `path`; when SQLite
/// found the database read only (`SQLITE_READONLY`, "attempt to write a
/// readonly database"), it names the first of the keystore file, its `-wal`
/// and its `-shm` that this process may not write (by its effective user
/// and group), with that file's mode, since SQLite does not say which.
fn write_err(path: &Path, e: rusqlite::Error) -> Error {
    #[cfg(unix)]
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly) {
        use std::os::unix::fs::PermissionsExt;
        let blocked = ["", "-wal", "-shm"].iter().find_map(|suffix| {
            let p = sidecar(path, suffix);
            let m = std::fs::metadata(&p).ok()?;
            // `accessat`, not an open: closing a second descriptor of the
            // database file would drop SQLite's POSIX locks on it.
            rustix::fs::accessat(
                rustix::fs::CWD,
                &p,
                rustix::fs::Access::WRITE_OK,
                rustix::fs::AtFlags::EACCESS,
            )
            .is_err()
            .then(|| (p, m.permissions().mode() & 0o7777))
        });
        if let Some((p, mode)) = blocked {
            return Error::internal(format!(
                "keystore database error: {e}: {} is not writable by this process \
                 (mode {mode:04o}); give it write permission (its owner's, as the \
                 keystore file has)",
                p.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    db_err(e)
}

/// `path` with symbolic links resolved (of its directory, if the file does
/// not exist yet), so that every handle names the same signal file however
/// it names the keystore; `path` itself if that fails.
pub(crate) fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) => {
                let dir = if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                };
                std::fs::canonicalize(dir).map(|d| d.join(name))
            }
            _ => Err(std::io::ErrorKind::NotFound.into()),
        })
        .unwrap_or_else(|_| path.to_path_buf())
}

/// The `(id, body, tag)` rows `sql` selects with `params`.
fn select_rows(conn: &Connection, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<Row>> {
    let mut st = conn.prepare_cached(sql).map_err(db_err)?;
    let rows = st
        .query_map(params, |r| {
            Ok(Row {
                id: r.get(0)?,
                body: r.get(1)?,
                tag: r.get(2)?,
            })
        })
        .map_err(db_err)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
}

fn data_version(conn: &Connection) -> Result<i64> {
    conn.prepare_cached("PRAGMA data_version")
        .and_then(|mut st| st.query_row([], |r| r.get(0)))
        .map_err(db_err)
}

/// Runs `f` in a read transaction of `conn`, a connection to the keystore
/// file at `path`.
fn run_tx(
    conn: &mut Connection,
    path: &Path,
    behavior: TransactionBehavior,
    f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>,
) -> Result<()> {
    let tx = conn.transaction_with_behavior(behavior).map_err(db_err)?;
    let mut stx = SqliteTx { tx: &tx, path };
    f(&mut stx)?;
    tx.commit().map_err(db_err)
}

struct SqliteTx<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    /// The keystore file, for the errors of writes ([`write_err`]).
    path: &'a Path,
}

impl SqliteTx<'_> {
    /// Runs the statement `sql` with `params` ([`write_err`] for its errors).
    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> Result<()> {
        self.tx
            .prepare_cached(sql)
            .and_then(|mut st| st.execute(params))
            .map_err(|e| write_err(self.path, e))?;
        Ok(())
    }
}

impl Tx for SqliteTx<'_> {
    fn get(&mut self, table: Table, id: &str) -> Result<Option<Row>> {
        let sql = format!("SELECT id, body, tag FROM {} WHERE id = ?1", table.name());
        self.tx
            .prepare_cached(&sql)
            .map_err(db_err)?
            .query_row(params![id], |r| {
                Ok(Row {
                    id: r.get(0)?,
                    body: r.get(1)?,
                    tag: r.get(2)?,
                })
            })
            .optional()
            .map_err(db_err)
    }

    fn list(&mut self, table: Table, after: Option<&str>, limit: usize) -> Result<Vec<Row>> {
        let sql = format!(
            "SELECT id, body, tag FROM {} WHERE id > ?1 ORDER BY id LIMIT ?2",
            table.name()
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        select_rows(self.tx, &sql, params![after.unwrap_or(""), limit])
    }

    fn list_range(
        &mut self,
        table: Table,
        after: &str,
        before: &str,
        limit: usize,
    ) -> Result<Vec<Row>> {
        let sql = format!(
            "SELECT id, body, tag FROM {} WHERE id > ?1 AND id < ?2 ORDER BY id LIMIT ?3",
            table.name()
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        select_rows(self.tx, &sql, params![after, before, limit])
    }

    fn count(&mut self, table: Table) -> Result<u64> {
        let sql = format!("SELECT COUNT(*) FROM {}", table.name());
        let n: i64 = self
            .tx
            .prepare_cached(&sql)
            .map_err(db_err)?
            .query_row([], |r| r.get(0))
            .map_err(db_err)?;
        u64::try_from(n).map_err(|_| Error::internal("row count"))
    }

    fn put(&mut self, table: Table, row: &Row) -> Result<()> {
        // An upsert, not `INSERT OR REPLACE`: a replaced row keeps its
        // rowid and place, so an update rewrites its page only, instead of
        // deleting it, appending it at the end of the table and updating
        // the id index (several pages per write; measured on branch
        // `integrity`, `benches/RESULTS.md`).
        let sql = format!(
            "INSERT INTO {} (id, body, tag) VALUES (?1, ?2, ?3) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, tag = excluded.tag",
            table.name()
        );
        self.execute(&sql, params![row.id, row.body, row.tag])
    }

    fn for_each_tag(
        &mut self,
        table: Table,
        f: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let sql = format!("SELECT id, tag FROM {} ORDER BY id", table.name());
        let mut st = self.tx.prepare_cached(&sql).map_err(db_err)?;
        let mut rows = st.query([]).map_err(db_err)?;
        while let Some(r) = rows.next().map_err(db_err)? {
            let id: String = r.get(0).map_err(db_err)?;
            let tag: Vec<u8> = r.get(1).map_err(db_err)?;
            f(&id, &tag)?;
        }
        Ok(())
    }

    fn delete(&mut self, table: Table, id: &str) -> Result<()> {
        let sql = format!("DELETE FROM {} WHERE id = ?1", table.name());
        self.execute(&sql, params![id])
    }

    fn put_in_bucket(&mut self, table: Table, row: &Row, bucket: u32) -> Result<()> {
        let sql = format!(
            "INSERT INTO {} (id, body, tag, bucket) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, tag = excluded.tag, \
             bucket = excluded.bucket",
            table.name()
        );
        self.execute(&sql, params![row.id, row.body, row.tag, bucket])
    }

    fn list_bucket(&mut self, bucket: u32) -> Result<Vec<(Table, String, Vec<u8>)>> {
        // One statement for the three tables (each part an index range).
        const SQL: &str = "SELECT 0, id, tag FROM keys WHERE bucket = ?1 \
             UNION ALL SELECT 1, id, tag FROM aliases WHERE bucket = ?1 \
             UNION ALL SELECT 2, id, tag FROM grants WHERE bucket = ?1 ORDER BY 1, 2";
        let mut st = self.tx.prepare_cached(SQL).map_err(db_err)?;
        let rows = st
            .query_map(params![bucket], |r| {
                Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(db_err)?;
        let mut out = Vec::new();
        for r in rows {
            let (t, id, tag) = r.map_err(db_err)?;
            let table = usize::try_from(t)
                .ok()
                .and_then(|t| Table::BUCKETED.get(t).copied())
                .ok_or_else(|| Error::internal("bucket listing"))?;
            out.push((table, id, tag));
        }
        Ok(out)
    }

    fn for_each_row_id(&mut self, table: Table, f: &mut RowIdVisitor<'_>) -> Result<()> {
        let sql = format!("SELECT id, tag FROM {} ORDER BY id", table.name());
        let mut st = self.tx.prepare_cached(&sql).map_err(db_err)?;
        let mut rows = st.query([]).map_err(db_err)?;
        while let Some(r) = rows.next().map_err(db_err)? {
            let id = match r.get_ref(0).map_err(db_err)? {
                ValueRef::Text(t) => std::str::from_utf8(t).ok().filter(|i| !i.is_empty()),
                _ => None,
            };
            let tag: Vec<u8> = r.get(1).map_err(db_err)?;
            f(id, &tag)?;
        }
        Ok(())
    }

    fn check_schema(&mut self) -> Result<()> {
        let mut st = self
            .tx
            .prepare_cached("SELECT type, name, tbl_name, sql FROM sqlite_master")
            .map_err(db_err)?;
        let mut rows = st.query([]).map_err(db_err)?;
        let mut seen = [false; SCHEMA.len()];
        let bad = || {
            Error::internal(
                "the keystore file's schema (a table, index, view or trigger was added, \
                 changed or removed)",
            )
        };
        while let Some(r) = rows.next().map_err(db_err)? {
            let text = |i| match r.get_ref(i) {
                Ok(ValueRef::Text(t)) => Some(t),
                _ => None,
            };
            let i = SCHEMA
                .iter()
                .position(|(ty, name, tbl, sql)| {
                    text(0) == Some(ty.as_bytes())
                        && text(1) == Some(name.as_bytes())
                        && text(2) == Some(tbl.as_bytes())
                        && text(3) == sql.map(str::as_bytes)
                })
                .ok_or_else(bad)?;
            if std::mem::replace(&mut seen[i], true) {
                return Err(bad());
            }
        }
        if seen.iter().all(|s| *s) {
            Ok(())
        } else {
            Err(bad())
        }
    }

    fn for_each_in_buckets(&mut self, table: Table, f: &mut BucketVisitor<'_>) -> Result<()> {
        let sql = format!(
            "SELECT bucket, id, tag FROM {} ORDER BY bucket, id",
            table.name()
        );
        let mut st = self.tx.prepare_cached(&sql).map_err(db_err)?;
        let mut rows = st.query([]).map_err(db_err)?;
        while let Some(r) = rows.next().map_err(db_err)? {
            // A value that is not an integer (an edited file) reads as -1.
            let bucket: i64 = r.get(0).unwrap_or(-1);
            // An id that is not text (`NULL`, a blob) reads as `''`, which
            // no listing returns either.
            let id = match r.get_ref(1).map_err(db_err)? {
                ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or(""),
                _ => "",
            };
            let tag: Vec<u8> = r.get(2).map_err(db_err)?;
            f(bucket, id, &tag)?;
        }
        Ok(())
    }

    fn create_old_tables(&mut self) -> Result<()> {
        self.tx.execute_batch(OLD_TABLES).map_err(db_err)
    }

    fn add_bucket_columns(&mut self) -> Result<()> {
        for t in Table::BUCKETED {
            let n = t.name();
            let has: bool = self
                .tx
                .query_row(
                    &format!(
                        "SELECT COUNT(*) > 0 FROM pragma_table_info('{n}') WHERE name = 'bucket'"
                    ),
                    [],
                    |r| r.get(0),
                )
                .map_err(db_err)?;
            if !has {
                self.tx
                    .execute_batch(&format!(
                        "ALTER TABLE {n} ADD COLUMN bucket INTEGER NOT NULL DEFAULT -1;"
                    ))
                    .map_err(db_err)?;
            }
            self.tx
                .execute_batch(&format!(
                    "CREATE INDEX IF NOT EXISTS {n}_bucket ON {n} (bucket, id, tag);"
                ))
                .map_err(db_err)?;
        }
        Ok(())
    }
}

/// A keystore file opened read only ([`ReadOnlySqlite::open`]): for a
/// keystore the process cannot (or must not) write. Its `write` fails.
pub(crate) struct ReadOnlySqlite {
    /// The file, symbolic links resolved ([`canonical`]): SQLite names the
    /// WAL sidecars after it, not after a link.
    path: PathBuf,
    /// The connection, and whether it is immutable (`immutable=1`).
    conn: Mutex<(Connection, bool)>,
}

impl std::fmt::Debug for ReadOnlySqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOnlySqlite").finish_non_exhaustive()
    }
}

/// The message of the retryable error [`ReadOnlySqlite`] returns when a
/// writer opened the keystore while it was read immutable.
pub(crate) const WRITER_APPEARED: &str =
    "a writer opened the keystore while it was read without locks: read again";

/// Runs `read` (reads through a [`ReadOnlySqlite`]) and, when it fails
/// with [`WRITER_APPEARED`] (a writer opened the keystore while it was
/// read without locks), once more: the connection then reads through the
/// WAL, with SQLite's locks.
///
/// # Errors
/// Those of `read` (of its second run after [`WRITER_APPEARED`]).
pub(crate) fn read_again_if_writer_appeared<T>(mut read: impl FnMut() -> Result<T>) -> Result<T> {
    match read() {
        Err(e) if e.message() == WRITER_APPEARED => read(),
        r => r,
    }
}

impl ReadOnlySqlite {
    /// Opens the keystore file at `path` read only, writing nothing: no
    /// pragma that writes, no table created, no change-signal file.
    /// Symbolic links are resolved first: SQLite names the WAL sidecars
    /// (`-wal`, `-shm`) after the file a link names. While a sidecar exists
    /// (a connection has the file open, or one ended without removing
    /// them) it is read through them, with SQLite's locks (`mode=ro`),
    /// which reads the commits still in the WAL. When neither exists no
    /// connection has it open and it is opened immutable (SQLite's
    /// `immutable=1`: no locks, and no sidecar is created — `mode=ro` would
    /// create both and leave them behind, and a read-only directory or file
    /// system refuses them). After every read of an immutable connection
    /// the sidecars are looked for again: if one appeared (a writer opened
    /// the file meanwhile) the read's result is not used, the error below
    /// is returned and later reads use `mode=ro`. A writer that opens,
    /// checkpoints into the file and closes all while it is read may make
    /// the read fail authentication: read again.
    ///
    /// # Errors
    /// `NotFoundException` if there is no file at `path`;
    /// `ValidationException` naming `path` if it is a directory;
    /// `KMSInternalException` if it cannot be opened or read (e.g. a
    /// `-wal` beside it without a `-shm` in a directory the process cannot
    /// write) or is not a keystore ([`check_keystore`]), and (from a read)
    /// [`WRITER_APPEARED`] when a writer opened the file while it was read
    /// immutable.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        check_existing_file(path)?;
        let given = path;
        let path = canonical(path);
        let immutable = !has_wal_sidecar(&path);
        let conn = Self::connect(&path, immutable)?;
        check_keystore(&conn, given)?;
        Ok(ReadOnlySqlite {
            path,
            conn: Mutex::new((conn, immutable)),
        })
    }

    fn connect(path: &Path, immutable: bool) -> Result<Connection> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = if immutable {
            Connection::open_with_flags(immutable_uri(path), flags | OpenFlags::SQLITE_OPEN_URI)
        } else {
            Connection::open_with_flags(path, flags)
        }
        .map_err(db_err)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(db_err)?;
        Ok(conn)
    }
}

/// Whether a WAL sidecar (`-wal` or `-shm`) of the SQLite file at `path`
/// (symbolic links resolved) exists.
fn has_wal_sidecar(path: &Path) -> bool {
    ["-wal", "-shm"]
        .iter()
        .any(|suffix| std::fs::symlink_metadata(sidecar(path, suffix)).is_ok())
}

/// The SQLite URI of the file at `path` opened immutable
/// (`file:<path>?immutable=1`, RFC 3986 percent-encoding of every byte but
/// unreserved ones and `/`).
fn immutable_uri(path: &Path) -> String {
    use std::fmt::Write as _;
    let mut uri = String::from("file:");
    for b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(b) {
            uri.push(char::from(*b));
        } else {
            let _ = write!(uri, "%{b:02X}");
        }
    }
    uri.push_str("?immutable=1");
    uri
}

impl Storage for ReadOnlySqlite {
    fn read(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let (conn, immutable) = &mut *guard;
        let r = run_tx(conn, &self.path, TransactionBehavior::Deferred, f);
        // An immutable read ignores a WAL: one that appeared meanwhile may
        // hold commits the read did not see.
        if *immutable && has_wal_sidecar(&self.path) {
            *conn = Self::connect(&self.path, false)?;
            *immutable = false;
            return Err(Error::internal(WRITER_APPEARED));
        }
        r
    }

    fn write(&self, _f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        Err(Error::internal(
            "the keystore was opened read only: nothing can be written",
        ))
    }
}

impl Storage for SqliteStorage {
    fn read(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.with_reader(|r| run_tx(&mut r.conn, &self.path, TransactionBehavior::Deferred, f))
    }

    /// Inside a write window of the change signal (see `crate::signal`),
    /// opened once `BEGIN IMMEDIATE` holds SQLite's write lock and closed
    /// after the commit or rollback.
    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let result = (|| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| write_err(&self.path, e))?;
            // A retired signal is still moved: other handles may map it.
            #[cfg(unix)]
            let _window = self.signal.as_ref().map(ChangeSignal::begin);
            f(&mut SqliteTx {
                tx: &tx,
                path: &self.path,
            })?;
            tx.commit().map_err(|e| write_err(&self.path, e))
        })();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        result
    }

    /// This storage's own commits, folded with the change signal (two
    /// atomic loads while it is quiescent and already folded in) or, when
    /// there is no usable signal, a writer is in a window, and every
    /// [`SIGNAL_RECHECK`], with `PRAGMA data_version` of a read connection
    /// (which changes when any other connection, in this process or
    /// another, commits).
    fn change_counter(&self) -> Result<Option<u64>> {
        if let Some(b) = self.quiescent_signal(false) {
            if b == self.seen_signal.load(Ordering::Acquire)
                && self.now_nanos() < self.next_check.load(Ordering::Relaxed)
            {
                return Ok(Some(self.epoch.load(Ordering::Acquire)));
            }
        }
        self.change_counter_slow().map(Some)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)
    use super::*;

    /// An immutable read that a writer's WAL appeared during is not used:
    /// the read fails with [`WRITER_APPEARED`] and the next one reads the
    /// writer's uncheckpointed commit through the WAL.
    #[test]
    fn a_writer_appearing_during_an_immutable_read_is_not_missed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ks.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "PRAGMA journal_mode=WAL;
                 CREATE TABLE meta (id TEXT PRIMARY KEY, body BLOB, tag BLOB);
                 INSERT INTO meta VALUES ('a', x'01', x''), ('check', x'00', x'');",
            )
            .unwrap();
        }
        assert!(!has_wal_sidecar(&path));
        let ro = ReadOnlySqlite::open(&path).unwrap();
        let writer = Connection::open(&path).unwrap();
        writer
            .execute("INSERT INTO meta VALUES ('b', x'02', x'')", [])
            .unwrap();
        let mut seen = Vec::new();
        let mut read = |tx: &mut dyn Tx| {
            seen = tx.list(Table::Meta, None, 10)?;
            Ok(())
        };
        let err = ro.read(&mut read).unwrap_err();
        assert_eq!(err.message(), WRITER_APPEARED);
        ro.read(&mut read).unwrap();
        let ids: Vec<_> = seen.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "check"]);
        drop(writer);
    }

    /// Review 18b, 2: a symbolic link at a side file's name is never
    /// followed: the file it names keeps its mode (before, a link swapped in
    /// between the check and the `chmod` had its target made readable); a
    /// regular side file of the owner gets the keystore file's owner
    /// permission back.
    #[cfg(unix)]
    #[test]
    fn owner_access_is_restored_through_no_symbolic_link() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let keystore = dir.path().join("ks.db");
        std::fs::write(&keystore, b"k").unwrap();
        std::fs::set_permissions(&keystore, std::fs::Permissions::from_mode(0o600)).unwrap();
        let ks = std::fs::metadata(&keystore).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        let target = dir.path().join("root.key");
        std::fs::write(&target, b"secret").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o400)).unwrap();
        let link = dir.path().join("ks.db-wal");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(!restore_owner_access(&link, &ks));
        assert_eq!(mode(&target), 0o400);
        std::fs::remove_file(&link).unwrap();
        let shm = dir.path().join("ks.db-shm");
        std::fs::write(&shm, b"").unwrap();
        std::fs::set_permissions(&shm, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert!(restore_owner_access(&shm, &ks));
        assert_eq!(mode(&shm), 0o600);
    }
}
