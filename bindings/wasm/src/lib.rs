//! Strongroom for JavaScript (Node.js and browsers): the no_std core's
//! in-memory keystore ([`strongroom_core::memstore::MemKeystore`]) behind a
//! `Keystore` class whose methods are the KMS operations in camelCase.
//!
//! This crate converts values and errors only; every operation is the
//! core's. Randomness comes from `crypto.getRandomValues` (getrandom's
//! `wasm_js` backend), time from `Date.now()`. Errors are thrown as
//! `StrongroomError` objects whose `code` is the KMS exception name.
//!
//! The crate also compiles natively (so that the workspace builds and lints
//! as one), but its functions call JavaScript and only work in wasm32.

mod convert;
mod envelope;

use std::cell::{RefCell, RefMut};
use std::rc::Rc;

use convert::{bytes_to_js, object, response, secret_to_js, Req};
use js_sys::{Array, Object, JSON};
use rand_core::{CryptoRng, UnwrapErr};
use strongroom_core::api::*;
use strongroom_core::grant::{GrantConstraints, GrantOperation};
use strongroom_core::memstore::MemKeystore;
use strongroom_core::seal::RootKey;
use strongroom_core::{Error, Secret};
use wasm_bindgen::prelude::*;

// The JavaScript side of argument checking. Every value read from the
// caller goes through intrinsics captured here (a Proxy, an own `length`,
// a patched `getTime` cannot run code in the middle of a Rust frame, where
// an exception would unwind without releasing the keystore), and
// `guardApi` checks the handles (`this` and keyring/keystore arguments)
// before wasm-bindgen's glue sees them.
#[wasm_bindgen(inline_js = r#"
export class StrongroomError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'StrongroomError';
    this.code = code;
  }
}
export function makeStrongroomError(code, message) {
  return new StrongroomError(code, message);
}
export function strongroomErrorClass() {
  return StrongroomError;
}
const U8 = Uint8Array;
const TA = Object.getOwnPropertyDescriptors(Object.getPrototypeOf(U8.prototype));
const taTag = TA[Symbol.toStringTag].get, taBuf = TA.buffer.get, taOff = TA.byteOffset.get, taLen = TA.length.get;
const getTime = Date.prototype.getTime, hasOwn = Object.prototype.hasOwnProperty;
const isEnumerable = Object.prototype.propertyIsEnumerable, lone = /\p{Cs}/u;
export function isUint8Array(v) {
  return taTag.call(v) === 'Uint8Array';
}
export function uint8View(v) {
  if (taTag.call(v) !== 'Uint8Array') return undefined;
  const n = taLen.call(v);
  return n === 0 ? new U8(0) : new U8(taBuf.call(v), taOff.call(v), n);
}
export function wellFormedString(v) {
  return typeof v === 'string' && !lone.test(v);
}
export function ownMember(o, name) {
  return hasOwn.call(o, name) ? o[name] : undefined;
}
export function dateMs(v) {
  try { return getTime.call(v); } catch (e) { return NaN; }
}
export function contextEntries(v) {
  if (typeof v !== 'object' || v === null) return null;
  const p = Object.getPrototypeOf(v);
  if (p !== null && Object.getPrototypeOf(p) !== null) return null;
  for (const k of Reflect.ownKeys(v)) {
    if (typeof k !== 'string' || !isEnumerable.call(v, k)) return null;
  }
  return Object.entries(v);
}
export function defineOwn(o, k, v) {
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
}
export function guardApi(api) {
  const { Keystore, Keyring, MessageEncryptor, MessageDecryptor } = api;
  const named = (w, f) => Object.defineProperty(w, 'name', { value: f.name });
  const live = (v, cls, what) => {
    const fail = (m) => new StrongroomError('ValidationException', m);
    if (!(v instanceof cls)) throw fail(`${what} must be a ${cls.name}`);
    if (!v.__wbg_ptr) throw fail(`${what ? what + ': ' : ''}the ${cls.name} was freed`);
  };
  // The handles in use by calls in progress, with how many calls use each.
  // A getter of a request object runs inside a call, with the Rust objects
  // of its `this` and of its handle arguments borrowed: freeing one of those
  // would fail in wasm-bindgen's glue after the handle was already cleared,
  // leaking the object (and a keystore's root key) unzeroized. free() of
  // such a handle throws instead and the handle stays usable; any other
  // handle (even one sharing the keystore) can be freed. The map's methods
  // are bound here, so that replacing WeakMap.prototype's changes nothing.
  const inUse = new WeakMap();
  const uses = WeakMap.prototype.get.bind(inUse), setUses = WeakMap.prototype.set.bind(inUse);
  const track = (f, self, a, handle) => {
    setUses(handle, (uses(handle) || 0) + 1);
    try { return f.apply(self, a); } finally { setUses(handle, uses(handle) - 1); }
  };
  for (const cls of [Keystore, Keyring, MessageEncryptor, MessageDecryptor]) {
    const proto = cls.prototype, free = proto.free;
    const own = (self) => {
      if (!(self instanceof cls)) throw new TypeError(`Illegal invocation: not a ${cls.name}`);
    };
    const freeing = function () {
      own(this);
      if (!this.__wbg_ptr) return;
      if (uses(this) > 0) {
        throw new StrongroomError('KMSInternalException',
          `the ${cls.name} is in use by a call in progress (free() was called from inside it, ` +
          `such as from a getter of its request): it was not freed; free it after that call returns`);
      }
      free.call(this);
    };
    for (const key of Reflect.ownKeys(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, key);
      const f = d.value, g = d.get;
      if (key === 'constructor' || key === '__destroy_into_raw') continue;
      if (f === free) d.value = freeing;
      else if (typeof f === 'function') d.value = function (...a) { own(this); live(this, cls, ''); return track(f, this, a, this); };
      else if (g) d.get = function () { own(this); live(this, cls, ''); return track(g, this, [], this); };
      else continue;
      named(g ? d.get : d.value, f || g);
      Object.defineProperty(proto, key, d);
    }
  }
  const first = (obj, name, cls, what) => {
    const f = obj[name];
    obj[name] = named(function (x, ...rest) { live(x, cls, what); return track(f, this, [x, ...rest], x); }, f);
  };
  first(Keyring, 'kms', Keystore, 'keystore');
  first(Keyring, 'kmsDiscovery', Keystore, 'keystore');
  first(Keyring, 'multi', Keyring, 'generator');
  first(Keyring.prototype, 'withChild', Keyring, 'child');
  const ctor = (cls) => new Proxy(cls, {
    construct(t, args, nt) { live(args[0], Keyring, 'keyring'); return track(Reflect.construct, null, [t, args, nt], args[0]); },
  });
  const fn = (f) => named((k, ...rest) => { live(k, Keyring, 'keyring'); return track(f, null, [k, ...rest], k); }, f);
  // Classes without a public constructor: `new` gives an object with no
  // Rust value behind it, which no method could use.
  const made = (cls, how) => new Proxy(cls, {
    construct() {
      throw new TypeError(`${cls.name} has no public constructor: use ${how}`);
    },
  });
  return {
    Keystore: made(Keystore, 'Keystore.create() or Keystore.importSealed()'),
    Keyring: made(Keyring, 'Keyring.rawAes(), Keyring.rawRsa(), Keyring.kms(), Keyring.kmsDiscovery() or Keyring.multi()'),
    MessageEncryptor: ctor(MessageEncryptor), MessageDecryptor: ctor(MessageDecryptor),
    encryptMessage: fn(api.encryptMessage), decryptMessage: fn(api.decryptMessage),
    StrongroomError,
  };
}
"#)]
extern "C" {
    /// Whether `v` is a `Uint8Array` (by its internal slot: not fooled by
    /// a Proxy or an own `length`).
    #[wasm_bindgen(js_name = isUint8Array)]
    pub(crate) fn is_uint8array(v: &JsValue) -> bool;
    /// A fresh `Uint8Array` on the bytes of `v`, made with the intrinsic
    /// accessors, or `undefined` when `v` is not a `Uint8Array`.
    #[wasm_bindgen(js_name = uint8View)]
    pub(crate) fn uint8_view(v: &JsValue) -> JsValue;
    /// Whether `v` is a string without unpaired surrogates (which would
    /// become U+FFFD in Rust, making two different strings equal).
    #[wasm_bindgen(js_name = wellFormedString)]
    pub(crate) fn well_formed_string(v: &JsValue) -> bool;
    /// `o[name]` if `o` has it as an own property, else `undefined` (so
    /// that members inherited from a polluted prototype are not read).
    #[wasm_bindgen(catch, js_name = ownMember)]
    pub(crate) fn own_member(o: &JsValue, name: &str) -> Result<JsValue, JsValue>;
    /// `Date.prototype.getTime` applied to `v`; NaN for anything but a Date.
    #[wasm_bindgen(js_name = dateMs)]
    pub(crate) fn date_ms(v: &JsValue) -> f64;
    /// `Object.entries(v)` for a plain object whose own keys are all
    /// enumerable strings; `null` for anything else.
    #[wasm_bindgen(catch, js_name = contextEntries)]
    pub(crate) fn context_entries(v: &JsValue) -> Result<JsValue, JsValue>;
    /// Defines `o[k] = v` as an own enumerable member (a caller-chosen key
    /// such as `__proto__` must not reach the prototype setter).
    #[wasm_bindgen(js_name = defineOwn)]
    pub(crate) fn define_own(o: &Object, k: &str, v: &JsValue);
    #[wasm_bindgen(js_name = guardApi)]
    fn guard_api(api: JsValue) -> JsValue;
    #[wasm_bindgen(js_name = makeStrongroomError)]
    fn make_error(code: &str, message: &str) -> JsValue;
    #[wasm_bindgen(js_name = strongroomErrorClass)]
    fn error_class() -> JsValue;
}

