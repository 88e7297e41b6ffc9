//! The keystore integrity state (`docs/FORMAT.md`, "Keystore integrity
//! state"): what makes a key, alias or grant row added, deleted or rolled
//! back to an older authentic version detectable, together with the audit
//! checkpoint.
//!
//! Every key, alias and grant row belongs to one of [`BUCKETS`] buckets,
//! chosen by a MAC of its table and ID under the root key's integrity
//! sub-key. A bucket's digest is an HMAC over the sorted `(table, id, tag)`
//! of its rows; [`GROUP_SIZE`] bucket digests make a group row
//! (`meta/state/<g>`), whose HMAC is the group digest; the state row
//! (`meta/state`) holds a write counter, the audit checkpoint and every
//! group digest, under one more HMAC. An attacker without the root key sees
//! every tag and digest but cannot compute a MAC over a combination that
//! Strongroom did not write, so any mix of old and current rows, group rows
//! or checkpoint fails; only the whole file put back to an earlier state
//! passes (the documented limit).
//!
//! A write transaction ([`IntegrityTx`]) reads and checks the buckets it
//! touches (their rows against their stored digests, the group rows against
//! the state), then rewrites their digests, their group rows and the state:
//! its cost depends on the size of a bucket (rows / 4096), not on the
//! number of rows. [`verify_all`] recomputes everything (on open).

use std::collections::{BTreeMap, BTreeSet};

use strongroom_core::crypto::DigestAlgorithm;
use strongroom_core::seal::RootKey;
use strongroom_core::{Error, Result};

use crate::store::{BucketVisitor, Row, Table, Tx};

/// Buckets of the integrity state.
pub(crate) const BUCKETS: u16 = 4096;
/// Buckets per group row.
pub(crate) const GROUP_SIZE: usize = 64;
/// Group rows (and group digests in the state row).
pub(crate) const GROUPS: usize = BUCKETS as usize / GROUP_SIZE;
/// Length of the audit checkpoint the state row carries.
pub(crate) const CHECKPOINT_LEN: usize = 48;
/// The state row's ID in `meta`.
pub(crate) const META_STATE: &str = "state";
/// Version byte of the state row.
const STATE_VERSION: u8 = 1;
const DIGEST: usize = 32;
const STATE_LEN: usize = 1 + 8 + CHECKPOINT_LEN + GROUPS * DIGEST;

