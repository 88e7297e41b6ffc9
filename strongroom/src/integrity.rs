//! The keystore integrity state (`docs/FORMAT.md`, "Keystore integrity
//! state"): what makes a key, alias or grant row added, deleted or rolled
//! back to an older authentic version detectable, together with the audit
//! checkpoint.
//!
//! Every key, alias and grant row belongs to one of [`BUCKETS`] buckets,
//! chosen by a MAC of its table and ID under the root key's integrity
//! sub-key. A bucket's digest is an HMAC over the sorted `(table, id, tag)`
//! of its rows. The bucket digests form a three-level tree of [`FANOUT`]
//! slots per node: 64 bucket digests make a level-2 row
//! (`meta/state/2/<n>`, 4096 of them), whose HMAC is the level-2 digest; 64
//! level-2 digests make a level-1 row (`meta/state/1/<m>`, 64 of them),
//! whose HMAC is the level-1 digest; the state row (`meta/state`) holds a
//! write counter, the audit checkpoint and the 64 level-1 digests, under
//! one more HMAC. An attacker without the root key sees every tag and
//! digest but cannot compute a MAC over a combination that Strongroom did
//! not write, so any mix of old and current rows, tree rows or checkpoint
//! fails; only the whole file put back to an earlier state passes (the
//! documented limit).
//!
//! A write transaction ([`IntegrityTx`]) reads and checks the buckets it
//! touches (their rows against their stored digests, the level-2 and
//! level-1 rows above them against their parents, up to the state), then
//! rewrites their digests, those tree rows and the state. With 262,144
//! buckets a bucket holds under one row up to 100,000 keys, so a write's
//! cost is its fixed path (one row of each level and the state), not the
//! number of rows. [`verify_all`] recomputes everything (on open).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use strongroom_core::crypto::DigestAlgorithm;
use strongroom_core::seal::RootKey;
use strongroom_core::{Error, Result};

use crate::store::{BucketVisitor, Row, Table, Tx};

/// Slots (digests) per tree row and in the state row.
pub(crate) const FANOUT: usize = 64;
/// Level-1 rows.
const L1_ROWS: usize = FANOUT;
/// Level-2 rows.
const L2_ROWS: usize = FANOUT * FANOUT;
/// Buckets of the integrity state (64 × 64 × 64).
pub(crate) const BUCKETS: u32 = (L2_ROWS * FANOUT) as u32;
/// Length of the audit checkpoint the state row carries.
pub(crate) const CHECKPOINT_LEN: usize = 48;
/// The state row's ID in `meta`.
pub(crate) const META_STATE: &str = "state";
/// Prefix of the level-1 rows' IDs in `meta`.
const L1_PREFIX: &str = "state/1/";
/// Prefix of the level-2 rows' IDs in `meta`.
const L2_PREFIX: &str = "state/2/";
/// Version byte of the state row (keystore format version 4: with the row
/// counts).
const STATE_VERSION: u8 = 2;
/// Version byte of the state row of an anchored keystore (format version 4
/// with the anchor ID after the row counts; `docs/FORMAT.md`, "Anchored
/// keystores").
const STATE_VERSION_ANCHORED: u8 = 3;
/// Length of an anchor ID (random, chosen when anchoring begins).
pub(crate) const ANCHOR_ID_LEN: usize = 16;
/// Version byte of the state row of keystore format versions 2 and 3
/// (without row counts), read by the migration only.
const STATE_VERSION_3: u8 = 1;
const DIGEST: usize = 32;
/// Length of a tree row's body: [`FANOUT`] digests.
const SLOTS_LEN: usize = FANOUT * DIGEST;
/// Length of the state row's body of format versions 2 and 3.
const STATE_LEN_3: usize = 1 + 8 + CHECKPOINT_LEN + L1_ROWS * DIGEST;
/// Length of the state row's body: that of format 3 and the row counts of
/// the [`Table::BUCKETED`] tables (u64 each).
const STATE_LEN: usize = STATE_LEN_3 + 8 * Table::BUCKETED.len();

/// The ID in `meta` of level-1 row `m` (`state/1/00` … `state/1/3f`).
fn l1_row_id(m: usize) -> String {
    format!("{L1_PREFIX}{m:02x}")
}

/// The ID in `meta` of level-2 row `n` (`state/2/000` … `state/2/fff`).
fn l2_row_id(n: usize) -> String {
    format!("{L2_PREFIX}{n:03x}")
}

fn tampered() -> Error {
    crate::auth_failed(
        "the keystore integrity state (a key, alias or grant row or the audit checkpoint \
         was added, deleted or rolled back)",
    )
}

fn table_byte(t: Table) -> u8 {
    match t {
        Table::Meta => 0,
        Table::Keys => 1,
        Table::Aliases => 2,
        Table::Grants => 3,
    }
}

/// The bucket of row `id` of `table`: the first three bytes of
/// `HMAC(integrity key, "strongroom/v1/bucket" ‖ table byte ‖ name)` as a
/// big-endian integer, modulo [`BUCKETS`], where `name` is the ID, or for a
/// grant row (`<key ID>/<grant ID>`) the key ID alone (the ID up to its
/// first `/`): every grant of a key is in one bucket, whose digest commits
/// to exactly that set, so a write that lists a key's grants sees one
/// deleted from the file (format version 4).
pub(crate) fn bucket_of(root: &RootKey, table: Table, id: &str) -> Result<u32> {
    let name = match table {
        Table::Grants => id.split_once('/').map_or(id, |(key, _)| key),
        _ => id,
    };
    let t = root.mac_integrity(&[
        b"strongroom/v1/bucket",
        &[table_byte(table)],
        name.as_bytes(),
    ])?;
    Ok(u32::from_be_bytes([0, t[0], t[1], t[2]]) % BUCKETS)
}