/// The package's API object (`{ Keystore, Keyring, MessageEncryptor,
/// MessageDecryptor, encryptMessage, decryptMessage }` of the wasm-bindgen
/// glue) with its handles checked: a freed handle, or something else where
/// a `Keyring`/`Keystore` is expected, throws `ValidationException`
/// instead of reaching Rust; `free()` twice does nothing; a method called
/// on something else than its class throws `TypeError`, as does `new` of
/// `Keystore` or `Keyring` (no public constructor); `free()` of a handle
/// in use by a call in progress (its `this` or a handle argument, freed
/// from a getter of its request) throws `KMSInternalException` and frees
/// nothing, while any other handle can be freed. The entry points export
/// what this returns, with `StrongroomError`.
#[wasm_bindgen(js_name = strongroomApi, skip_typescript)]
pub fn strongroom_api(api: JsValue) -> JsValue {
    guard_api(api)
}

/// The `StrongroomError` class, so that the package can export it
/// (`err instanceof StrongroomError`, `err.code`).
#[wasm_bindgen(js_name = strongroomErrorClass, skip_typescript)]
pub fn strongroom_error_class() -> JsValue {
    error_class()
}

pub(crate) fn js_err(e: Error) -> JsValue {
    make_error(e.code(), e.message())
}

pub(crate) type JsResult<T> = Result<T, JsValue>;

/// The CSPRNG: `crypto.getRandomValues` through getrandom's `wasm_js`
/// backend, as a trait object so that every generic core function is
/// compiled once for it (the keyrings receive the same type), not once per
/// RNG type: that keeps the module smaller. The RNG is a zero-sized handle,
/// so leaking its box allocates nothing.
pub(crate) fn rng() -> &'static mut dyn CryptoRng {
    Box::leak(Box::new(UnwrapErr(getrandom::SysRng)))
}

/// Latest clock accepted: 9999-12-31T23:59:59Z, in Unix seconds.
#[allow(clippy::cast_precision_loss)] // 253,402,300,799 < 2^53: exact
const MAX_CLOCK_SECS: f64 = strongroom_core::time::MAX_UNIX_SECONDS as f64;

/// Now, in Unix seconds, from `Date.now()` (whole seconds, rounded down).
///
/// # Errors
/// `KMSInternalException` naming the clock when `Date.now()` is not a
/// number from 0 (1970) to the end of year 9999 — a replaced `Date.now()`
/// must not compute a deletion or rotation date in the past (which would
/// purge or rotate a key at once) nor overflow.
pub(crate) fn now() -> strongroom_core::Result<u64> {
    let ms = js_sys::Date::now();
    let secs = (ms / 1000.0).floor();
    if (0.0..=MAX_CLOCK_SECS).contains(&secs) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(secs as u64)
    } else {
        Err(Error::internal(format!(
            "the clock is out of range: Date.now() returned {ms}, not a time from 1970 to 9999"
        )))
    }
}

fn root_key(options: &JsValue, allowed: &[&str]) -> JsResult<(Req, RootKey)> {
    let req = Req::new(options, allowed).map_err(js_err)?;
    let bytes = Secret::new(req.bytes("rootKey").map_err(js_err)?);
    let root = RootKey::from_bytes(bytes.expose_secret()).map_err(js_err)?;
    Ok((req, root))
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = include_str!("types.d.ts");

/// A keystore held in memory. Persist it with `exportSealed()` and restore
/// it with `Keystore.importSealed()`; release it with `free()` (or let the
/// garbage collector do so).
#[wasm_bindgen]
#[derive(Debug)]
pub struct Keystore {
    /// Shared with the handles of `asPrincipal` and the KMS keyrings made
    /// over this keystore (`Keyring.kms`).
    inner: Rc<RefCell<MemKeystore>>,
    /// How this handle calls the keystore.
    acting: Acting,
}

/// How a handle calls the shared keystore: for which principal, and
/// whether as a dry run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Acting {
    /// The principal; the administrator when `None`.
    principal: Option<Rc<str>>,
    /// Whether every call is a dry run (`dryRun()`).
    dry_run: bool,
}

/// The error of a keystore used while another call holds it (a getter of
/// a request object calling back into the package).
pub(crate) fn busy() -> Error {
    Error::internal("the keystore is in use by another call")
}

impl Keystore {
    fn new(inner: MemKeystore) -> Keystore {
        Keystore {
            inner: Rc::new(RefCell::new(inner)),
            acting: Acting::default(),
        }
    }

    /// The keystore, acting for this handle's principal, as a dry run if
    /// this handle is one, and the time of the call.
    ///
    /// Called only once the whole request has been read and converted: a
    /// getter of a request member (or a replaced `Date.now`) may call this
    /// keystore, which then must not be borrowed yet (it would answer
    /// "in use by another call").
    fn ks(&self) -> strongroom_core::Result<(RefMut<'_, MemKeystore>, u64)> {
        let now = now()?;
        Ok((acting(&self.inner, &self.acting)?, now))
    }

    /// The keystore and how this handle calls it, for the KMS keyrings
    /// made over it.
    pub(crate) fn shared(&self) -> (Rc<RefCell<MemKeystore>>, Acting) {
        (Rc::clone(&self.inner), self.acting.clone())
    }

    fn info(&self, f: impl FnOnce(&MemKeystore) -> &str) -> JsResult<String> {
        let ks = self.inner.try_borrow().map_err(|_| js_err(busy()))?;
        Ok(f(&ks).to_string())
    }
}

/// The shared keystore borrowed for one call, acting for the principal of
/// `how` (the administrator when `None`) and as a dry run or not: every
/// handle sets both before its call, so handles sharing a keystore never
/// act for one another.
pub(crate) fn acting<'a>(
    inner: &'a RefCell<MemKeystore>,
    how: &Acting,
) -> strongroom_core::Result<RefMut<'a, MemKeystore>> {
    let mut ks = inner.try_borrow_mut().map_err(|_| busy())?;
    ks.act_as(how.principal.as_deref());
    ks.set_dry_run(how.dry_run);
    Ok(ks)
}

