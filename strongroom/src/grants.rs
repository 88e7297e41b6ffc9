//! Key policy and grant operations of [`Keystore`].

use serde_json::json;
use strongroom_core::api::*;
use strongroom_core::audit::RequestParameters;
use strongroom_core::grant::{
    account_root_arn, grant_id_from_token, grant_token, is_retiring_principal, may_retire,
    new_grant_id, validate_grant_id, Grant,
};
use strongroom_core::key::KeyState;
use strongroom_core::policy::{
    default_key_policy, lockout_check, Policy, PolicyRequest, DEFAULT_POLICY_NAME,
};
use strongroom_core::{EncryptionContext, Error, ErrorKind, Result};

use crate::access::{grant_row_id, Call};
use crate::store::Table;
use crate::{os_rng, Keystore};

/// The most grants one key may have (the KMS quota).
pub const MAX_GRANTS_PER_KEY: usize = 50_000;

fn check_policy_name(name: Option<&str>) -> Result<()> {
    match name {
        None => Ok(()),
        Some(DEFAULT_POLICY_NAME) => Ok(()),
        Some(other) => Err(Error::not_found(format!(
            "No such policy exists: {other} (the only key policy name is \"default\")"
        ))),
    }
}

fn grant_not_found(grant_id: &str) -> Error {
    Error::not_found(format!("Grant {grant_id} does not exist"))
}

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
        let params = RequestParameters {
            policy_name: Some(
                req.policy_name
                    .clone()
                    .unwrap_or_else(|| DEFAULT_POLICY_NAME.into()),
            ),
            policy: Some(req.policy.clone()),
            bypass_policy_lockout_safety_check: Some(req.bypass_policy_lockout_safety_check),
            ..key_params(&req.key_id)
        };
        self.call("PutKeyPolicy", params, |call| {
            check_policy_name(req.policy_name.as_deref())?;
            let policy = Policy::parse(&req.policy)?;
            let bypass = req.bypass_policy_lockout_safety_check;
            let principal = self.principal().to_owned();
            self.modify_authorized(
                call,
                "PutKeyPolicy",
                &req.key_id,
                |r| r.with("kms:BypassPolicyLockoutSafetyCheck", bypass),
                |_, r| {
                    if r.state == KeyState::PendingDeletion {
                        return Err(Error::new(
                            ErrorKind::KMSInvalidStateException,
                            format!("{} is pending deletion", r.arn),
                        ));
                    }
                    if !bypass {
                        lockout_check(&policy, &principal, &r.arn)?;
                    }
                    r.policy = Some(req.policy.clone());
                    Ok(())
                },
            )
        })
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
        let params = RequestParameters {
            policy_name: Some(policy_name.unwrap_or(DEFAULT_POLICY_NAME).into()),
            ..key_params(key_id)
        };
        self.call("GetKeyPolicy", params, |call| {
            check_policy_name(policy_name)?;
            let rec = self.load_authorized(call, "GetKeyPolicy", key_id, |r| r)?;
            Ok(GetKeyPolicyResponse {
                policy: rec
                    .policy
                    .unwrap_or_else(|| default_key_policy(self.admin_principal())),
                policy_name: DEFAULT_POLICY_NAME.into(),
            })
        })
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
        let params = RequestParameters {
            limit,
            marker: marker.map(Into::into),
            ..key_params(key_id)
        };
        self.call("ListKeyPolicies", params, |call| {
            self.load_authorized(call, "ListKeyPolicies", key_id, |r| r)?;
            let (policy_names, next_marker) =
                crate::paginate_index(vec![DEFAULT_POLICY_NAME.to_owned()], limit, marker)?;
            Ok(ListKeyPoliciesResponse {
                policy_names,
                truncated: next_marker.is_some(),
                next_marker,
            })
        })
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
        let params = RequestParameters {
            grantee_principal: Some(req.grantee_principal.clone()),
            retiring_principal: req.retiring_principal.clone(),
            operations: Some(
                req.operations
                    .iter()
                    .map(|o| o.as_str().to_owned())
                    .collect(),
            ),
            constraints: req.constraints.clone(),
            name: req.name.clone(),
            ..key_params(&req.key_id)
        };
        self.call("CreateGrant", params, |call| {
            let out = self.create_grant_inner(call, req)?;
            call.response = json!({ "grantId": out.grant_id });
            Ok(out)
        })
    }

    fn create_grant_inner(
        &self,
        call: &mut Call,
        req: &CreateGrantRequest,
    ) -> Result<CreateGrantResponse> {
        self.check_grant_tokens(&req.grant_tokens)?;
        let rec = self.load(&req.key_id)?;
        let (constraint_type, constraint_ctx) = match &req.constraints {
            Some(c) => match (&c.encryption_context_equals, &c.encryption_context_subset) {
                (Some(e), _) => (Some("EncryptionContextEquals"), e.clone()),
                (None, Some(s)) => (Some("EncryptionContextSubset"), s.clone()),
                (None, None) => (None, EncryptionContext::default()),
            },
            None => (None, EncryptionContext::default()),
        };
        let operations: Vec<String> = req
            .operations
            .iter()
            .map(|o| o.as_str().to_owned())
            .collect();
        let via_grants = self.authorize_via(
            call,
            "CreateGrant",
            &rec,
            &req.key_id,
            &constraint_ctx,
            |r: PolicyRequest<'_>| {
                let mut r = r
                    .with("kms:GrantOperations", operations.clone())
                    .with("kms:GranteePrincipal", req.grantee_principal.as_str())
                    .with("kms:GrantIsForAWSResource", false)
                    .with_encryption_context(&constraint_ctx);
                if let Some(p) = &req.retiring_principal {
                    r.set("kms:RetiringPrincipal", p.as_str());
                }
                if let Some(t) = constraint_type {
                    r.set("kms:GrantConstraintType", t);
                }
                r
            },
        )?;
        if let Some(parents) = via_grants {
            // A grantee allowed CreateGrant by a grant may only pass on
            // operations that grant has (KMS: the same or fewer permissions).
            let narrower = parents
                .iter()
                .any(|p| req.operations.iter().all(|o| p.has_operation(*o)));
            if !narrower {
                return Err(Error::new(
                    ErrorKind::AccessDeniedException,
                    format!(
                        "User: {} is not authorized to perform: kms:CreateGrant on resource: {} because the grant that allows CreateGrant does not include every requested operation",
                        self.principal(),
                        rec.arn
                    ),
                ));
            }
        }
        if rec.state == KeyState::PendingDeletion {
            return Err(Error::new(
                ErrorKind::KMSInvalidStateException,
                format!("{} is pending deletion", rec.arn),
            ));
        }
        let mut random = [0u8; 32];
        rand_core::Rng::fill_bytes(&mut os_rng(), &mut random);
        let grant = Grant {
            key_id: rec.arn.clone(),
            grant_id: new_grant_id(&random),
            name: req.name.clone(),
            creation_date: self.inner.clock.now(),
            grantee_principal: req.grantee_principal.clone(),
            retiring_principal: req.retiring_principal.clone(),
            issuing_account: account_root_arn(self.account()),
            operations: req.operations.clone(),
            constraints: req.constraints.clone(),
        };
        grant.validate()?;
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
                return Err(Error::new(
                    ErrorKind::LimitExceededException,
                    format!("key {} already has {MAX_GRANTS_PER_KEY} grants", rec.arn),
                ));
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
        let params = RequestParameters {
            grant_id: req.grant_id.clone(),
            grantee_principal: req.grantee_principal.clone(),
            limit: req.limit,
            marker: req.marker.clone(),
            ..key_params(&req.key_id)
        };
        self.call("ListGrants", params, |call| {
            if let Some(g) = &req.grant_id {
                validate_grant_id(g)?;
            }
            let rec = self.load_authorized(call, "ListGrants", &req.key_id, |r| r)?;
            let all: Vec<Grant> = self
                .grants_of(&rec.key_id)?
                .into_iter()
                .filter(|g| req.grant_id.as_ref().is_none_or(|id| *id == g.grant_id))
                .filter(|g| {
                    req.grantee_principal
                        .as_ref()
                        .is_none_or(|p| *p == g.grantee_principal)
                })
                .collect();
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
        let params = RequestParameters {
            retiring_principal: Some(retiring_principal.into()),
            limit,
            marker: marker.map(Into::into),
            ..Default::default()
        };
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
        let params = RequestParameters {
            key_id: req.key_id.clone(),
            grant_id: req.grant_id.clone(),
            ..Default::default()
        };
        self.call("RetireGrant", params, |call| {
            let grant_id = match (&req.grant_token, &req.grant_id) {
                (Some(t), _) => {
                    let from_token = grant_id_from_token(self.inner.root.grant_token_key(), t)?;
                    if req.grant_id.as_ref().is_some_and(|g| *g != from_token) {
                        return Err(Error::validation(
                            "GrantId does not match the grant named by GrantToken",
                        ));
                    }
                    from_token
                }
                (None, Some(g)) if req.key_id.is_some() => g.clone(),
                _ => {
                    return Err(Error::validation(
                        "RetireGrant needs GrantToken, or KeyId and GrantId",
                    ))
                }
            };
            validate_grant_id(&grant_id)?;
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
                call.resources.push(rec.arn.clone());
            } else {
                self.authorize(
                    call,
                    "RetireGrant",
                    &rec,
                    req.key_id.as_deref().unwrap_or(&key_id),
                    &EncryptionContext::default(),
                    |r| r,
                )?;
            }
            self.delete_grant(&key_id, &grant_id)
        })
    }

    /// RevokeGrant: deletes a grant of the key; authorized by the key policy
    /// (`kms:RevokeGrant`).
    ///
    /// # Errors
    /// `InvalidGrantIdException`, `NotFoundException`, `AccessDeniedException`.
    pub fn revoke_grant(&self, key_id: &str, grant_id: &str) -> Result<()> {
        let params = RequestParameters {
            grant_id: Some(grant_id.into()),
            ..key_params(key_id)
        };
        self.call("RevokeGrant", params, |call| {
            validate_grant_id(grant_id)?;
            let rec = self.load_authorized(call, "RevokeGrant", key_id, |r| r)?;
            self.delete_grant(&rec.key_id, grant_id)
        })
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

fn key_params(key_id: &str) -> RequestParameters {
    RequestParameters {
        key_id: Some(key_id.into()),
        ..Default::default()
    }
}