/// Appends one bucket entry: table byte ‖ u32 len(id) ‖ id ‖ u32 len(tag) ‖ tag.
fn push_entry(buf: &mut Vec<u8>, table: u8, id: &str, tag: &[u8]) -> Result<()> {
    let len = |n: usize| {
        u32::try_from(n)
            .map(u32::to_be_bytes)
            .map_err(|_| tampered())
    };
    buf.push(table);
    buf.extend_from_slice(&len(id.len())?);
    buf.extend_from_slice(id.as_bytes());
    buf.extend_from_slice(&len(tag.len())?);
    buf.extend_from_slice(tag);
    Ok(())
}

/// The digest of bucket `b` from its encoded entries: zero for an empty
/// bucket, else `HMAC(integrity key, "strongroom/v1/bucket-digest" ‖ u32 b ‖ entries)`.
fn bucket_digest(root: &RootKey, b: u32, entries: &[u8]) -> Result<[u8; DIGEST]> {
    if entries.is_empty() {
        return Ok([0; DIGEST]);
    }
    root.mac_integrity(&[b"strongroom/v1/bucket-digest", &b.to_be_bytes(), entries])
}

/// The digest of level-2 row `n` from its 64 bucket digests: zero when
/// they are all zero, else `HMAC(integrity key, "strongroom/v1/level2" ‖
/// u16 n ‖ digests)`.
fn l2_digest(root: &RootKey, n: usize, slots: &[u8]) -> Result<[u8; DIGEST]> {
    if slots.iter().all(|&b| b == 0) {
        return Ok([0; DIGEST]);
    }
    let n = u16::try_from(n).map_err(|_| tampered())?;
    root.mac_integrity(&[b"strongroom/v1/level2", &n.to_be_bytes(), slots])
}

/// The digest of level-1 row `m` from its 64 level-2 digests: zero when
/// they are all zero, else `HMAC(integrity key, "strongroom/v1/level1" ‖
/// u8 m ‖ digests)`.
fn l1_digest(root: &RootKey, m: usize, slots: &[u8]) -> Result<[u8; DIGEST]> {
    if slots.iter().all(|&b| b == 0) {
        return Ok([0; DIGEST]);
    }
    let m = u8::try_from(m).map_err(|_| tampered())?;
    root.mac_integrity(&[b"strongroom/v1/level1", &[m], slots])
}

/// Slot `i` (0–63) of a tree row's body.
fn slot(slots: &[u8], i: usize) -> &[u8] {
    &slots[i * DIGEST..(i + 1) * DIGEST]
}

fn set_slot(slots: &mut [u8], i: usize, d: &[u8; DIGEST]) {
    slots[i * DIGEST..(i + 1) * DIGEST].copy_from_slice(d);
}

/// How many rows each [`Table::BUCKETED`] table holds, in that order.
type Counts = [u64; 3];

/// The index of a [`Table::BUCKETED`] table in [`Counts`].
fn count_index(t: Table) -> Result<usize> {
    Table::BUCKETED
        .iter()
        .position(|b| *b == t)
        .ok_or_else(|| Error::internal("a table without an integrity state"))
}

/// The state row's contents.
#[derive(Clone)]
pub(crate) struct State {
    /// Moves on every write of the state.
    pub counter: u64,
    /// The audit checkpoint (`audit_log::StoredCheckpoint` bytes).
    pub checkpoint: [u8; CHECKPOINT_LEN],
    /// The level-1 digests.
    digests: Vec<[u8; DIGEST]>,
    /// The rows of `keys`, `aliases` and `grants` (format version 4; `None`
    /// in the state of a format 2 or 3 keystore, which never has a write
    /// made on it).
    counts: Option<Counts>,
    /// The anchor ID of an anchored keystore (`None`: not anchored).
    pub anchor: Option<[u8; ANCHOR_ID_LEN]>,
}

impl State {
    /// A keystore with no rows and this checkpoint.
    pub(crate) fn empty(checkpoint: [u8; CHECKPOINT_LEN]) -> Self {
        State {
            counter: 0,
            checkpoint,
            digests: vec![[0; DIGEST]; L1_ROWS],
            counts: Some([0; 3]),
            anchor: None,
        }
    }

    fn body(&self) -> Result<Vec<u8>> {
        let counts = self.counts.ok_or_else(tampered)?;
        let mut b = Vec::with_capacity(STATE_LEN + ANCHOR_ID_LEN);
        b.push(if self.anchor.is_some() {
            STATE_VERSION_ANCHORED
        } else {
            STATE_VERSION
        });
        b.extend_from_slice(&self.counter.to_be_bytes());
        b.extend_from_slice(&self.checkpoint);
        for d in &self.digests {
            b.extend_from_slice(d);
        }
        for c in counts {
            b.extend_from_slice(&c.to_be_bytes());
        }
        if let Some(id) = &self.anchor {
            b.extend_from_slice(id);
        }
        Ok(b)
    }

    /// The state of format version 4 (anchored or not), or with `format_3`
    /// that of format version 2 or 3 (no counts).
    fn parse(b: &[u8], format_3: bool) -> Option<Self> {
        let anchored = !format_3 && b.first() == Some(&STATE_VERSION_ANCHORED);
        let (len, version) = if format_3 {
            (STATE_LEN_3, STATE_VERSION_3)
        } else if anchored {
            (STATE_LEN + ANCHOR_ID_LEN, STATE_VERSION_ANCHORED)
        } else {
            (STATE_LEN, STATE_VERSION)
        };
        if b.len() != len || b[0] != version {
            return None;
        }
        let anchor = if anchored {
            Some(b[STATE_LEN..].try_into().ok()?)
        } else {
            None
        };
        let counter = u64::from_be_bytes(b[1..9].try_into().ok()?);
        let checkpoint = b[9..9 + CHECKPOINT_LEN].try_into().ok()?;
        let digests = b[9 + CHECKPOINT_LEN..STATE_LEN_3]
            .chunks_exact(DIGEST)
            .map(|c| c.try_into().ok())
            .collect::<Option<Vec<_>>>()?;
        let counts = if format_3 {
            None
        } else {
            let mut counts = [0; 3];
            for (c, bytes) in counts
                .iter_mut()
                .zip(b[STATE_LEN_3..STATE_LEN].chunks_exact(8))
            {
                *c = u64::from_be_bytes(bytes.try_into().ok()?);
            }
            Some(counts)
        };
        Some(State {
            counter,
            checkpoint,
            digests,
            counts,
            anchor,
        })
    }

