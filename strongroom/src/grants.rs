//! Key policy and grant operations of [`Keystore`].

use strongroom_core::api::*;
use strongroom_core::grant::Grant;
use strongroom_core::service;
use strongroom_core::Result;

use crate::access::grant_row_id;
use crate::store::Table;
use crate::Keystore;

use strongroom_core::access::grant_not_found;

impl Keystore {
    // ---- key policies ------------------------------------------------------

    /// PutKeyPolicy: replaces the key's policy (name `default`). Unless
    /// `BypassPolicyLockoutSafetyCheck` is set, the new policy must still let
    /// the caller call `PutKeyPolicy`.
    ///
    /// # Errors
    /// `MalformedPolicyDocumentException` (invalid document, over 32 KiB, or
    /// the lockout safety check), `NotFoundException` (key, or a policy name
    /// other than `default`), `AccessDeniedException`, `KMSInvalidStateException`.
    pub fn put_key_policy(&self, req: &PutKeyPolicyRequest) -> Result<()> {
        strongroom_core::service::put_key_policy(&mut crate::access::Service(self), req)
    }

    /// GetKeyPolicy: the key's policy document, or the default key policy
    /// when none was set. `policy_name` must be `default` when given.
    ///
    /// # Errors
    /// `NotFoundException`, `AccessDeniedException`.
    pub fn get_key_policy(
        &self,
        key_id: &str,
        policy_name: Option<&str>,
    ) -> Result<GetKeyPolicyResponse> {
        strongroom_core::service::get_key_policy(
            &mut crate::access::Service(self),
            key_id,
            policy_name,
        )
    }

    /// ListKeyPolicies: always `["default"]`; `limit` 1–1000.
    ///
    /// # Errors
    /// `NotFoundException`, `AccessDeniedException`, `ValidationException`.
    pub fn list_key_policies(
        &self,
        key_id: &str,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<ListKeyPoliciesResponse> {
        strongroom_core::service::list_key_policies(
            &mut crate::access::Service(self),
            key_id,
            limit,
            marker,
        )
    }

    // ---- grants --------------------------------------------------------------

    /// CreateGrant: allows `GranteePrincipal` the `Operations` on the key,
    /// optionally only with an encryption context that equals or contains
    /// the constraint's. With a `Name` already used by a grant of this key
    /// with the same parameters, returns that grant's ID (and a fresh token)
    /// instead of creating another. The returned grant token works at once.
    ///
    /// # Errors
    /// `ValidationException` (see [`Grant::validate`]), `NotFoundException`,
    /// `AccessDeniedException`, `KMSInvalidStateException` (key pending
    /// deletion), `InvalidGrantTokenException`, `LimitExceededException`
    /// (50,000 grants per key).
    pub fn create_grant(&self, req: &CreateGrantRequest) -> Result<CreateGrantResponse> {
        service::create_grant(&mut crate::access::Service(self), req)
    }

    /// ListGrants: the grants of a key (optionally one grant ID or one
    /// grantee principal); `limit` 1–100 (default 50).
    ///
    /// # Errors
    /// `NotFoundException`, `AccessDeniedException`, `ValidationException`,
    /// `InvalidMarkerException`, `InvalidGrantIdException`.
    pub fn list_grants(&self, req: &ListGrantsRequest) -> Result<ListGrantsResponse> {
        service::list_grants(&mut crate::access::Service(self), req)
    }

    /// Every grant of the keystore, in key then grant ID order.
    pub(crate) fn all_grants(&self) -> Result<Vec<(String, Grant)>> {
        let mut out = Vec::new();
        self.inner.storage.read(&mut |tx| {
            out.clear();
            let mut after: Option<String> = None;
            loop {
                let rows = tx.list(Table::Grants, after.as_deref(), 1000)?;
                let Some(last) = rows.last() else { break };
                after = Some(last.id.clone());
                for row in &rows {
                    let key_id = row.id.split('/').next().unwrap_or_default().to_owned();
                    out.push((key_id, self.parse_grant_row(row)?));
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// ListRetirableGrants: the grants whose retiring principal is
    /// `retiring_principal`, across keys; `limit` 1–100 (default 50).
    /// Allowed for every principal (IAM-only in AWS KMS) and audited.
    ///
    /// # Errors
    /// `ValidationException`, `InvalidMarkerException`.
    pub fn list_retirable_grants(
        &self,
        retiring_principal: &str,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<ListGrantsResponse> {
        service::list_retirable_grants(
            &mut crate::access::Service(self),
            retiring_principal,
            limit,
            marker,
        )
    }

    /// RetireGrant: deletes a grant named by its token, or by key ID and
    /// grant ID. Allowed for the grant's retiring principal, its grantee when
    /// the grant includes `RetireGrant`, the issuing account's root, or a
    /// principal the key policy allows `kms:RetireGrant`.
    ///
    /// # Errors
    /// `InvalidGrantTokenException`, `InvalidGrantIdException`,
    /// `ValidationException` (neither token nor key and grant ID),
    /// `NotFoundException`, `AccessDeniedException`.
    pub fn retire_grant(&self, req: &RetireGrantRequest) -> Result<()> {
        service::retire_grant(&mut crate::access::Service(self), req)
    }

    /// RevokeGrant: deletes a grant of the key; authorized by the key policy
    /// (`kms:RevokeGrant`).
    ///
    /// # Errors
    /// `InvalidGrantIdException`, `NotFoundException`, `AccessDeniedException`.
    pub fn revoke_grant(&self, key_id: &str, grant_id: &str) -> Result<()> {
        service::revoke_grant(&mut crate::access::Service(self), key_id, grant_id)
    }

    /// Deletes the grant `grant_id` of the key `key_id` in one write with
    /// `check` on the key record as stored then (see
    /// [`KeyService::delete_grant`](strongroom_core::service::KeyService::delete_grant)).
    pub(crate) fn delete_grant(
        &self,
        key_id: &str,
        grant_id: &str,
        check: &strongroom_core::service::WriteCheck<'_>,
    ) -> Result<()> {
        let id = grant_row_id(key_id, grant_id);
        self.write(&mut |tx| {
            let rec = tx
                .get(Table::Keys, key_id)?
                .map(|r| self.parse_key_row(&r))
                .transpose()?
                .ok_or_else(|| self.not_found(key_id))?;
            check(&rec, &crate::access::TxReads::new(self, &mut *tx))?;
            if tx.get(Table::Grants, &id)?.is_none() {
                return Err(grant_not_found(grant_id));
            }
            self.stop_if_dry_run()?;
            tx.delete(Table::Grants, &id)
        })
    }
}