/// Runs `f` and turns its error into a thrown `StrongroomError`.
fn run<T>(f: impl FnOnce() -> strongroom_core::Result<T>) -> JsResult<T> {
    f().map_err(js_err)
}

#[wasm_bindgen]
impl Keystore {
    /// A new, empty keystore: `{ rootKey: Uint8Array(32), region?, account? }`.
    #[wasm_bindgen(unchecked_return_type = "Keystore")]
    pub fn create(
        #[wasm_bindgen(unchecked_param_type = "CreateKeystoreOptions")] options: JsValue,
    ) -> JsResult<Keystore> {
        let (req, root) = root_key(
            &options,
            &["rootKey", "region", "account", "adminPrincipal"],
        )?;
        run(|| {
            let region = req.opt_str("region")?.unwrap_or_else(|| "local-1".into());
            let account = req
                .opt_str("account")?
                .unwrap_or_else(|| "000000000000".into());
            let mut ks = MemKeystore::new(root, &region, &account, now()?, rng())?;
            if let Some(admin) = req.opt_str("adminPrincipal")? {
                ks = ks.with_admin_principal(&admin)?;
            }
            Ok(Keystore::new(ks))
        })
    }

    /// Restores a keystore from `exportSealed()` bytes (or a native
    /// `strongroom export-keystore` file). Altered bytes are rejected. The
    /// root key is the 32-byte key itself: the export of a native keystore
    /// whose root key is derived from a passphrase (Argon2id) cannot be
    /// imported (`AccessDeniedException`).
    #[wasm_bindgen(js_name = importSealed)]
    pub fn import_sealed(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ImportKeystoreOptions")] options: JsValue,
    ) -> JsResult<Keystore> {
        let bytes = convert::bytes_arg(&bytes, "bytes").map_err(js_err)?;
        let (_, root) = root_key(&options, &["rootKey"])?;
        run(|| Ok(Keystore::new(MemKeystore::import_sealed(&bytes, root)?)))
    }

    /// The whole keystore, sealed under its root key (see docs/FORMAT.md).
    #[wasm_bindgen(js_name = exportSealed)]
    pub fn export_sealed(&self) -> JsResult<Vec<u8>> {
        run(|| acting(&self.inner, &self.acting)?.export_sealed())
    }

    /// The keystore ID (UUID).
    #[wasm_bindgen(getter, js_name = keystoreId)]
    pub fn keystore_id(&self) -> JsResult<String> {
        self.info(MemKeystore::keystore_id)
    }

    /// Region used in ARNs.
    #[wasm_bindgen(getter)]
    pub fn region(&self) -> JsResult<String> {
        self.info(MemKeystore::region)
    }

    /// Account ID used in ARNs.
    #[wasm_bindgen(getter)]
    pub fn account(&self) -> JsResult<String> {
        self.info(MemKeystore::account)
    }