    /// A fingerprint of the rows (the level-1 digests only: the checkpoint
    /// and counter do not move it), for the record cache.
    pub(crate) fn rows_fingerprint(&self) -> [u8; 32] {
        let d = DigestAlgorithm::Sha256.digest(self.digests.as_flattened());
        let mut out = [0; 32];
        out.copy_from_slice(&d[..32]);
        out
    }

    /// SHA-256 of the state row's body (version, counter, checkpoint,
    /// level-1 digests, row counts): what the process-wide highest state
    /// and the anchor (`crate::anchor`) hold of it.
    pub(crate) fn digest(&self) -> Result<[u8; 32]> {
        let d = DigestAlgorithm::Sha256.digest(&self.body()?);
        let mut out = [0; 32];
        out.copy_from_slice(&d[..32]);
        Ok(out)
    }

    /// The state row, MAC'd: tag = `HMAC(integrity key, "strongroom/v1/state" ‖ body)`.
    pub(crate) fn row(&self, root: &RootKey) -> Result<Row> {
        let body = self.body()?;
        let tag = root.mac_integrity(&[b"strongroom/v1/state", &body])?;
        Ok(Row {
            id: META_STATE.into(),
            body,
            tag: tag.to_vec(),
        })
    }
}

/// The state row, authenticated; `None` if there is none (a keystore of
/// format version 1, before migration). Of format version 4, or with
/// `format_3` of format version 2 or 3 (for the migration).
fn try_read_state(tx: &mut dyn Tx, root: &RootKey, format_3: bool) -> Result<Option<State>> {
    let Some(row) = tx.get(Table::Meta, META_STATE)? else {
        return Ok(None);
    };
    let tag = root.mac_integrity(&[b"strongroom/v1/state", &row.body])?;
    if !crate::subtle_eq(&tag, &row.tag) {
        return Err(tampered());
    }
    State::parse(&row.body, format_3)
        .map(Some)
        .ok_or_else(tampered)
}

/// [`State::rows_fingerprint`] of the stored state row, without checking
/// its MAC (for the record cache, which only needs to see it move; the
/// state is checked by every write and on open).
///
/// Why no MAC check (review 5b, finding 7): the fingerprint decides only
/// whether the record cache keeps what it holds, and cached records were
/// each checked by their own MAC when read. A moved fingerprint makes the
/// handle re-read rows, each checked by its own MAC again. A fingerprint
/// that stays put keeps records that were authentic. A MAC check would not
/// take either lever away from someone who can write the file: an older,
/// authentic state row moves the fingerprint (or keeps it) just as a forged
/// one does. What makes a rolled-back row harmless is elsewhere: a write
/// checks the bucket of every row it reads or changes (so a stale record
/// cannot decide a write), and open checks everything. Reads outside a
/// write trust each row's own MAC; that is the documented limit
/// (`docs/FORMAT.md`, "Known limits of record authentication").
pub(crate) fn rows_fingerprint(tx: &mut dyn Tx) -> Result<[u8; 32]> {
    tx.get(Table::Meta, META_STATE)?
        .and_then(|r| State::parse(&r.body, false))
        .map(|s| s.rows_fingerprint())
        .ok_or_else(tampered)
}

/// The state row, authenticated.
pub(crate) fn read_state(tx: &mut dyn Tx, root: &RootKey) -> Result<State> {
    try_read_state(tx, root, false)?.ok_or_else(tampered)
}

/// The audit checkpoint the state holds.
pub(crate) fn read_checkpoint(tx: &mut dyn Tx, root: &RootKey) -> Result<[u8; CHECKPOINT_LEN]> {
    Ok(read_state(tx, root)?.checkpoint)
}

/// The audit checkpoint and counter of the state of a keystore of format
/// version 2 or 3, after checking that state as [`verify_all`] does (for
/// the migration).
///
/// # Errors
/// `KMSInternalException` if anything differs.
pub(crate) fn verify_format_3(
    tx: &mut dyn Tx,
    root: &RootKey,
) -> Result<([u8; CHECKPOINT_LEN], u64)> {
    let state = try_read_state(tx, root, true)?.ok_or_else(tampered)?;
    verify_tree(tx, root, &state)?;
    Ok((state.checkpoint, state.counter))
}

/// Stores a new audit checkpoint in the state (counter moved). Fails
/// closed (`KMSInternalException`, nothing written) unless `checkpoint`'s
/// record count is at least the stored one's, and the whole checkpoint
/// equal to it when the count is the same (a higher count may come with a
/// shorter log: a rotation started a new file): a checkpoint only ever moves forward
/// along the chain (a stale copy of it must not cut records off), and
/// unless `check` takes the stored state (the caller's rollback checks,
/// `crate::anchor::StateGuard::check`). Returns the state written.
pub(crate) fn put_checkpoint(
    tx: &mut dyn Tx,
    root: &RootKey,
    checkpoint: [u8; CHECKPOINT_LEN],
    check: &mut dyn FnMut(&State) -> Result<()>,
) -> Result<State> {
    let mut state = read_state(tx, root)?;
    check(&state)?;
    if !checkpoint_not_older(&checkpoint, &state.checkpoint) {
        return Err(Error::internal(
            "the audit checkpoint to store is older than the stored one; retry",
        ));
    }
    state.checkpoint = checkpoint;
    state.counter = state.counter.wrapping_add(1);
    tx.put(Table::Meta, &state.row(root)?)?;
    Ok(state)
}

