//! Key policy and grant operations of [`Keystore`].

use serde_json::json;
use strongroom_core::api::*;
use strongroom_core::audit::RequestParameters;
use strongroom_core::grant::{
    grant_token, is_retiring_principal, may_retire, validate_grant_id, Grant,
};
use strongroom_core::key::KeyState;
use strongroom_core::service::{self, KeyService};
use strongroom_core::{EncryptionContext, Error, ErrorKind, Result};

use crate::access::{grant_row_id, Call};
use crate::store::Table;
use crate::{os_rng, Keystore};

pub use strongroom_core::access::MAX_GRANTS_PER_KEY;

use strongroom_core::access::{self, grant_not_found};

/// Pages a list by index with KMS's grant limits (1–100, default 50).
fn page<T>(
    all: Vec<T>,
    limit: Option<u32>,
    marker: Option<&str>,
) -> Result<(Vec<T>, Option<String>)> {
    strongroom_core::paging::paginate_index_within(
        all,
        limit,
        marker,
        strongroom_core::paging::LIST_GRANTS,
    )
}

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

    /// The grant key of this keystore, for tests and tools that mint or read
    /// grant tokens: not exposed; tokens come from [`create_grant`](Self::create_grant).
    fn token_for(&self, grant_id: &str) -> Result<String> {
        grant_token(self.inner.root.grant_token_key(), grant_id)
    }

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
        self.call(
            "CreateGrant",
            RequestParameters::create_grant(req),
            |call| {
                let out = self.create_grant_inner(call, req)?;
                call.response = json!({ "grantId": out.grant_id });
                Ok(out)
            },
        )
    }

    fn create_grant_inner(
        &self,
        call: &mut Call,
        req: &CreateGrantRequest,
    ) -> Result<CreateGrantResponse> {
        self.check_grant_tokens(&req.grant_tokens)?;
        let rec = self.load(&req.key_id)?;
        let (_, constraint_ctx) = access::grant_constraint(req);
        let via_grants = service::authorize(
            &crate::access::Service(self),
            call,
            "CreateGrant",
            &rec,
            &req.key_id,
            &constraint_ctx,
            &|r| access::create_grant_conditions(r, req),
        )?;
        if let Some(parents) = via_grants {
            access::check_grant_narrower(&parents, req, self.principal(), &rec.arn)?;
        }
        if rec.state == KeyState::PendingDeletion {
            return Err(Error::new(
                ErrorKind::KMSInvalidStateException,
                format!("{} is pending deletion", rec.arn),
            ));
        }
        let mut random = [0u8; 32];
        rand_core::Rng::fill_bytes(&mut os_rng(), &mut random);
        let grant = access::new_grant(
            req,
            &rec.arn,
            self.account(),
            self.inner.clock.now(),
            &random,
        )?;
        let mut grant_id = grant.grant_id.clone();
        self.write(&mut |tx| {
            let existing = self.grants_in(tx, &rec.key_id)?;
            if grant.name.is_some() {
                if let Some(g) = existing.iter().find(|g| g.same_parameters(&grant)) {
                    grant_id = g.grant_id.clone();
                    return Ok(());
                }
            }
            if existing.len() >= MAX_GRANTS_PER_KEY {
                return Err(access::too_many_grants(&rec.arn));
            }
            grant_id = grant.grant_id.clone();
            self.stop_if_dry_run()?;
            tx.put(Table::Grants, &self.grant_row(&rec.key_id, &grant)?)
        })?;
        Ok(CreateGrantResponse {
            grant_token: self.token_for(&grant_id)?,
            grant_id,
        })
    }

    /// ListGrants: the grants of a key (optionally one grant ID or one
    /// grantee principal); `limit` 1–100 (default 50).
    ///
    /// # Errors
    /// `NotFoundException`, `AccessDeniedException`, `ValidationException`,
    /// `InvalidMarkerException`, `InvalidGrantIdException`.
    pub fn list_grants(&self, req: &ListGrantsRequest) -> Result<ListGrantsResponse> {
        self.call("ListGrants", RequestParameters::list_grants(req), |call| {
            if let Some(g) = &req.grant_id {
                validate_grant_id(g)?;
            }
            let rec = crate::access::Service(self).load_authorized(
                call,
                "ListGrants",
                &req.key_id,
                &|r| r,
            )?;
            let all = access::select_grants(self.grants_of(&rec.key_id)?, req);
            let (grants, next_marker) = page(all, req.limit, req.marker.as_deref())?;
            Ok(ListGrantsResponse {
                grants,
                truncated: next_marker.is_some(),
                next_marker,
            })
        })
    }

    /// Every grant of the keystore, in key then grant ID order.
    fn all_grants(&self) -> Result<Vec<(String, Grant)>> {
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
        let params = RequestParameters::list_retirable_grants(retiring_principal, limit, marker);
        self.call("ListRetirableGrants", params, |_| {
            if retiring_principal.is_empty() {
                return Err(Error::validation("RetiringPrincipal must not be empty"));
            }
            let all: Vec<Grant> = self
                .all_grants()?
                .into_iter()
                .map(|(_, g)| g)
                .filter(|g| is_retiring_principal(g, retiring_principal))
                .collect();
            let (grants, next_marker) = page(all, limit, marker)?;
            Ok(ListGrantsResponse {
                grants,
                truncated: next_marker.is_some(),
                next_marker,
            })
        })
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
        self.call(
            "RetireGrant",
            RequestParameters::retire_grant(req),
            |call| {
                let grant_id = access::retire_grant_id(self.inner.root.grant_token_key(), req)?;
                call.params.grant_id = Some(grant_id.clone());
                let (key_id, grant) = match &req.key_id {
                    Some(k) => {
                        let rec = self.load(k)?;
                        let g = self
                            .grants_of(&rec.key_id)?
                            .into_iter()
                            .find(|g| g.grant_id == grant_id)
                            .ok_or_else(|| grant_not_found(&grant_id))?;
                        (rec.key_id, g)
                    }
                    None => self
                        .all_grants()?
                        .into_iter()
                        .find(|(_, g)| g.grant_id == grant_id)
                        .ok_or_else(|| grant_not_found(&grant_id))?,
                };
                let rec = self.load(&key_id)?;
                if may_retire(&grant, self.principal()) {
                    call.touch(&rec.arn);
                } else {
                    service::authorize(
                        &crate::access::Service(self),
                        call,
                        "RetireGrant",
                        &rec,
                        req.key_id.as_deref().unwrap_or(&key_id),
                        &EncryptionContext::default(),
                        &|r| r,
                    )?;
                }
                self.delete_grant(&key_id, &grant_id)
            },
        )
    }

    /// RevokeGrant: deletes a grant of the key; authorized by the key policy
    /// (`kms:RevokeGrant`).
    ///
    /// # Errors
    /// `InvalidGrantIdException`, `NotFoundException`, `AccessDeniedException`.
    pub fn revoke_grant(&self, key_id: &str, grant_id: &str) -> Result<()> {
        self.call(
            "RevokeGrant",
            RequestParameters::revoke_grant(key_id, grant_id),
            |call| {
                validate_grant_id(grant_id)?;
                let rec = crate::access::Service(self).load_authorized(
                    call,
                    "RevokeGrant",
                    key_id,
                    &|r| r,
                )?;
                self.delete_grant(&rec.key_id, grant_id)
            },
        )
    }

    fn delete_grant(&self, key_id: &str, grant_id: &str) -> Result<()> {
        let id = grant_row_id(key_id, grant_id);
        self.write(&mut |tx| {
            if tx.get(Table::Grants, &id)?.is_none() {
                return Err(grant_not_found(grant_id));
            }
            self.stop_if_dry_run()?;
            tx.delete(Table::Grants, &id)
        })
    }
}
