//! The keystore as a [`KeyService`] ([`Service`]): the primitives the operation flows of
//! [`strongroom_core::service`] run on (cached key records, the clock, the
//! OS CSPRNG and the audited [`Keystore::call`]).

use std::sync::Arc;

use strongroom_core::access::Call;
use strongroom_core::audit::RequestParameters;
use strongroom_core::key::KeyRecord;
use strongroom_core::ops::Env;
use strongroom_core::service::{KeyService, LoadedKey};

use crate::access::Service;
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

    fn insert_key(&mut self, rec: KeyRecord) -> Result<()> {
        let row = self.0.key_row(&rec)?;
        self.0.write(&mut |tx| tx.put(Table::Keys, &row))
    }

    fn modify<T: Clone>(
        &mut self,
        key_id: &str,
        mut f: impl FnMut(&Env<'_>, &mut OsRng, &mut KeyRecord) -> Result<T>,
    ) -> Result<T> {
        self.0.modify(key_id, |env, r| f(env, &mut os_rng(), r))
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