/// Whether stored checkpoint `new` (`docs/FORMAT.md`: record count, chain
/// value, log length) is `old` or extends it: count not lower, and the
/// same bytes when the count is the same (the log length of a higher count
/// may be lower: the log was rotated).
fn checkpoint_not_older(new: &[u8; CHECKPOINT_LEN], old: &[u8; CHECKPOINT_LEN]) -> bool {
    let field = |b: &[u8; CHECKPOINT_LEN], at: usize| {
        let mut n = [0u8; 8];
        n.copy_from_slice(&b[at..at + 8]);
        u64::from_be_bytes(n)
    };
    let count = |b| field(b, 0);
    // More records may lie in a shorter file: a rotation (`docs/FORMAT.md`,
    // "Audit log rotation and archives") starts a new file.
    match count(new).cmp(&count(old)) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => new == old,
        std::cmp::Ordering::Greater => true,
    }
}

/// The whole tree recomputed from the rows (by their recorded buckets):
/// the non-zero level-2 and level-1 rows (by index) and the state's
/// level-1 digests.
struct Tree {
    l2: BTreeMap<usize, Vec<u8>>,
    l1: BTreeMap<usize, Vec<u8>>,
    digests: Vec<[u8; DIGEST]>,
    counts: Counts,
}

fn compute_tree(tx: &mut dyn Tx, root: &RootKey) -> Result<Tree> {
    // Every row's encoded entry in one buffer, indexed by (bucket, table
    // byte, range): each table is visited in (bucket, id) order, so a
    // stable sort by (bucket, table byte) gives each bucket's entries in
    // their order, MAC'd in place (no allocation per bucket).
    let mut arena = Vec::new();
    let mut index: Vec<(u32, u8, usize, usize)> = Vec::new();
    let mut counts = [0; 3];
    for (table, count) in Table::BUCKETED.into_iter().zip(&mut counts) {
        let t = table_byte(table);
        tx.for_each_in_buckets(table, &mut |bucket, id, tag| {
            *count += 1;
            // A row no listing returns (`id > ''`) was never written.
            if id.is_empty() {
                return Err(tampered());
            }
            let b = u32::try_from(bucket)
                .ok()
                .filter(|b| *b < BUCKETS)
                .ok_or_else(tampered)?;
            let start = arena.len();
            push_entry(&mut arena, t, id, tag)?;
            index.push((b, t, start, arena.len()));
            Ok(())
        })?;
    }
    index.sort_by_key(|&(b, t, _, _)| (b, t));
    let mut l2: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    for run in index.chunk_by(|x, y| x.0 == y.0) {
        let b = run[0].0;
        let b_bytes = b.to_be_bytes();
        // `bucket_digest` over the run's entries (never empty).
        let mut parts: Vec<&[u8]> = Vec::with_capacity(2 + run.len());
        parts.push(b"strongroom/v1/bucket-digest");
        parts.push(&b_bytes);
        parts.extend(run.iter().map(|&(_, _, s, e)| &arena[s..e]));
        let d = root.mac_integrity(&parts)?;
        let b = b as usize;
        let slots = l2.entry(b / FANOUT).or_insert_with(|| vec![0; SLOTS_LEN]);
        set_slot(slots, b % FANOUT, &d);
    }
    let mut l1: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    for (n, s) in &l2 {
        let d = l2_digest(root, *n, s)?;
        let slots = l1.entry(n / FANOUT).or_insert_with(|| vec![0; SLOTS_LEN]);
        set_slot(slots, n % FANOUT, &d);
    }
    let mut digests = vec![[0; DIGEST]; L1_ROWS];
    for (m, s) in &l1 {
        digests[*m] = l1_digest(root, *m, s)?;
    }
    Ok(Tree {
        l2,
        l1,
        digests,
        counts,
    })
}

/// The stored tree rows whose IDs start with `prefix`, by ID.
fn stored_rows(tx: &mut dyn Tx, prefix: &str) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut after = prefix.to_owned();
    loop {
        let rows = tx.list(Table::Meta, Some(&after), 1000)?;
        let full = rows.len() == 1000;
        for r in rows {
            if !r.id.starts_with(prefix) {
                return Ok(out);
            }
            after.clone_from(&r.id);
            out.insert(r.id, r.body);
        }
        if !full {
            return Ok(out);
        }
    }
}

/// Whether the stored rows of one level are exactly `computed` (indexes to
/// bodies; a stored all-zero row stands for an absent one).
fn level_matches(
    stored: &BTreeMap<String, Vec<u8>>,
    computed: &BTreeMap<usize, Vec<u8>>,
    id: fn(usize) -> String,
) -> bool {
    let mut seen = 0;
    for (i, body) in computed {
        match stored.get(&id(*i)) {
            Some(s) if s == body => seen += 1,
            _ => return false,
        }
    }
    stored.len() - seen
        == stored
            .values()
            .filter(|s| s.len() == SLOTS_LEN && s.iter().all(|&b| b == 0))
            .count()
}

/// Recomputes the whole integrity state from the rows and checks it
/// against the state row and the tree rows (run on open). Returns the
/// state.
///
/// # Errors
/// `KMSInternalException` if anything differs.
pub(crate) fn verify_all(tx: &mut dyn Tx, root: &RootKey) -> Result<State> {
    let state = read_state(tx, root)?;
    verify_tree(tx, root, &state)?;
    Ok(state)
}

/// A state row older than one a running handle has seen (its counter
/// lower): an older authentic state put back under it.
pub(crate) fn rolled_back() -> Error {
    tampered()
}

/// Recomputes the tree and the row counts and checks them against `state`
/// (its counts when it has them) and the stored tree rows.
fn verify_tree(tx: &mut dyn Tx, root: &RootKey, state: &State) -> Result<()> {
    tx.check_schema()?;
    let tree = compute_tree(tx, root)?;
    let mut ok = state.counts.is_none_or(|c| c == tree.counts);
    for (d, s) in tree.digests.iter().zip(&state.digests) {
        ok &= crate::subtle_eq(d, s);
    }
    if !ok
        || !level_matches(&stored_rows(tx, L1_PREFIX)?, &tree.l1, l1_row_id)
        || !level_matches(&stored_rows(tx, L2_PREFIX)?, &tree.l2, l2_row_id)
    {
        return Err(tampered());
    }
    Ok(())
}