    /// The same keystore acting for `principal` (an IAM principal ARN such
    /// as `arn:aws:iam::111122223333:user/app`): every call through the
    /// returned handle is authorized by the key policies and grants for, and
    /// audited as, that principal. The handles share keys, grants and the
    /// audit log; free each one separately. A dry-run handle gives a
    /// dry-run handle. Throws ValidationException at once for a principal
    /// no call can act as (empty, over 256 characters, a wildcard, a bare
    /// account ID: not an account root, IAM user or role, assumed-role or
    /// federated-user ARN).
    #[wasm_bindgen(js_name = asPrincipal)]
    pub fn as_principal(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] principal: JsValue,
    ) -> JsResult<Keystore> {
        let principal = convert::str_arg(&principal, "principal").map_err(js_err)?;
        // The rule of every call's principal (and of the native bindings'
        // `as_principal`), applied at once.
        strongroom_core::access::check_caller(&principal).map_err(js_err)?;
        Ok(Keystore {
            inner: Rc::clone(&self.inner),
            acting: Acting {
                principal: Some(Rc::from(principal.as_str())),
                dry_run: self.acting.dry_run,
            },
        })
    }

    /// The same keystore with KMS's `DryRun` set on every call (as the
    /// native `Keystore::dry_run()`): the operations that take `DryRun` in
    /// KMS (`encrypt`, `decrypt`, `reEncrypt`, `generateDataKey*`,
    /// `generateDataKeyPair*`, `sign`, `verify`, `generateMac`,
    /// `verifyMac`, `deriveSharedSecret`, `createGrant`, `retireGrant`,
    /// `revokeGrant`) run every check — key, key state, key policy and
    /// grants, grant tokens, parameters — change nothing, and throw
    /// `DryRunOperationException` when they would have succeeded (or the
    /// error the real call would have thrown). Every other operation throws
    /// `ValidationException` without running. Each call is audited. Keeps
    /// the principal; KMS keyrings made over the handle make dry-run calls.
    #[wasm_bindgen(js_name = dryRun)]
    pub fn dry_run(&self) -> Keystore {
        Keystore {
            inner: Rc::clone(&self.inner),
            acting: Acting {
                principal: self.acting.principal.clone(),
                dry_run: true,
            },
        }
    }

    /// Whether this handle came from `dryRun()`.
    #[wasm_bindgen(getter, js_name = isDryRun)]
    pub fn is_dry_run(&self) -> bool {
        self.acting.dry_run
    }

    /// The principal this handle acts for (the administrator unless made by
    /// `asPrincipal`).
    #[wasm_bindgen(getter)]
    pub fn principal(&self) -> JsResult<String> {
        match &self.acting.principal {
            Some(p) => Ok(p.to_string()),
            None => self.info(MemKeystore::admin_principal),
        }
    }

    /// The administrator principal, whom the default key policy allows
    /// `kms:*` (default: the account root `arn:aws:iam::<account>:root`).
    #[wasm_bindgen(getter, js_name = adminPrincipal)]
    pub fn admin_principal(&self) -> JsResult<String> {
        self.info(MemKeystore::admin_principal)
    }

    /// Deletes the keys whose deletion date has passed, recording a
    /// `DeleteKey` service event (`eventType` `AwsServiceEvent`) for each in
    /// the audit log; returns how many. On a dry-run handle: `ValidationException`, nothing deleted (it is
    /// not a KMS operation and has no `DryRun`).
    #[wasm_bindgen(js_name = purgeDeletedKeys)]
    pub fn purge_deleted_keys(&self) -> JsResult<u32> {
        if self.acting.dry_run {
            return Err(js_err(Error::validation(
                "purgeDeletedKeys has no DryRun parameter; call it on a handle that is not a dry run",
            )));
        }
        run(|| {
            let (mut ks, now) = self.ks()?;
            let n = ks.purge_deleted_keys(rng(), now)?;
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        })
    }

    // ---- key management ------------------------------------------------------

    /// CreateKey.
    #[wasm_bindgen(js_name = createKey, unchecked_return_type = "DescribeKeyResponse")]
    pub fn create_key(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CreateKeyRequest")] request: Option<
            JsValue,
        >,
    ) -> JsResult<JsValue> {
        let request = request.unwrap_or(JsValue::UNDEFINED);
        run(|| {
            let r = Req::new(
                &request,
                &[
                    "description",
                    "keySpec",
                    "customerMasterKeySpec",
                    "keyUsage",
                    "origin",
                    "policy",
                    "bypassPolicyLockoutSafetyCheck",
                    "tags",
                    "multiRegion",
                ],
            )?;
            let req = CreateKeyRequest {
                description: r.opt_str("description")?,
                key_spec: r.opt_enum("keySpec")?,
                customer_master_key_spec: r.opt_enum("customerMasterKeySpec")?,
                key_usage: r.opt_enum("keyUsage")?,
                origin: r.opt_enum("origin")?,
                policy: r.opt_str("policy")?,
                bypass_policy_lockout_safety_check: r
                    .opt_bool("bypassPolicyLockoutSafetyCheck")?
                    .unwrap_or(false),
                tags: r.tags("tags")?,
                multi_region: r.opt_bool("multiRegion")?,
            };
            let (mut ks, now) = self.ks()?;
            response(&ks.create_key(rng(), now, &req)?)
        })
    }

    /// DescribeKey: `{ keyId, grantTokens? }` (key ID, key ARN, alias name or
    /// alias ARN; at most 10 grant tokens, checked as Encrypt's are).
    #[wasm_bindgen(js_name = describeKey, unchecked_return_type = "DescribeKeyResponse")]
    pub fn describe_key(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DescribeKeyRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(&request, &["keyId", "grantTokens"])?;
            let (key_id, tokens) = (r.str("keyId")?, r.str_list("grantTokens")?);
            let (mut ks, now) = self.ks()?;
            response(&ks.describe_key_with_grant_tokens(rng(), now, &key_id, &tokens)?)
        })
    }

    /// ListKeys: `{ limit?, marker? }`.
    #[wasm_bindgen(js_name = listKeys, unchecked_return_type = "ListKeysResponse")]
    pub fn list_keys(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "ListRequest")] request: Option<JsValue>,
    ) -> JsResult<JsValue> {
        let request = request.unwrap_or(JsValue::UNDEFINED);
        run(|| {
            let r = Req::new(&request, &["limit", "marker"])?;
            let (limit, marker) = (r.opt_u32("limit")?, r.opt_str("marker")?);
            let (mut ks, now) = self.ks()?;
            response(&ks.list_keys(rng(), now, limit, marker.as_deref())?)
        })
    }

    /// UpdateKeyDescription: `{ keyId, description }`.
    #[wasm_bindgen(js_name = updateKeyDescription)]
    pub fn update_key_description(
        &self,
        #[wasm_bindgen(unchecked_param_type = "UpdateKeyDescriptionRequest")] request: JsValue,
    ) -> JsResult<()> {
        run(|| {
            let r = Req::new(&request, &["keyId", "description"])?;
            let (key_id, description) = (r.str("keyId")?, r.str("description")?);
            let (mut ks, now) = self.ks()?;
            ks.update_key_description(rng(), now, &key_id, &description)
        })
    }

    /// EnableKey: `{ keyId }`.
    #[wasm_bindgen(js_name = enableKey)]
    pub fn enable_key(
        &self,
        #[wasm_bindgen(unchecked_param_type = "KeyIdRequest")] request: JsValue,
    ) -> JsResult<()> {
        run(|| {
            let key_id = key_id_request(&request)?;
            let (mut ks, now) = self.ks()?;
            ks.enable_key(rng(), now, &key_id)
        })
    }

    /// DisableKey: `{ keyId }`.
    #[wasm_bindgen(js_name = disableKey)]
    pub fn disable_key(
        &self,
        #[wasm_bindgen(unchecked_param_type = "KeyIdRequest")] request: JsValue,
    ) -> JsResult<()> {
        run(|| {
            let key_id = key_id_request(&request)?;
            let (mut ks, now) = self.ks()?;
            ks.disable_key(rng(), now, &key_id)
        })
    }

    /// ScheduleKeyDeletion: `{ keyId, pendingWindowInDays? }` (7–30, default 30).
    #[wasm_bindgen(
        js_name = scheduleKeyDeletion,
        unchecked_return_type = "ScheduleKeyDeletionResponse"
    )]
    pub fn schedule_key_deletion(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ScheduleKeyDeletionRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(&request, &["keyId", "pendingWindowInDays"])?;
            let (key_id, days) = (r.str("keyId")?, r.opt_u32("pendingWindowInDays")?);
            let (mut ks, now) = self.ks()?;
            response(&ks.schedule_key_deletion(rng(), now, &key_id, days)?)
        })
    }

    /// CancelKeyDeletion: `{ keyId }`; the key becomes `Disabled`.
    #[wasm_bindgen(js_name = cancelKeyDeletion, unchecked_return_type = "KeyIdResponse")]
    pub fn cancel_key_deletion(
        &self,
        #[wasm_bindgen(unchecked_param_type = "KeyIdRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let key_id = key_id_request(&request)?;
            let (mut ks, now) = self.ks()?;
            response(&ks.cancel_key_deletion(rng(), now, &key_id)?)
        })
    }

    /// EnableKeyRotation: `{ keyId, rotationPeriodInDays? }` (90–2560, default 365).
    #[wasm_bindgen(js_name = enableKeyRotation)]
    pub fn enable_key_rotation(
        &self,
        #[wasm_bindgen(unchecked_param_type = "EnableKeyRotationRequest")] request: JsValue,
    ) -> JsResult<()> {
        run(|| {
            let r = Req::new(&request, &["keyId", "rotationPeriodInDays"])?;
            let (key_id, days) = (r.str("keyId")?, r.opt_u32("rotationPeriodInDays")?);
            let (mut ks, now) = self.ks()?;
            ks.enable_key_rotation(rng(), now, &key_id, days)
        })
    }

    /// DisableKeyRotation: `{ keyId }`.
    #[wasm_bindgen(js_name = disableKeyRotation)]
    pub fn disable_key_rotation(
        &self,
        #[wasm_bindgen(unchecked_param_type = "KeyIdRequest")] request: JsValue,
    ) -> JsResult<()> {
        run(|| {
            let key_id = key_id_request(&request)?;
            let (mut ks, now) = self.ks()?;
            ks.disable_key_rotation(rng(), now, &key_id)
        })
    }

    /// GetKeyRotationStatus: `{ keyId }`.
    #[wasm_bindgen(
        js_name = getKeyRotationStatus,
        unchecked_return_type = "GetKeyRotationStatusResponse"
    )]
    pub fn get_key_rotation_status(
        &self,
        #[wasm_bindgen(unchecked_param_type = "KeyIdRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let key_id = key_id_request(&request)?;
            let (mut ks, now) = self.ks()?;
            response(&ks.get_key_rotation_status(rng(), now, &key_id)?)
        })
    }

    /// RotateKeyOnDemand: `{ keyId }` (at most 10 per key).
    #[wasm_bindgen(js_name = rotateKeyOnDemand, unchecked_return_type = "KeyIdResponse")]
    pub fn rotate_key_on_demand(
        &self,
        #[wasm_bindgen(unchecked_param_type = "KeyIdRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let key_id = key_id_request(&request)?;
            let (mut ks, now) = self.ks()?;
            response(&ks.rotate_key_on_demand(rng(), now, &key_id)?)
        })
    }

    /// ListKeyRotations: `{ keyId, limit?, marker? }`.
    #[wasm_bindgen(
        js_name = listKeyRotations,
        unchecked_return_type = "ListKeyRotationsResponse"
    )]
    pub fn list_key_rotations(
        &self,
        #[wasm_bindgen(unchecked_param_type = "KeyIdListRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(&request, &["keyId", "limit", "marker"])?;
            let key_id = r.str("keyId")?;
            let (limit, marker) = (r.opt_u32("limit")?, r.opt_str("marker")?);
            let (mut ks, now) = self.ks()?;
            response(&ks.list_key_rotations(rng(), now, &key_id, limit, marker.as_deref())?)
        })
    }

    // ---- aliases -------------------------------------------------------------

    /// CreateAlias: `{ aliasName, targetKeyId }`.
    #[wasm_bindgen(js_name = createAlias)]
    pub fn create_alias(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AliasRequest")] request: JsValue,
    ) -> JsResult<()> {
        run(|| {
            let r = Req::new(&request, &["aliasName", "targetKeyId"])?;
            let (alias, target) = (r.str("aliasName")?, r.str("targetKeyId")?);
            let (mut ks, now) = self.ks()?;
            ks.create_alias(rng(), now, &alias, &target)
        })
    }

    /// UpdateAlias: `{ aliasName, targetKeyId }`; the new key must be the
    /// same key type (symmetric, asymmetric or HMAC) and key usage as the
    /// current one (`ValidationException`), the key spec may differ.
    #[wasm_bindgen(js_name = updateAlias)]
    pub fn update_alias(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AliasRequest")] request: JsValue,
    ) -> JsResult<()> {
        run(|| {
            let r = Req::new(&request, &["aliasName", "targetKeyId"])?;
            let (alias, target) = (r.str("aliasName")?, r.str("targetKeyId")?);
            let (mut ks, now) = self.ks()?;
            ks.update_alias(rng(), now, &alias, &target)
        })
    }

    /// DeleteAlias: `{ aliasName }`.
    #[wasm_bindgen(js_name = deleteAlias)]
    pub fn delete_alias(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DeleteAliasRequest")] request: JsValue,
    ) -> JsResult<()> {
        run(|| {
            let alias = Req::new(&request, &["aliasName"])?.str("aliasName")?;
            let (mut ks, now) = self.ks()?;
            ks.delete_alias(rng(), now, &alias)
        })
    }

    /// ListAliases: `{ keyId?, limit?, marker? }`.
    #[wasm_bindgen(js_name = listAliases, unchecked_return_type = "ListAliasesResponse")]
    pub fn list_aliases(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "ListAliasesRequest")] request: Option<
            JsValue,
        >,
    ) -> JsResult<JsValue> {
        let request = request.unwrap_or(JsValue::UNDEFINED);
        run(|| {
            let r = Req::new(&request, &["keyId", "limit", "marker"])?;
            let key_id = r.opt_str("keyId")?;
            let (limit, marker) = (r.opt_u32("limit")?, r.opt_str("marker")?);
            let (mut ks, now) = self.ks()?;
            response(&ks.list_aliases(rng(), now, key_id.as_deref(), limit, marker.as_deref())?)
        })
    }

    // ---- tags ----------------------------------------------------------------

    /// TagResource: `{ keyId, tags: [{ tagKey, tagValue }] }`. `keyId` is a
    /// key ID or key ARN, as in KMS: an alias name or alias ARN is
    /// `NotFoundException` (`Invalid keyId`), here and in `untagResource`
    /// and `listResourceTags`.
    #[wasm_bindgen(js_name = tagResource)]
    pub fn tag_resource(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TagResourceRequest")] request: JsValue,
    ) -> JsResult<()> {
        run(|| {
            let r = Req::new(&request, &["keyId", "tags"])?;
            let (key_id, tags) = (r.str("keyId")?, r.tags("tags")?);
            let (mut ks, now) = self.ks()?;
            ks.tag_resource(rng(), now, &key_id, &tags)
        })
    }

    /// UntagResource: `{ keyId, tagKeys: string[] }`; `keyId` a key ID or
    /// key ARN (an alias is `NotFoundException`).
    #[wasm_bindgen(js_name = untagResource)]
    pub fn untag_resource(
        &self,
        #[wasm_bindgen(unchecked_param_type = "UntagResourceRequest")] request: JsValue,
    ) -> JsResult<()> {
        run(|| {
            let r = Req::new(&request, &["keyId", "tagKeys"])?;
            let (key_id, tag_keys) = (r.str("keyId")?, r.str_list("tagKeys")?);
            let (mut ks, now) = self.ks()?;
            ks.untag_resource(rng(), now, &key_id, &tag_keys)
        })
    }

    /// ListResourceTags: `{ keyId, limit?, marker? }` (limit 1–50); `keyId`
    /// a key ID or key ARN (an alias is `NotFoundException`).
    #[wasm_bindgen(
        js_name = listResourceTags,
        unchecked_return_type = "ListResourceTagsResponse"
    )]
    pub fn list_resource_tags(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ListResourceTagsRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(&request, &["keyId", "limit", "marker"])?;
            let key_id = r.str("keyId")?;
            let (limit, marker) = (r.opt_u32("limit")?, r.opt_str("marker")?);
            let (mut ks, now) = self.ks()?;
            response(&ks.list_resource_tags(rng(), now, &key_id, limit, marker.as_deref())?)
        })
    }

    // ---- key policies --------------------------------------------------------

    /// PutKeyPolicy: `{ keyId, policy, policyName?: "default",
    /// bypassPolicyLockoutSafetyCheck? }`. Unless the bypass is set, the new
    /// policy must still let this principal call PutKeyPolicy
    /// (`MalformedPolicyDocumentException` otherwise).
    #[wasm_bindgen(js_name = putKeyPolicy)]
    pub fn put_key_policy(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PutKeyPolicyRequest")] request: JsValue,
    ) -> JsResult<()> {
        run(|| {
            let r = Req::new(
                &request,
                &[
                    "keyId",
                    "policy",
                    "policyName",
                    "bypassPolicyLockoutSafetyCheck",
                ],
            )?;
            let req = PutKeyPolicyRequest {
                key_id: r.str("keyId")?,
                policy_name: r.opt_str("policyName")?,
                policy: r.str("policy")?,
                bypass_policy_lockout_safety_check: r
                    .opt_bool("bypassPolicyLockoutSafetyCheck")?
                    .unwrap_or(false),
            };
            let (mut ks, now) = self.ks()?;
            ks.put_key_policy(rng(), now, &req)
        })
    }

    /// GetKeyPolicy: `{ keyId, policyName?: "default" }`; the default key
    /// policy when none was set.
    #[wasm_bindgen(js_name = getKeyPolicy, unchecked_return_type = "GetKeyPolicyResponse")]
    pub fn get_key_policy(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GetKeyPolicyRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(&request, &["keyId", "policyName"])?;
            let (name, key_id) = (r.opt_str("policyName")?, r.str("keyId")?);
            let (mut ks, now) = self.ks()?;
            response(&ks.get_key_policy(rng(), now, &key_id, name.as_deref())?)
        })
    }

    /// ListKeyPolicies: `{ keyId, limit?, marker? }`; always `["default"]`.
    #[wasm_bindgen(
        js_name = listKeyPolicies,
        unchecked_return_type = "ListKeyPoliciesResponse"
    )]
    pub fn list_key_policies(
        &self,
        #[wasm_bindgen(unchecked_param_type = "KeyIdListRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(&request, &["keyId", "limit", "marker"])?;
            let key_id = r.str("keyId")?;
            let (limit, marker) = (r.opt_u32("limit")?, r.opt_str("marker")?);
            let (mut ks, now) = self.ks()?;
            response(&ks.list_key_policies(rng(), now, &key_id, limit, marker.as_deref())?)
        })
    }

    // ---- grants --------------------------------------------------------------

    /// CreateGrant: `{ keyId, granteePrincipal, operations: string[],
    /// retiringPrincipal?, constraints?: { encryptionContextEquals? |
    /// encryptionContextSubset? }, name?, grantTokens? }`. The returned
    /// `grantToken` works at once.
    #[wasm_bindgen(js_name = createGrant, unchecked_return_type = "CreateGrantResponse")]
    pub fn create_grant(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CreateGrantRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(
                &request,
                &[
                    "keyId",
                    "granteePrincipal",
                    "operations",
                    "retiringPrincipal",
                    "constraints",
                    "name",
                    "grantTokens",
                ],
            )?;
            let constraints = r
                .opt_req(
                    "constraints",
                    &["encryptionContextEquals", "encryptionContextSubset"],
                )?
                .map(|c| -> strongroom_core::Result<GrantConstraints> {
                    Ok(GrantConstraints {
                        encryption_context_equals: c.opt_context("encryptionContextEquals")?,
                        encryption_context_subset: c.opt_context("encryptionContextSubset")?,
                    })
                })
                .transpose()?;
            let req = CreateGrantRequest {
                key_id: r.str("keyId")?,
                grantee_principal: r.str("granteePrincipal")?,
                retiring_principal: r.opt_str("retiringPrincipal")?,
                operations: r
                    .str_list("operations")?
                    .iter()
                    .map(|o| GrantOperation::parse(o))
                    .collect::<strongroom_core::Result<_>>()?,
                constraints,
                grant_tokens: r.str_list("grantTokens")?,
                name: r.opt_str("name")?,
            };
            let (mut ks, now) = self.ks()?;
            response(&ks.create_grant(rng(), now, &req)?)
        })
    }

    /// ListGrants: `{ keyId, grantId?, granteePrincipal?, limit?, marker? }`
    /// (limit 1–100, default 50).
    #[wasm_bindgen(js_name = listGrants, unchecked_return_type = "ListGrantsResponse")]
    pub fn list_grants(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ListGrantsRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(
                &request,
                &["keyId", "grantId", "granteePrincipal", "limit", "marker"],
            )?;
            let req = ListGrantsRequest {
                key_id: r.str("keyId")?,
                limit: r.opt_u32("limit")?,
                marker: r.opt_str("marker")?,
                grant_id: r.opt_str("grantId")?,
                grantee_principal: r.opt_str("granteePrincipal")?,
            };
            let (mut ks, now) = self.ks()?;
            response(&ks.list_grants(rng(), now, &req)?)
        })
    }

    /// ListRetirableGrants: `{ retiringPrincipal, limit?, marker? }`, across keys.
    #[wasm_bindgen(
        js_name = listRetirableGrants,
        unchecked_return_type = "ListGrantsResponse"
    )]
    pub fn list_retirable_grants(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ListRetirableGrantsRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(&request, &["retiringPrincipal", "limit", "marker"])?;
            let principal = r.str("retiringPrincipal")?;
            let (limit, marker) = (r.opt_u32("limit")?, r.opt_str("marker")?);
            let (mut ks, now) = self.ks()?;
            response(&ks.list_retirable_grants(rng(), now, &principal, limit, marker.as_deref())?)
        })
    }

    /// RetireGrant: `{ grantToken }` or `{ keyId, grantId }`. Allowed for
    /// the retiring principal, the grantee of a grant that includes
    /// `RetireGrant`, the account root, or per the key policy.
    #[wasm_bindgen(js_name = retireGrant)]
    pub fn retire_grant(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RetireGrantRequest")] request: JsValue,
    ) -> JsResult<()> {
        run(|| {
            let r = Req::new(&request, &["grantToken", "keyId", "grantId"])?;
            let req = RetireGrantRequest {
                grant_token: r.opt_str("grantToken")?,
                key_id: r.opt_str("keyId")?,
                grant_id: r.opt_str("grantId")?,
            };
            let (mut ks, now) = self.ks()?;
            ks.retire_grant(rng(), now, &req)
        })
    }

    /// RevokeGrant: `{ keyId, grantId }`, authorized by the key policy.
    #[wasm_bindgen(js_name = revokeGrant)]
    pub fn revoke_grant(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RevokeGrantRequest")] request: JsValue,
    ) -> JsResult<()> {
        run(|| {
            let r = Req::new(&request, &["keyId", "grantId"])?;
            let (key_id, grant_id) = (r.str("keyId")?, r.str("grantId")?);
            let (mut ks, now) = self.ks()?;
            ks.revoke_grant(rng(), now, &key_id, &grant_id)
        })
    }

    // ---- audit log -----------------------------------------------------------

    /// The audit log: one CloudTrail-shaped record per operation (allowed,
    /// denied or failed) since the keystore was created or imported, oldest
    /// first, with CloudTrail's field names and the `strongroomChain` value
    /// (docs/FORMAT.md, "Audit log"). Copies: changing them changes nothing.
    #[wasm_bindgen(js_name = auditEvents, unchecked_return_type = "AuditEvent[]")]
    pub fn audit_events(&self) -> JsResult<Array> {
        let ks = self.inner.try_borrow().map_err(|_| js_err(busy()))?;
        ks.audit_lines()
            .iter()
            .map(|line| JSON::parse(line))
            .collect()
    }

    /// Verifies the HMAC chain of the audit log under the root key: this
    /// keystore's log, or `events` (records from `auditEvents()` kept
    /// elsewhere, as objects or JSON lines) from the start of a log.
    ///
    /// Saved `events` whose newest records were cut off still verify
    /// (`intact: true`): every beginning of a log is a valid log, and the
    /// events carry no count. Edits, reordering and deletions inside the
    /// list are detected. To detect a cut-off end, keep a checkpoint apart
    /// from the events when you save them — `auditEvents().length` and the
    /// last record's `strongroomChain` — and check that `count` equals the
    /// kept length and `events[count - 1].strongroomChain` the kept value.
    /// The keystore's own log (no `events`) keeps that checkpoint itself.
    #[wasm_bindgen(js_name = verifyAuditLog, unchecked_return_type = "AuditVerification")]
    pub fn verify_audit_log(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "Array<AuditEvent | string>")]
        events: Option<JsValue>,
    ) -> JsResult<JsValue> {
        // The events are read (JavaScript runs: toJSON, getters) before
        // the keystore is borrowed.
        let lines = events
            .map(|v| audit_lines_from(&v))
            .transpose()
            .map_err(js_err)?;
        let ks = self.inner.try_borrow().map_err(|_| js_err(busy()))?;
        let result = match lines {
            None => ks.verify_audit_log(),
            Some(lines) => ks.verify_audit_lines(lines.iter().map(String::as_str)),
        };
        Ok(match result {
            Ok(cp) => object(&[("intact", true.into()), ("count", (cp.count as f64).into())]),
            Err(e) => object(&[
                ("intact", false.into()),
                ("count", (e.index as f64).into()),
                ("firstBadIndex", (e.index as f64).into()),
                ("reason", e.reason.to_string().into()),
            ]),
        })
    }

    // ---- cryptographic operations ---------------------------------------------

    /// Encrypt: `{ keyId, plaintext: Uint8Array (1–4096 bytes),
    /// encryptionContext?, encryptionAlgorithm?, grantTokens? }`.
    #[wasm_bindgen(unchecked_return_type = "EncryptResponse")]
    pub fn encrypt(
        &self,
        #[wasm_bindgen(unchecked_param_type = "EncryptRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(
                &request,
                &[
                    "keyId",
                    "plaintext",
                    "encryptionContext",
                    "encryptionAlgorithm",
                    "grantTokens",
                ],
            )?;
            let req = EncryptRequest {
                key_id: r.str("keyId")?,
                plaintext: Secret::new(r.bytes("plaintext")?),
                encryption_context: r.context("encryptionContext")?,
                encryption_algorithm: r.opt_enum("encryptionAlgorithm")?,
                grant_tokens: r.str_list("grantTokens")?,
            };
            let (mut ks, now) = self.ks()?;
            response(&ks.encrypt(rng(), now, &req)?)
        })
    }

    /// Decrypt: `{ ciphertextBlob, encryptionContext?, keyId?,
    /// encryptionAlgorithm?, grantTokens? }`.
    #[wasm_bindgen(unchecked_return_type = "DecryptResponse")]
    pub fn decrypt(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DecryptRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(
                &request,
                &[
                    "ciphertextBlob",
                    "encryptionContext",
                    "keyId",
                    "encryptionAlgorithm",
                    "grantTokens",
                ],
            )?;
            let req = DecryptRequest {
                ciphertext_blob: r.bytes("ciphertextBlob")?,
                encryption_context: r.context("encryptionContext")?,
                key_id: r.opt_str("keyId")?,
                encryption_algorithm: r.opt_enum("encryptionAlgorithm")?,
                grant_tokens: r.str_list("grantTokens")?,
            };
            let (mut ks, now) = self.ks()?;
            let out = ks.decrypt(rng(), now, &req)?;
            Ok(object(&[
                ("keyId", out.key_id.as_str().into()),
                ("plaintext", secret_to_js(&out.plaintext)),
                (
                    "encryptionAlgorithm",
                    out.encryption_algorithm.as_str().into(),
                ),
            ]))
        })
    }

    /// ReEncrypt: `{ ciphertextBlob, sourceEncryptionContext?, sourceKeyId?,
    /// destinationKeyId, destinationEncryptionContext?, … }`.
    #[wasm_bindgen(js_name = reEncrypt, unchecked_return_type = "ReEncryptResponse")]
    pub fn re_encrypt(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ReEncryptRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(
                &request,
                &[
                    "ciphertextBlob",
                    "sourceEncryptionContext",
                    "sourceKeyId",
                    "destinationKeyId",
                    "destinationEncryptionContext",
                    "sourceEncryptionAlgorithm",
                    "destinationEncryptionAlgorithm",
                    "grantTokens",
                ],
            )?;
            let req = ReEncryptRequest {
                ciphertext_blob: r.bytes("ciphertextBlob")?,
                source_encryption_context: r.context("sourceEncryptionContext")?,
                source_key_id: r.opt_str("sourceKeyId")?,
                destination_key_id: r.str("destinationKeyId")?,
                destination_encryption_context: r.context("destinationEncryptionContext")?,
                source_encryption_algorithm: r.opt_enum("sourceEncryptionAlgorithm")?,
                destination_encryption_algorithm: r.opt_enum("destinationEncryptionAlgorithm")?,
                grant_tokens: r.str_list("grantTokens")?,
            };
            let (mut ks, now) = self.ks()?;
            response(&ks.re_encrypt(rng(), now, &req)?)
        })
    }

    /// GenerateDataKey: `{ keyId, keySpec? | numberOfBytes?, encryptionContext? }`.
    #[wasm_bindgen(js_name = generateDataKey, unchecked_return_type = "GenerateDataKeyResponse")]
    pub fn generate_data_key(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GenerateDataKeyRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let req = data_key_request(&request)?;
            let (mut ks, now) = self.ks()?;
            let out = ks.generate_data_key(rng(), now, &req)?;
            Ok(object(&[
                ("ciphertextBlob", bytes_to_js(&out.ciphertext_blob)),
                ("plaintext", secret_to_js(&out.plaintext)),
                ("keyId", out.key_id.as_str().into()),
            ]))
        })
    }

    /// GenerateDataKeyWithoutPlaintext: as `generateDataKey`, without `plaintext`.
    #[wasm_bindgen(
        js_name = generateDataKeyWithoutPlaintext,
        unchecked_return_type = "GenerateDataKeyWithoutPlaintextResponse"
    )]
    pub fn generate_data_key_without_plaintext(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GenerateDataKeyRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let req = data_key_request(&request)?;
            let (mut ks, now) = self.ks()?;
            response(&ks.generate_data_key_without_plaintext(rng(), now, &req)?)
        })
    }

    // ---- asymmetric keys and MACs -----------------------------------------------

    /// Sign: `{ keyId, message: Uint8Array, messageType?: "RAW" | "DIGEST",
    /// signingAlgorithm, grantTokens? }`.
    #[wasm_bindgen(unchecked_return_type = "SignResponse")]
    pub fn sign(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SignRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(
                &request,
                &[
                    "keyId",
                    "message",
                    "messageType",
                    "signingAlgorithm",
                    "grantTokens",
                ],
            )?;
            let req = SignRequest {
                key_id: r.str("keyId")?,
                message: Secret::new(r.bytes("message")?),
                message_type: r.opt_enum("messageType")?,
                signing_algorithm: r.opt_enum("signingAlgorithm")?,
                grant_tokens: r.str_list("grantTokens")?,
            };
            let (mut ks, now) = self.ks()?;
            response(&ks.sign(rng(), now, &req)?)
        })
    }

    /// Verify: `{ keyId, message, messageType?, signature, signingAlgorithm }`;
    /// an invalid signature throws `KMSInvalidSignatureException`.
    #[wasm_bindgen(unchecked_return_type = "VerifyResponse")]
    pub fn verify(
        &self,
        #[wasm_bindgen(unchecked_param_type = "VerifyRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(
                &request,
                &[
                    "keyId",
                    "message",
                    "messageType",
                    "signature",
                    "signingAlgorithm",
                    "grantTokens",
                ],
            )?;
            let req = VerifyRequest {
                key_id: r.str("keyId")?,
                message: Secret::new(r.bytes("message")?),
                message_type: r.opt_enum("messageType")?,
                signature: r.bytes("signature")?,
                signing_algorithm: r.opt_enum("signingAlgorithm")?,
                grant_tokens: r.str_list("grantTokens")?,
            };
            let (mut ks, now) = self.ks()?;
            response(&ks.verify(rng(), now, &req)?)
        })
    }

    /// GetPublicKey: `{ keyId, grantTokens? }` (key ID, key ARN, alias name
    /// or alias ARN; at most 10 grant tokens, checked as Encrypt's are);
    /// `publicKey` is SubjectPublicKeyInfo DER.
    #[wasm_bindgen(js_name = getPublicKey, unchecked_return_type = "GetPublicKeyResponse")]
    pub fn get_public_key(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GetPublicKeyRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(&request, &["keyId", "grantTokens"])?;
            let (key_id, tokens) = (r.str("keyId")?, r.str_list("grantTokens")?);
            let (mut ks, now) = self.ks()?;
            response(&ks.get_public_key_with_grant_tokens(rng(), now, &key_id, &tokens)?)
        })
    }

    /// GenerateDataKeyPair: `{ keyId, keyPairSpec, encryptionContext?,
    /// grantTokens? }`; `keyId` names a symmetric encryption key. The
    /// private key is PKCS#8 DER, the public key SubjectPublicKeyInfo DER.
    #[wasm_bindgen(
        js_name = generateDataKeyPair,
        unchecked_return_type = "GenerateDataKeyPairResponse"
    )]
    pub fn generate_data_key_pair(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GenerateDataKeyPairRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let req = data_key_pair_request(&request)?;
            let (mut ks, now) = self.ks()?;
            let out = ks.generate_data_key_pair(rng(), now, &req)?;
            Ok(object(&[
                (
                    "privateKeyCiphertextBlob",
                    bytes_to_js(&out.private_key_ciphertext_blob),
                ),
                (
                    "privateKeyPlaintext",
                    secret_to_js(&out.private_key_plaintext),
                ),
                ("publicKey", bytes_to_js(&out.public_key)),
                ("keyId", out.key_id.as_str().into()),
                ("keyPairSpec", out.key_pair_spec.as_str().into()),
            ]))
        })
    }

    /// GenerateDataKeyPairWithoutPlaintext: as `generateDataKeyPair`,
    /// without `privateKeyPlaintext`.
    #[wasm_bindgen(
        js_name = generateDataKeyPairWithoutPlaintext,
        unchecked_return_type = "GenerateDataKeyPairWithoutPlaintextResponse"
    )]
    pub fn generate_data_key_pair_without_plaintext(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GenerateDataKeyPairRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let req = data_key_pair_request(&request)?;
            let (mut ks, now) = self.ks()?;
            response(&ks.generate_data_key_pair_without_plaintext(rng(), now, &req)?)
        })
    }

    /// GetParametersForImport: `{ keyId, wrappingAlgorithm, wrappingKeySpec }`
    /// for a key with origin `EXTERNAL`; the wrapping public key
    /// (SubjectPublicKeyInfo DER) and import token are valid 24 hours.
    #[wasm_bindgen(
        js_name = getParametersForImport,
        unchecked_return_type = "GetParametersForImportResponse"
    )]
    pub fn get_parameters_for_import(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GetParametersForImportRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(&request, &["keyId", "wrappingAlgorithm", "wrappingKeySpec"])?;
            let req = GetParametersForImportRequest {
                key_id: r.str("keyId")?,
                wrapping_algorithm: r.opt_enum("wrappingAlgorithm")?,
                wrapping_key_spec: r.opt_enum("wrappingKeySpec")?,
            };
            let (mut ks, now) = self.ks()?;
            response(&ks.get_parameters_for_import(rng(), now, &req)?)
        })
    }

    /// ImportKeyMaterial: `{ keyId, importToken, encryptedKeyMaterial,
    /// expirationModel?, validTo?: Date, importType? }`; the key becomes
    /// `Enabled`. `importType` is `NEW_KEY_MATERIAL` (only on the key's
    /// first import) or `EXISTING_KEY_MATERIAL` (only once material was
    /// imported); omitted, either, as the key requires.
    #[wasm_bindgen(js_name = importKeyMaterial)]
    pub fn import_key_material(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ImportKeyMaterialRequest")] request: JsValue,
    ) -> JsResult<()> {
        run(|| {
            let r = Req::new(
                &request,
                &[
                    "keyId",
                    "importToken",
                    "encryptedKeyMaterial",
                    "expirationModel",
                    "validTo",
                    "importType",
                ],
            )?;
            let req = ImportKeyMaterialRequest {
                key_id: r.str("keyId")?,
                import_token: r.bytes("importToken")?,
                encrypted_key_material: r.bytes("encryptedKeyMaterial")?,
                expiration_model: r.opt_enum("expirationModel")?,
                import_type: r.opt_enum("importType")?,
                valid_to: r.opt_date("validTo")?,
            };
            let (mut ks, now) = self.ks()?;
            ks.import_key_material(rng(), now, &req)
        })
    }

    /// DeleteImportedKeyMaterial: `{ keyId }`; the key returns to `PendingImport`.
    #[wasm_bindgen(js_name = deleteImportedKeyMaterial)]
    pub fn delete_imported_key_material(
        &self,
        #[wasm_bindgen(unchecked_param_type = "KeyIdRequest")] request: JsValue,
    ) -> JsResult<()> {
        run(|| {
            let key_id = key_id_request(&request)?;
            let (mut ks, now) = self.ks()?;
            ks.delete_imported_key_material(rng(), now, &key_id)
        })
    }

    /// DeriveSharedSecret: `{ keyId, keyAgreementAlgorithm: "ECDH",
    /// publicKey: Uint8Array (the peer's DER SubjectPublicKeyInfo on the
    /// key's curve), grantTokens? }` → `{ keyId, sharedSecret, keyAgreementAlgorithm,
    /// keyOrigin }`; `sharedSecret` is the raw ECDH secret (32 bytes on
    /// P-256, 48 on P-384, 66 on P-521). KMS's `recipient` (Nitro Enclaves attestation)
    /// is not supported: given, it throws `UnsupportedOperationException`.
    #[wasm_bindgen(
        js_name = deriveSharedSecret,
        unchecked_return_type = "DeriveSharedSecretResponse"
    )]
    pub fn derive_shared_secret(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DeriveSharedSecretRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(
                &request,
                &[
                    "keyId",
                    "keyAgreementAlgorithm",
                    "publicKey",
                    "grantTokens",
                    "recipient",
                ],
            )?;
            let req = DeriveSharedSecretRequest {
                key_id: r.str("keyId")?,
                key_agreement_algorithm: r.opt_enum("keyAgreementAlgorithm")?,
                public_key: r.bytes("publicKey")?,
                grant_tokens: r.str_list("grantTokens")?,
                recipient: r
                    .opt_req(
                        "recipient",
                        &["keyEncryptionAlgorithm", "attestationDocument"],
                    )?
                    .map(|_| RecipientInfo::default()),
            };
            let (mut ks, now) = self.ks()?;
            let out = ks.derive_shared_secret(rng(), now, &req)?;
            Ok(object(&[
                ("keyId", JsValue::from_str(&out.key_id)),
                ("sharedSecret", secret_to_js(&out.shared_secret)),
                (
                    "keyAgreementAlgorithm",
                    JsValue::from_str(out.key_agreement_algorithm.as_str()),
                ),
                ("keyOrigin", JsValue::from_str(out.key_origin.as_str())),
            ]))
        })
    }

    /// GenerateMac: `{ keyId, message, macAlgorithm, grantTokens? }`.
    #[wasm_bindgen(js_name = generateMac, unchecked_return_type = "GenerateMacResponse")]
    pub fn generate_mac(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GenerateMacRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(
                &request,
                &["keyId", "message", "macAlgorithm", "grantTokens"],
            )?;
            let req = GenerateMacRequest {
                key_id: r.str("keyId")?,
                message: Secret::new(r.bytes("message")?),
                mac_algorithm: r.opt_enum("macAlgorithm")?,
                grant_tokens: r.str_list("grantTokens")?,
            };
            let (mut ks, now) = self.ks()?;
            response(&ks.generate_mac(rng(), now, &req)?)
        })
    }

    /// VerifyMac: `{ keyId, message, mac, macAlgorithm }`; a mismatch throws
    /// `KMSInvalidMacException`.
    #[wasm_bindgen(js_name = verifyMac, unchecked_return_type = "VerifyMacResponse")]
    pub fn verify_mac(
        &self,
        #[wasm_bindgen(unchecked_param_type = "VerifyMacRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(
                &request,
                &["keyId", "message", "mac", "macAlgorithm", "grantTokens"],
            )?;
            let req = VerifyMacRequest {
                key_id: r.str("keyId")?,
                message: Secret::new(r.bytes("message")?),
                mac: r.bytes("mac")?,
                mac_algorithm: r.opt_enum("macAlgorithm")?,
                grant_tokens: r.str_list("grantTokens")?,
            };
            let (mut ks, now) = self.ks()?;
            response(&ks.verify_mac(rng(), now, &req)?)
        })
    }

    /// GenerateRandom: `{ numberOfBytes }` (1–1024).
    #[wasm_bindgen(js_name = generateRandom, unchecked_return_type = "GenerateRandomResponse")]
    pub fn generate_random(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GenerateRandomRequest")] request: JsValue,
    ) -> JsResult<JsValue> {
        run(|| {
            let r = Req::new(&request, &["numberOfBytes"])?;
            let n = r
                .opt_u32("numberOfBytes")?
                .ok_or_else(|| Error::validation("numberOfBytes is required"))?;
            let (mut ks, now) = self.ks()?;
            let out = ks.generate_random(rng(), now, n)?;
            Ok(object(&[("plaintext", secret_to_js(&out.plaintext))]))
        })
    }
}