/// The state row's ID of group `g` in `meta`.
fn group_row_id(g: usize) -> String {
    format!("state/{g:02x}")
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

/// The bucket of row `id` of `table`: the first two bytes of
/// `HMAC(integrity key, "strongroom/v1/bucket" ‖ table byte ‖ id)`, modulo
/// [`BUCKETS`].
pub(crate) fn bucket_of(root: &RootKey, table: Table, id: &str) -> Result<u16> {
    let t = root.mac_integrity(&[b"strongroom/v1/bucket", &[table_byte(table)], id.as_bytes()])?;
    Ok(u16::from_be_bytes([t[0], t[1]]) % BUCKETS)
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
/// bucket, else `HMAC(integrity key, "strongroom/v1/bucket-digest" ‖ u16 b ‖ entries)`.
fn bucket_digest(root: &RootKey, b: u16, entries: &[u8]) -> Result<[u8; DIGEST]> {
    if entries.is_empty() {
        return Ok([0; DIGEST]);
    }
    root.mac_integrity(&[b"strongroom/v1/bucket-digest", &b.to_be_bytes(), entries])
}

/// The digest of group `g` from its 64 bucket digests: zero when they are
/// all zero (every bucket empty), else `HMAC(integrity key,
/// "strongroom/v1/group" ‖ u8 g ‖ digests)`.
fn group_digest(root: &RootKey, g: usize, slots: &[u8]) -> Result<[u8; DIGEST]> {
    if slots.iter().all(|&b| b == 0) {
        return Ok([0; DIGEST]);
    }
    let g = u8::try_from(g).map_err(|_| tampered())?;
    root.mac_integrity(&[b"strongroom/v1/group", &[g], slots])
}

/// The state row's contents.
#[derive(Clone)]
pub(crate) struct State {
    /// Moves on every write of the state.
    pub counter: u64,
    /// The audit checkpoint (`audit_log::StoredCheckpoint` bytes).
    pub checkpoint: [u8; CHECKPOINT_LEN],
    groups: Vec<[u8; DIGEST]>,
}

impl State {
    /// A keystore with no rows and this checkpoint.
    pub(crate) fn empty(checkpoint: [u8; CHECKPOINT_LEN]) -> Self {
        State {
            counter: 0,
            checkpoint,
            groups: vec![[0; DIGEST]; GROUPS],
        }
    }

    fn body(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(STATE_LEN);
        b.push(STATE_VERSION);
        b.extend_from_slice(&self.counter.to_be_bytes());
        b.extend_from_slice(&self.checkpoint);
        for g in &self.groups {
            b.extend_from_slice(g);
        }
        b
    }

    fn parse(b: &[u8]) -> Option<Self> {
        if b.len() != STATE_LEN || b[0] != STATE_VERSION {
            return None;
        }
        let counter = u64::from_be_bytes(b[1..9].try_into().ok()?);
        let checkpoint = b[9..9 + CHECKPOINT_LEN].try_into().ok()?;
        let groups = b[9 + CHECKPOINT_LEN..]
            .chunks_exact(DIGEST)
            .map(|c| c.try_into().ok())
            .collect::<Option<Vec<_>>>()?;
        Some(State {
            counter,
            checkpoint,
            groups,
        })
    }

    /// A fingerprint of the rows (the group digests only: the checkpoint
    /// and counter do not move it), for the record cache.
    pub(crate) fn rows_fingerprint(&self) -> [u8; 32] {
        let d = DigestAlgorithm::Sha256.digest(self.groups.as_flattened());
        let mut out = [0; 32];
        out.copy_from_slice(&d[..32]);
        out
    }

    /// The state row, MAC'd: tag = `HMAC(integrity key, "strongroom/v1/state" ‖ body)`.
    pub(crate) fn row(&self, root: &RootKey) -> Result<Row> {
        let body = self.body();
        let tag = root.mac_integrity(&[b"strongroom/v1/state", &body])?;
        Ok(Row {
            id: META_STATE.into(),
            body,
            tag: tag.to_vec(),
        })
    }
}

/// The state row, authenticated; `None` if there is none (a keystore of
/// format version 1, before migration).
pub(crate) fn try_read_state(tx: &mut dyn Tx, root: &RootKey) -> Result<Option<State>> {
    let Some(row) = tx.get(Table::Meta, META_STATE)? else {
        return Ok(None);
    };
    let tag = root.mac_integrity(&[b"strongroom/v1/state", &row.body])?;
    if !crate::subtle_eq(&tag, &row.tag) {
        return Err(tampered());
    }
    State::parse(&row.body).map(Some).ok_or_else(tampered)
}

/// [`State::rows_fingerprint`] of the stored state row, without checking
/// its MAC (for the record cache, which only needs to see it move; the
/// state is checked by every write and on open).
pub(crate) fn rows_fingerprint(tx: &mut dyn Tx) -> Result<[u8; 32]> {
    tx.get(Table::Meta, META_STATE)?
        .and_then(|r| State::parse(&r.body))
        .map(|s| s.rows_fingerprint())
        .ok_or_else(tampered)
}

/// The state row, authenticated.
pub(crate) fn read_state(tx: &mut dyn Tx, root: &RootKey) -> Result<State> {
    try_read_state(tx, root)?.ok_or_else(tampered)
}

/// The audit checkpoint the state holds.
pub(crate) fn read_checkpoint(tx: &mut dyn Tx, root: &RootKey) -> Result<[u8; CHECKPOINT_LEN]> {
    Ok(read_state(tx, root)?.checkpoint)
}

/// Stores a new audit checkpoint in the state (counter moved).
pub(crate) fn put_checkpoint(
    tx: &mut dyn Tx,
    root: &RootKey,
    checkpoint: [u8; CHECKPOINT_LEN],
) -> Result<()> {
    let mut state = read_state(tx, root)?;
    state.checkpoint = checkpoint;
    state.counter = state.counter.wrapping_add(1);
    tx.put(Table::Meta, &state.row(root)?)
}

/// The bucket digests of every group, recomputed from the rows (by their
/// recorded buckets).
fn compute_slots(tx: &mut dyn Tx, root: &RootKey) -> Result<Vec<Vec<u8>>> {
    let mut entries: Vec<Vec<u8>> = vec![Vec::new(); usize::from(BUCKETS)];
    for table in Table::BUCKETED {
        let t = table_byte(table);
        tx.for_each_in_buckets(table, &mut |bucket, id, tag| {
            let b = usize::try_from(bucket)
                .ok()
                .filter(|b| *b < usize::from(BUCKETS))
                .ok_or_else(tampered)?;
            push_entry(&mut entries[b], t, id, tag)
        })?;
    }
    let mut slots = vec![vec![0u8; GROUP_SIZE * DIGEST]; GROUPS];
    for (b, e) in entries.iter().enumerate() {
        let d = bucket_digest(root, u16::try_from(b).map_err(|_| tampered())?, e)?;
        let (g, s) = (b / GROUP_SIZE, b % GROUP_SIZE);
        slots[g][s * DIGEST..(s + 1) * DIGEST].copy_from_slice(&d);
    }
    Ok(slots)
}

/// The stored bucket digests of group `g` (all zero when it has no row).
fn read_group(tx: &mut dyn Tx, g: usize) -> Result<Vec<u8>> {
    match tx.get(Table::Meta, &group_row_id(g))? {
        Some(r) if r.body.len() == GROUP_SIZE * DIGEST => Ok(r.body),
        Some(_) => Err(tampered()),
        None => Ok(vec![0; GROUP_SIZE * DIGEST]),
    }
}

fn write_group(tx: &mut dyn Tx, g: usize, slots: &[u8]) -> Result<()> {
    tx.put(
        Table::Meta,
        &Row {
            id: group_row_id(g),
            body: slots.to_vec(),
            tag: Vec::new(),
        },
    )
}

/// Recomputes the whole integrity state from the rows and checks it
/// against the state row and the group rows (run on open).
///
/// # Errors
/// `KMSInternalException` if anything differs.
pub(crate) fn verify_all(tx: &mut dyn Tx, root: &RootKey) -> Result<()> {
    let state = read_state(tx, root)?;
    let slots = compute_slots(tx, root)?;
    for (g, s) in slots.iter().enumerate() {
        let d = group_digest(root, g, s)?;
        if !crate::subtle_eq(&d, &state.groups[g]) || read_group(tx, g)? != *s {
            return Err(tampered());
        }
    }
    Ok(())
}

/// Writes the integrity state of the rows as they are (recording each
/// row's bucket first when `assign_buckets`), with `checkpoint`: for an
/// imported keystore and for the migration from format version 1.
pub(crate) fn rebuild(
    tx: &mut dyn Tx,
    root: &RootKey,
    checkpoint: [u8; CHECKPOINT_LEN],
    assign_buckets: bool,
) -> Result<()> {
    if assign_buckets {
        tx.add_bucket_columns()?;
        for table in Table::BUCKETED {
            let mut after: Option<String> = None;
            loop {
                let rows = tx.list(table, after.as_deref(), 1000)?;
                let Some(last) = rows.last() else { break };
                after = Some(last.id.clone());
                for r in &rows {
                    tx.put_in_bucket(table, r, bucket_of(root, table, &r.id)?)?;
                }
            }
        }
    }
    let slots = compute_slots(tx, root)?;
    let mut state = State::empty(checkpoint);
    for (g, s) in slots.iter().enumerate() {
        state.groups[g] = group_digest(root, g, s)?;
        if s.iter().any(|&b| b != 0) {
            write_group(tx, g, s)?;
        } else {
            tx.delete(Table::Meta, &group_row_id(g))?;
        }
    }
    tx.put(Table::Meta, &state.row(root)?)
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

/// A write transaction that keeps the integrity state current: every put or
/// delete of a key, alias or grant row first loads and checks the row's
/// bucket (its rows against its stored digest, its group row against the
/// state), and [`finish`](Self::finish) rewrites the digests of the buckets
/// touched, their group rows and the state.
pub(crate) struct IntegrityTx<'a> {
    inner: &'a mut dyn Tx,
    root: &'a RootKey,
    state: State,
    groups: BTreeMap<usize, Vec<u8>>,
    buckets: BTreeMap<u16, Bucket>,
    touched: BTreeSet<u16>,
}

impl<'a> IntegrityTx<'a> {
    /// Over `inner`, whose state row (authenticated) is `state`.
    pub(crate) fn new(inner: &'a mut dyn Tx, root: &'a RootKey, state: State) -> Self {
        IntegrityTx {
            inner,
            root,
            state,
            groups: BTreeMap::new(),
            buckets: BTreeMap::new(),
            touched: BTreeSet::new(),
        }
    }

    /// The checked rows of bucket `b`.
    fn bucket(&mut self, b: u16) -> Result<&mut Bucket> {
        if !self.buckets.contains_key(&b) {
            let g = usize::from(b) / GROUP_SIZE;
            if !self.groups.contains_key(&g) {
                let slots = read_group(self.inner, g)?;
                let d = group_digest(self.root, g, &slots)?;
                if !crate::subtle_eq(&d, &self.state.groups[g]) {
                    return Err(tampered());
                }
                self.groups.insert(g, slots);
            }
            let rows: Bucket = self
                .inner
                .list_bucket(b)?
                .into_iter()
                .map(|(table, id, tag)| ((table_byte(table), id), tag))
                .collect();
            let d = bucket_digest(self.root, b, &encode(&rows)?)?;
            let s = usize::from(b) % GROUP_SIZE;
            let stored = self
                .groups
                .get(&g)
                .map(|slots| &slots[s * DIGEST..(s + 1) * DIGEST]);
            if stored.is_none_or(|st| !crate::subtle_eq(&d, st)) {
                return Err(tampered());
            }
            self.buckets.insert(b, rows);
        }
        self.buckets.get_mut(&b).ok_or_else(tampered)
    }

    /// Rewrites the digests of the buckets touched, their group rows and
    /// the state (nothing if no key, alias or grant row changed). Returns
    /// whether anything was rewritten.
    pub(crate) fn finish(self) -> Result<bool> {
        if self.touched.is_empty() {
            return Ok(false);
        }
        let IntegrityTx {
            inner,
            root,
            mut state,
            mut groups,
            buckets,
            touched,
        } = self;
        let mut changed_groups = BTreeSet::new();
        for b in touched {
            let rows = buckets.get(&b).ok_or_else(tampered)?;
            let d = bucket_digest(root, b, &encode(rows)?)?;
            let (g, s) = (usize::from(b) / GROUP_SIZE, usize::from(b) % GROUP_SIZE);
            let slots = groups.get_mut(&g).ok_or_else(tampered)?;
            slots[s * DIGEST..(s + 1) * DIGEST].copy_from_slice(&d);
            changed_groups.insert(g);
        }
        for g in changed_groups {
            let slots = groups.get(&g).ok_or_else(tampered)?;
            state.groups[g] = group_digest(root, g, slots)?;
            write_group(inner, g, slots)?;
        }
        state.counter = state.counter.wrapping_add(1);
        inner.put(Table::Meta, &state.row(root)?)?;
        Ok(true)
    }
}

impl Tx for IntegrityTx<'_> {
    fn get(&mut self, table: Table, id: &str) -> Result<Option<Row>> {
        self.inner.get(table, id)
    }
    fn list(&mut self, table: Table, after: Option<&str>, limit: usize) -> Result<Vec<Row>> {
        self.inner.list(table, after, limit)
    }
    fn put(&mut self, table: Table, row: &Row) -> Result<()> {
        if table == Table::Meta {
            if row.id == META_STATE || row.id.starts_with("state/") {
                return Err(Error::internal(
                    "the integrity state is written by its own layer",
                ));
            }
            return self.inner.put(table, row);
        }
        let b = bucket_of(self.root, table, &row.id)?;
        self.bucket(b)?
            .insert((table_byte(table), row.id.clone()), row.tag.clone());
        self.touched.insert(b);
        self.inner.put_in_bucket(table, row, b)
    }
    fn delete(&mut self, table: Table, id: &str) -> Result<()> {
        if table == Table::Meta {
            return self.inner.delete(table, id);
        }
        let b = bucket_of(self.root, table, id)?;
        if self
            .bucket(b)?
            .remove(&(table_byte(table), id.to_owned()))
            .is_some()
        {
            self.touched.insert(b);
        }
        self.inner.delete(table, id)
    }
    fn for_each_tag(
        &mut self,
        table: Table,
        f: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
    ) -> Result<()> {
        self.inner.for_each_tag(table, f)
    }
    fn put_in_bucket(&mut self, table: Table, row: &Row, _bucket: u16) -> Result<()> {
        // The bucket is this layer's to choose.
        self.put(table, row)
    }
    fn list_bucket(&mut self, bucket: u16) -> Result<Vec<(Table, String, Vec<u8>)>> {
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