/// Writes the integrity state of the rows as they are (by their recorded
/// buckets), with `checkpoint`, `counter` and the anchor ID `anchor`
/// (`None`: not anchored): for an imported keystore and for the migration
/// from an older format version. Returns the state written.
pub(crate) fn rebuild(
    tx: &mut dyn Tx,
    root: &RootKey,
    checkpoint: [u8; CHECKPOINT_LEN],
    counter: u64,
    anchor: Option<[u8; ANCHOR_ID_LEN]>,
) -> Result<State> {
    let tree = compute_tree(tx, root)?;
    for prefix in [L1_PREFIX, L2_PREFIX] {
        for id in stored_rows(tx, prefix)?.into_keys() {
            tx.delete(Table::Meta, &id)?;
        }
    }
    for (rows, id) in [
        (&tree.l1, l1_row_id as fn(usize) -> String),
        (&tree.l2, l2_row_id),
    ] {
        for (i, body) in rows {
            write_tree_row(tx, id(*i), body)?;
        }
    }
    let mut state = State::empty(checkpoint);
    state.counter = counter;
    state.digests = tree.digests;
    state.counts = Some(tree.counts);
    state.anchor = anchor;
    tx.put(Table::Meta, &state.row(root)?)?;
    Ok(state)
}

/// The stored body of tree row `id` (all zero when there is none).
fn read_tree_row(tx: &mut dyn Tx, id: &str) -> Result<Vec<u8>> {
    match tx.get(Table::Meta, id)? {
        Some(r) if r.body.len() == SLOTS_LEN => Ok(r.body),
        Some(_) => Err(tampered()),
        None => Ok(vec![0; SLOTS_LEN]),
    }
}

fn write_tree_row(tx: &mut dyn Tx, id: String, slots: &[u8]) -> Result<()> {
    tx.put(
        Table::Meta,
        &Row {
            id,
            body: slots.to_vec(),
            tag: Vec::new(),
        },
    )
}

/// A bucket's rows as this transaction leaves them: `(table byte, id)` → tag.
type Bucket = BTreeMap<(u8, String), Vec<u8>>;

/// A bucket's entries, in (table byte, id bytes) order (the map's order).
fn encode(rows: &Bucket) -> Result<Vec<u8>> {
    let mut entries = Vec::new();
    for ((t, id), tag) in rows {
        push_entry(&mut entries, *t, id, tag)?;
    }
    Ok(entries)
}

/// Stores `anchor` as the state's anchor ID (counter moved; the change
/// of anchoring, `docs/FORMAT.md`, "Anchored keystores"), after `check`
/// takes the stored state (the caller's rollback checks). Returns the
/// state written.
pub(crate) fn put_anchor(
    tx: &mut dyn Tx,
    root: &RootKey,
    anchor: Option<[u8; ANCHOR_ID_LEN]>,
    check: &mut dyn FnMut(&mut State) -> Result<()>,
) -> Result<State> {
    let mut state = read_state(tx, root)?;
    check(&mut state)?;
    state.anchor = anchor;
    state.counter = state.counter.wrapping_add(1);
    tx.put(Table::Meta, &state.row(root)?)?;
    Ok(state)
}

/// A write transaction that keeps the integrity state current: every get,
/// list, put or delete of a key, alias or grant row first loads and checks
/// the row's bucket (its rows against its stored digest, its level-2 row
/// against its level-1 row, that against the state; a row read must be in
/// it as read), and [`finish`](Self::finish) rewrites the digests of the
/// buckets touched, the tree rows above them and the state.
///
/// Listings are complete, not only authentic. The first
/// [`list`](Tx::list) of a table in a write checks the file's schema
/// ([`Tx::check_schema`]: no view or trigger) and reads the table itself,
/// every row with no condition on its id ([`Tx::for_each_row_id`]): each
/// id must be non-empty text, strictly above the one before, and its
/// `(id, tag)` in its bucket; their number must be the count the state
/// holds (kept current by this transaction's puts and deletes). Those
/// distinct rows, all covered by the state and as many as it covers, are
/// then exactly its rows: the transaction keeps them (updated by its own
/// puts and deletes), and every page a caller lists must be exactly the
/// next rows of that set, so what the caller reads is the set, whatever
/// the database's listing returns. [`list_range`](Tx::list_range) takes a
/// key's grant range only, whose rows all lie in one bucket (see
/// [`bucket_of`]), and must return exactly that bucket's rows of the
/// range. A row deleted from the file under a running process (alone, or
/// with a row the listing cannot return in its place, or behind a view) is
/// then `KMSInternalException` too, as one put back is.
pub(crate) struct IntegrityTx<'a> {
    inner: &'a mut dyn Tx,
    root: &'a RootKey,
    state: State,
    /// Checked level-1 rows, by index.
    l1: BTreeMap<usize, Vec<u8>>,
    /// Checked level-2 rows, by index.
    l2: BTreeMap<usize, Vec<u8>>,
    buckets: BTreeMap<u32, Bucket>,
    touched: BTreeSet<u32>,
    /// A `meta` row (other than the state's) was written or deleted, or
    /// the checkpoint set: the state is rewritten even with no bucket
    /// touched.
    moved: bool,
    /// The IDs of the keys whose key or grant rows were written or deleted.
    keys: BTreeSet<String>,
    /// The IDs of the keys whose key row this transaction deleted (purges).
    deleted_keys: BTreeSet<String>,
    /// The tables whose row count in the file was checked (by
    /// [`count_index`]).
    counted: [bool; 3],
    /// The checked rows (id → tag) of each table listed whole, as this
    /// transaction leaves them (by [`count_index`]).
    listed: [Option<BTreeMap<String, Vec<u8>>>; 3],
    /// Whether the file's schema was checked.
    schema_checked: bool,
}