/// Audit lines from an array of records (objects, rebuilt in the form the
/// log wrote them) or JSON lines (taken as they are).
fn audit_lines_from(v: &JsValue) -> strongroom_core::Result<Vec<String>> {
    let bad = || Error::validation("events must be an array of audit records or JSON lines");
    // A copy made by catching calls: a Proxy's trap cannot throw through
    // this frame.
    convert::as_array(v)
        .ok_or_else(bad)?
        .iter()
        .map(|e| match convert::as_str(&e) {
            Some(line) => Ok(line),
            None if e.is_object() && !e.is_function() => {
                let text: String = JSON::stringify(&e)
                    .ok()
                    .and_then(|s| s.as_string())
                    .ok_or_else(bad)?;
                // The core's JSON tree reader: the module has no other.
                let record = strongroom_core::json_value(&text).map_err(|_| bad())?;
                Ok(strongroom_core::audit::record_line(&record))
            }
            None => Err(bad()),
        })
        .collect()
}

/// The `keyId` of a `{ keyId }` request.
fn key_id_request(request: &JsValue) -> strongroom_core::Result<String> {
    Req::new(request, &["keyId"])?.str("keyId")
}

fn data_key_request(request: &JsValue) -> strongroom_core::Result<GenerateDataKeyRequest> {
    let r = Req::new(
        request,
        &[
            "keyId",
            "keySpec",
            "numberOfBytes",
            "encryptionContext",
            "grantTokens",
        ],
    )?;
    Ok(GenerateDataKeyRequest {
        key_id: r.str("keyId")?,
        key_spec: r.opt_enum("keySpec")?,
        number_of_bytes: r.opt_u32("numberOfBytes")?,
        encryption_context: r.context("encryptionContext")?,
        grant_tokens: r.str_list("grantTokens")?,
    })
}

fn data_key_pair_request(request: &JsValue) -> strongroom_core::Result<GenerateDataKeyPairRequest> {
    let r = Req::new(
        request,
        &["keyId", "keyPairSpec", "encryptionContext", "grantTokens"],
    )?;
    Ok(GenerateDataKeyPairRequest {
        key_id: r.str("keyId")?,
        key_pair_spec: r.opt_enum("keyPairSpec")?,
        encryption_context: r.context("encryptionContext")?,
        grant_tokens: r.str_list("grantTokens")?,
    })
}
