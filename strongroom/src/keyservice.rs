//! The keystore as a [`KeyService`] ([`Service`]): the primitives the operation flows of
//! [`strongroom_core::service`] run on (cached key records, the clock, the
//! OS CSPRNG and the audited [`Keystore::call`]).

use std::sync::Arc;

use strongroom_core::access::Call;
use strongroom_core::audit::RequestParameters;
use strongroom_core::grant::Grant;
use strongroom_core::key::{AliasRecord, KeyRecord};
use strongroom_core::ops::Env;
use strongroom_core::service::{
    AliasCheck, GrantCheck, InWrite, KeyService, LoadedKey, WriteCheck,
};

use crate::access::{Service, TxReads};
use crate::cache::CachedKey;
use crate::store::Table;
use crate::{os_rng, OsRng, Result};

/// A key record shared with the record cache.
pub(crate) struct SharedKey(Arc<CachedKey>);

impl std::ops::Deref for SharedKey {
    type Target = KeyRecord;
    fn deref(&self) -> &KeyRecord {
        &self.0.rec
    }
}

impl LoadedKey for SharedKey {
    type PublicKey = Arc<[u8]>;
    /// Derived once per cached record ([`CachedKey::public_key`]).
    fn public_key(&self, env: &Env<'_>) -> Result<Arc<[u8]>> {
        self.0.public_key(env)
    }
}

impl KeyService for Service<'_> {
    type Access<'s>
        = Service<'s>
    where
        Self: 's;
    type Key = SharedKey;
    type Rng = OsRng;

    fn access(&self) -> Service<'_> {
        *self
    }

    fn grant_token_key(&self) -> &[u8] {
        self.0.inner.root.grant_token_key()
    }

    fn admin_principal(&self) -> &str {
        self.0.admin_principal()
    }

    fn read_alias(&mut self, alias_name: &str) -> Result<Option<AliasRecord>> {
        self.0.read_alias(alias_name)
    }

    fn key_page(&mut self, after: Option<&str>, count: usize) -> Result<Vec<KeyRecord>> {
        let ks = self.0;
        let mut out = Vec::new();
        ks.inner.storage.read(&mut |tx| {
            out = tx
                .list(Table::Keys, after, count)?
                .iter()
                .map(|row| ks.parse_key_row(row))
                .collect::<Result<_>>()?;
            Ok(())
        })?;
        Ok(out)
    }

    /// Reads `count` rows, or 1000 at a time until `count` match a target.
    fn alias_page(
        &mut self,
        after: Option<&str>,
        count: usize,
        target_key_id: Option<&str>,
    ) -> Result<Vec<AliasRecord>> {
        let chunk = if target_key_id.is_some() { 1000 } else { count };
        let ks = self.0;
        let mut out = Vec::new();
        ks.inner.storage.read(&mut |tx| {
            out.clear();
            let mut from = after.map(str::to_owned);
            while out.len() < count {
                let rows = tx.list(Table::Aliases, from.as_deref(), chunk)?;
                for row in &rows {
                    let a = ks.parse_alias_row(row)?;
                    if target_key_id.is_none_or(|t| t == a.target_key_id) {
                        out.push(a);
                        if out.len() == count {
                            return Ok(());
                        }
                    }
                }
                match rows.last() {
                    Some(last) if rows.len() == chunk => from = Some(last.id.clone()),
                    _ => break,
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn write_alias(
        &mut self,
        alias_name: &str,
        target_key_id: &str,
        mut f: impl FnMut(
            &KeyRecord,
            Option<AliasRecord>,
            Option<&KeyRecord>,
            &dyn InWrite,
        ) -> Result<AliasRecord>,
    ) -> Result<()> {
        let ks = self.0;
        let ident = ks.parse_ident(target_key_id)?;
        ks.write(&mut |tx| {
            let rec = ks
                .load_in(tx, target_key_id, &ident)?
                .ok_or_else(|| ks.not_found(target_key_id))?;
            let existing = tx
                .get(Table::Aliases, alias_name)?
                .map(|r| ks.parse_alias_row(&r))
                .transpose()?;
            let old_target = match &existing {
                Some(a) => tx
                    .get(Table::Keys, &a.target_key_id)?
                    .map(|r| ks.parse_key_row(&r))
                    .transpose()?,
                None => None,
            };
            let record = f(
                &rec,
                existing,
                old_target.as_ref(),
                &TxReads::new(ks, &mut *tx),
            )?;
            tx.put(Table::Aliases, &ks.alias_row(&record)?)
        })
    }

    fn delete_alias(&mut self, alias_name: &str, check: &AliasCheck<'_>) -> Result<()> {
        let ks = self.0;
        ks.write(&mut |tx| {
            let now = tx
                .get(Table::Aliases, alias_name)?
                .map(|r| ks.parse_alias_row(&r))
                .transpose()?;
            let target = match &now {
                Some(a) => tx
                    .get(Table::Keys, &a.target_key_id)?
                    .map(|r| ks.parse_key_row(&r))
                    .transpose()?,
                None => None,
            };
            check(now.as_ref(), target.as_ref(), &TxReads::new(ks, &mut *tx))?;
            tx.delete(Table::Aliases, alias_name)
        })
    }

    fn all_grants(&mut self) -> Result<Vec<(String, Grant)>> {
        self.0.all_grants()
    }

    fn add_grant(
        &mut self,
        key_id: &str,
        grant: &Grant,
        existing: &GrantCheck<'_>,
    ) -> Result<String> {
        let ks = self.0;
        let mut grant_id = grant.grant_id.clone();
        ks.write(&mut |tx| {
            let rec = tx
                .get(Table::Keys, key_id)?
                .map(|r| ks.parse_key_row(&r))
                .transpose()?
                .ok_or_else(|| ks.not_found(key_id))?;
            if let Some(id) = existing(&rec, &TxReads::new(ks, &mut *tx))? {
                grant_id = id;
                return Ok(());
            }
            grant_id = grant.grant_id.clone();
            ks.stop_if_dry_run()?;
            tx.put(Table::Grants, &ks.grant_row(key_id, grant)?)
        })?;
        Ok(grant_id)
    }

    fn delete_grant(&mut self, key_id: &str, grant_id: &str, check: &WriteCheck<'_>) -> Result<()> {
        self.0.delete_grant(key_id, grant_id, check)
    }

    fn insert_key(&mut self, rec: KeyRecord) -> Result<()> {
        let row = self.0.key_row(&rec)?;
        self.0.write(&mut |tx| tx.put(Table::Keys, &row))
    }

    fn modify<T: Clone>(
        &mut self,
        key_id: &str,
        check: &WriteCheck<'_>,
        mut f: impl FnMut(&Env<'_>, &mut OsRng, &mut KeyRecord) -> Result<T>,
    ) -> Result<T> {
        self.0
            .modify(key_id, check, |env, r| f(env, &mut os_rng(), r))
    }

    fn load(&mut self, key_id: &str) -> Result<SharedKey> {
        self.0.load_shared(key_id).map(SharedKey)
    }

    fn with_env<T>(&mut self, f: impl FnOnce(&Env<'_>, &mut OsRng) -> T) -> T {
        f(&self.0.env(), &mut os_rng())
    }

    fn with_rng<T>(&mut self, f: impl FnOnce(&mut OsRng) -> T) -> T {
        f(&mut os_rng())
    }

    fn call<T>(
        &mut self,
        op: &str,
        params: RequestParameters,
        f: impl FnOnce(&mut Self, &mut Call) -> Result<T>,
    ) -> Result<T> {
        let ks = self.0;
        ks.call(op, params, |call| f(self, call))
    }
}