impl<'a> IntegrityTx<'a> {
    /// Over `inner`, whose state row (authenticated) is `state`.
    pub(crate) fn new(inner: &'a mut dyn Tx, root: &'a RootKey, state: State) -> Self {
        IntegrityTx {
            inner,
            root,
            state,
            l1: BTreeMap::new(),
            l2: BTreeMap::new(),
            buckets: BTreeMap::new(),
            touched: BTreeSet::new(),
            moved: false,
            keys: BTreeSet::new(),
            deleted_keys: BTreeSet::new(),
            counted: [false; 3],
            listed: [None, None, None],
            schema_checked: false,
        }
    }

    /// The rows of `table` as this transaction leaves them, read and
    /// checked whole once ([`IntegrityTx`], "Listings are complete").
    fn listed(&mut self, table: Table) -> Result<&BTreeMap<String, Vec<u8>>> {
        let i = count_index(table)?;
        if self.listed[i].is_none() {
            if !self.schema_checked {
                self.inner.check_schema()?;
                self.schema_checked = true;
            }
            let mut rows: Vec<(String, Vec<u8>)> = Vec::new();
            let mut listable = true;
            self.inner.for_each_row_id(table, &mut |id, tag| {
                match id {
                    Some(id) if rows.last().is_none_or(|(last, _)| last.as_str() < id) => {
                        rows.push((id.to_owned(), tag.to_vec()));
                    }
                    _ => listable = false,
                }
                Ok(())
            })?;
            if !listable || u64::try_from(rows.len()).ok() != Some(*self.count_mut(table)?) {
                return Err(tampered());
            }
            for (id, tag) in &rows {
                self.check_read(table, id, Some(tag))?;
            }
            self.listed[i] = Some(rows.into_iter().collect());
        }
        self.listed[i].as_ref().ok_or_else(tampered)
    }

    /// The count of `table`'s rows as this transaction leaves them.
    fn count_mut(&mut self, table: Table) -> Result<&mut u64> {
        let i = count_index(table)?;
        self.state
            .counts
            .as_mut()
            .map(|c| &mut c[i])
            .ok_or_else(tampered)
    }

    /// Once per transaction and table: the file holds as many rows of
    /// `table` as the state counts (with this transaction's changes).
    fn check_count(&mut self, table: Table) -> Result<()> {
        let i = count_index(table)?;
        if self.counted[i] {
            return Ok(());
        }
        let in_file = self.inner.count(table)?;
        if in_file != *self.count_mut(table)? {
            return Err(tampered());
        }
        self.counted[i] = true;
        Ok(())
    }

    /// Whether this transaction changed any row so far.
    pub(crate) fn changes(&self) -> bool {
        self.moved || !self.touched.is_empty()
    }

    /// The IDs of the keys whose key or grant rows this transaction wrote
    /// or deleted so far, in ascending order.
    pub(crate) fn written_keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(String::as_str)
    }

    /// The IDs of the keys whose key row this transaction deleted so far
    /// (purged keys), in ascending order.
    pub(crate) fn deleted_keys(&self) -> impl Iterator<Item = &str> {
        self.deleted_keys.iter().map(String::as_str)
    }

    /// Notes the key a written or deleted key or grant row belongs to.
    fn note_key(&mut self, table: Table, id: &str) {
        let key = match table {
            Table::Keys => Some(id),
            // `<key ID>/<grant ID>`
            Table::Grants => id.split('/').next(),
            Table::Meta | Table::Aliases => None,
        };
        if let Some(k) = key.filter(|k| !self.keys.contains(*k)) {
            self.keys.insert(k.to_owned());
        }
    }

    /// The audit checkpoint of the state this transaction will write.
    pub(crate) fn checkpoint(&self) -> [u8; CHECKPOINT_LEN] {
        self.state.checkpoint
    }

    /// Sets the audit checkpoint of the state this transaction writes (the
    /// one covering the intent record of its change).
    pub(crate) fn set_checkpoint(&mut self, checkpoint: [u8; CHECKPOINT_LEN]) {
        self.state.checkpoint = checkpoint;
        self.moved = true;
    }

    /// The checked rows of bucket `b`.
    fn bucket(&mut self, b: u32) -> Result<&mut Bucket> {
        if !self.buckets.contains_key(&b) {
            let n = b as usize / FANOUT;
            let m = n / FANOUT;
            if !self.l1.contains_key(&m) {
                let slots = read_tree_row(self.inner, &l1_row_id(m))?;
                let d = l1_digest(self.root, m, &slots)?;
                if !crate::subtle_eq(&d, &self.state.digests[m]) {
                    return Err(tampered());
                }
                self.l1.insert(m, slots);
            }
            if !self.l2.contains_key(&n) {
                let slots = read_tree_row(self.inner, &l2_row_id(n))?;
                let d = l2_digest(self.root, n, &slots)?;
                let parent = self.l1.get(&m).ok_or_else(tampered)?;
                if !crate::subtle_eq(&d, slot(parent, n % FANOUT)) {
                    return Err(tampered());
                }
                self.l2.insert(n, slots);
            }
            let rows: Bucket = self
                .inner
                .list_bucket(b)?
                .into_iter()
                .map(|(table, id, tag)| ((table_byte(table), id), tag))
                .collect();
            let d = bucket_digest(self.root, b, &encode(&rows)?)?;
            let parent = self.l2.get(&n).ok_or_else(tampered)?;
            if !crate::subtle_eq(&d, slot(parent, b as usize % FANOUT)) {
                return Err(tampered());
            }
            self.buckets.insert(b, rows);
        }
        self.buckets.get_mut(&b).ok_or_else(tampered)
    }

    /// Rewrites the digests of the buckets touched, the level-2 and level-1
    /// rows above them and the state (nothing if no key, alias or grant row
    /// changed). Returns the state written, `None` if nothing was.
    pub(crate) fn finish(self) -> Result<Option<State>> {
        if !self.changes() {
            return Ok(None);
        }
        let IntegrityTx {
            inner,
            root,
            mut state,
            mut l1,
            mut l2,
            buckets,
            touched,
            moved: _,
            keys: _,
            deleted_keys: _,
            counted: _,
            listed: _,
            schema_checked: _,
        } = self;
        let mut changed_l2 = BTreeSet::new();
        for b in touched {
            let rows = buckets.get(&b).ok_or_else(tampered)?;
            let d = bucket_digest(root, b, &encode(rows)?)?;
            let n = b as usize / FANOUT;
            set_slot(
                l2.get_mut(&n).ok_or_else(tampered)?,
                b as usize % FANOUT,
                &d,
            );
            changed_l2.insert(n);
        }
        let mut changed_l1 = BTreeSet::new();
        for n in changed_l2 {
            let slots = l2.get(&n).ok_or_else(tampered)?;
            let d = l2_digest(root, n, slots)?;
            write_tree_row(inner, l2_row_id(n), slots)?;
            let m = n / FANOUT;
            set_slot(l1.get_mut(&m).ok_or_else(tampered)?, n % FANOUT, &d);
            changed_l1.insert(m);
        }
        for m in changed_l1 {
            let slots = l1.get(&m).ok_or_else(tampered)?;
            state.digests[m] = l1_digest(root, m, slots)?;
            write_tree_row(inner, l1_row_id(m), slots)?;
        }
        state.counter = state.counter.wrapping_add(1);
        inner.put(Table::Meta, &state.row(root)?)?;
        Ok(Some(state))
    }
}

impl IntegrityTx<'_> {
    /// Checks a key, alias or grant row read inside this write against its
    /// bucket, as a put or delete would: the bucket is loaded and checked up
    /// to the state, and must hold `(table, id)` with exactly this tag, or
    /// not hold it when the row is absent (`tag` `None`). So an older
    /// authentic row put back, or a row deleted, under a running process
    /// cannot decide a write (authorize a grant, say) whose result the
    /// integrity state would then cover.
    fn check_read(&mut self, table: Table, id: &str, tag: Option<&[u8]>) -> Result<()> {
        let b = bucket_of(self.root, table, id)?;
        let held = self.bucket(b)?.get(&(table_byte(table), id.to_owned()));
        match (held, tag) {
            (Some(h), Some(t)) if crate::subtle_eq(h, t) => Ok(()),
            (None, None) => Ok(()),
            _ => Err(tampered()),
        }
    }
}

impl Tx for IntegrityTx<'_> {
    fn get(&mut self, table: Table, id: &str) -> Result<Option<Row>> {
        let row = self.inner.get(table, id)?;
        if table != Table::Meta {
            self.check_read(table, id, row.as_ref().map(|r| r.tag.as_slice()))?;
        }
        Ok(row)
    }
    /// Exactly the next rows of the table's checked rows ([`IntegrityTx`],
    /// "Listings are complete").
    fn list(&mut self, table: Table, after: Option<&str>, limit: usize) -> Result<Vec<Row>> {
        if table == Table::Meta {
            return self.inner.list(table, after, limit);
        }
        let rows = self.inner.list(table, after, limit)?;
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut held = self
            .listed(table)?
            .range::<str, _>((lower, Bound::Unbounded))
            .take(limit);
        for r in &rows {
            match held.next() {
                Some((id, tag)) if r.id == *id && crate::subtle_eq(&r.tag, tag) => {}
                _ => return Err(tampered()),
            }
        }
        if held.next().is_none() {
            Ok(rows)
        } else {
            Err(tampered())
        }
    }
    /// A key's grants only (after `<key ID>/` or one of its grants, before
    /// `<key ID>0`): the rows must be exactly those of the range in the
    /// bucket of the key's grants.
    fn list_range(
        &mut self,
        table: Table,
        after: &str,
        before: &str,
        limit: usize,
    ) -> Result<Vec<Row>> {
        let key = before.strip_suffix('0').filter(|k| {
            table == Table::Grants
                && !k.is_empty()
                && !k.contains('/')
                && after
                    .strip_prefix(*k)
                    .is_some_and(|rest| rest.starts_with('/'))
        });
        let Some(key) = key else {
            return Err(Error::internal(
                "a range listing inside a write is one key's grants",
            ));
        };
        let rows = self.inner.list_range(table, after, before, limit)?;
        let b = bucket_of(self.root, Table::Grants, key)?;
        let t = table_byte(table);
        let lower = (t, after.to_owned());
        let upper = (t, before.to_owned());
        let held = self
            .bucket(b)?
            .range((Bound::Excluded(&lower), Bound::Excluded(&upper)))
            .take(limit);
        let mut n = 0;
        for ((_, id), tag) in held {
            match rows.get(n) {
                Some(r) if r.id == *id && crate::subtle_eq(&r.tag, tag) => n += 1,
                _ => return Err(tampered()),
            }
        }
        if n == rows.len() {
            Ok(rows)
        } else {
            Err(tampered())
        }
    }
    fn put(&mut self, table: Table, row: &Row) -> Result<()> {
        if table == Table::Meta {
            if row.id == META_STATE || row.id.starts_with("state/") {
                return Err(Error::internal(
                    "the integrity state is written by its own layer",
                ));
            }
            self.moved = true;
            return self.inner.put(table, row);
        }
        let b = bucket_of(self.root, table, &row.id)?;
        let added = self
            .bucket(b)?
            .insert((table_byte(table), row.id.clone()), row.tag.clone())
            .is_none();
        if added {
            *self.count_mut(table)? += 1;
        }
        if let Some(rows) = &mut self.listed[count_index(table)?] {
            rows.insert(row.id.clone(), row.tag.clone());
        }
        self.touched.insert(b);
        self.note_key(table, &row.id);
        self.inner.put_in_bucket(table, row, b)
    }
    fn delete(&mut self, table: Table, id: &str) -> Result<()> {
        if table == Table::Meta {
            self.moved = true;
            return self.inner.delete(table, id);
        }
        let b = bucket_of(self.root, table, id)?;
        if self
            .bucket(b)?
            .remove(&(table_byte(table), id.to_owned()))
            .is_some()
        {
            let count = self.count_mut(table)?;
            *count = count.checked_sub(1).ok_or_else(tampered)?;
            self.touched.insert(b);
            self.note_key(table, id);
            if table == Table::Keys {
                self.deleted_keys.insert(id.to_owned());
            }
        }
        if let Some(rows) = &mut self.listed[count_index(table)?] {
            rows.remove(id);
        }
        self.inner.delete(table, id)
    }
    fn count(&mut self, table: Table) -> Result<u64> {
        if table != Table::Meta {
            self.check_count(table)?;
        }
        self.inner.count(table)
    }
    fn for_each_tag(
        &mut self,
        table: Table,
        f: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
    ) -> Result<()> {
        self.inner.for_each_tag(table, f)
    }
    fn put_in_bucket(&mut self, table: Table, row: &Row, _bucket: u32) -> Result<()> {
        // The bucket is this layer's to choose.
        self.put(table, row)
    }
    fn list_bucket(&mut self, bucket: u32) -> Result<Vec<(Table, String, Vec<u8>)>> {
        self.inner.list_bucket(bucket)
    }
    fn for_each_in_buckets(&mut self, table: Table, f: &mut BucketVisitor<'_>) -> Result<()> {
        self.inner.for_each_in_buckets(table, f)
    }
    fn add_bucket_columns(&mut self) -> Result<()> {
        Err(Error::internal(
            "the bucket columns are added by the migration",
        ))
    }
    fn create_old_tables(&mut self) -> Result<()> {
        Err(Error::internal("the old tables are made by the migration"))
    }
}

/// Rewrites the state row as keystore format versions 2 and 3 wrote it (no
/// row counts), for tests of the migration.
#[cfg(test)]
pub(crate) fn write_format_3_state(tx: &mut dyn Tx, root: &RootKey) -> Result<()> {
    let row = tx.get(Table::Meta, META_STATE)?.ok_or_else(tampered)?;
    let mut body = row.body.get(..STATE_LEN_3).ok_or_else(tampered)?.to_vec();
    body[0] = STATE_VERSION_3;
    let tag = root
        .mac_integrity(&[b"strongroom/v1/state", &body])?
        .to_vec();
    tx.put(
        Table::Meta,
        &Row {
            id: META_STATE.into(),
            body,
            tag,
        },
    )
}

/// Keystores of format version 1 kept `meta/digest`: the XOR of the tags of
/// every key, alias and grant row, under the record MAC (kind `meta`, id
/// `digest`). Checked once, before the migration to the integrity state.
pub(crate) fn verify_v1_digest(tx: &mut dyn Tx, root: &RootKey) -> Result<()> {
    let bad = || {
        crate::auth_failed(
            "the keystore digest (a key, alias or grant row was added, deleted or rolled back)",
        )
    };
    let row = tx.get(Table::Meta, META_V1_DIGEST)?.ok_or_else(bad)?;
    if row.body.len() != DIGEST
        || !root.verify_record(b"meta", META_V1_DIGEST.as_bytes(), &row.body, &row.tag)
    {
        return Err(bad());
    }
    let mut acc = [0u8; DIGEST];
    for table in Table::BUCKETED {
        tx.for_each_tag(table, &mut |_, tag| {
            for (a, t) in acc.iter_mut().zip(tag) {
                *a ^= t;
            }
            Ok(())
        })?;
    }
    if crate::subtle_eq(&acc, &row.body) {
        Ok(())
    } else {
        Err(bad())
    }
}

/// The format version 1 digest row's ID in `meta` (deleted by the migration).
pub(crate) const META_V1_DIGEST: &str = "digest";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::{SqliteStorage, Storage};
    use crate::{CreateOptions, Keystore, RootKeySource, Secret};

    const ROOT: [u8; 32] = [0x5a; 32];

    /// Intent review, finding 4: a checkpoint older than the stored one (a
    /// stale cached copy: lower count, or the same count with another
    /// chain) is refused, nothing written; the stored one and a later one
    /// are taken.
    #[test]
    fn put_checkpoint_refuses_an_older_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ks.db");
        let ks = Keystore::create(
            &path,
            RootKeySource::Bytes(Secret::from_slice(&ROOT)),
            CreateOptions::default(),
        )
        .unwrap();
        let first = ks
            .create_key(&crate::api::CreateKeyRequest::default())
            .unwrap();
        let root = RootKey::from_bytes(&ROOT).unwrap();
        let storage = SqliteStorage::open(&path, false).unwrap();
        let read = || {
            let mut cp = [0u8; CHECKPOINT_LEN];
            storage
                .read(&mut |tx| {
                    cp = read_checkpoint(tx, &root)?;
                    Ok(())
                })
                .unwrap();
            cp
        };
        let older = read();
        ks.describe_key(&first.key_metadata.key_id).unwrap();
        ks.flush_audit_log().unwrap();
        let current = read();
        assert_ne!(older, current);
        let put = |cp: [u8; CHECKPOINT_LEN]| {
            storage.write(&mut |tx| put_checkpoint(tx, &root, cp, &mut |_| Ok(())).map(|_| ()))
        };
        let err = put(older).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::KMSInternalException);
        let mut forked = current;
        forked[10] ^= 1;
        assert!(put(forked).is_err());
        let mut shorter = current;
        shorter[CHECKPOINT_LEN - 1] = shorter[CHECKPOINT_LEN - 1].wrapping_sub(1);
        assert!(put(shorter).is_err());
        assert_eq!(read(), current, "nothing written");
        put(current).unwrap();
        ks.describe_key(&first.key_metadata.key_id).unwrap();
        ks.flush_audit_log().unwrap();
        assert_eq!(ks.verify_audit_log().unwrap().fault, None);
    }
}
