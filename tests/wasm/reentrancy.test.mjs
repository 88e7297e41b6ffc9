// Calls back into the strongroom npm package from inside a call, under
// Node's test runner: a getter of any request member (or a replaced
// Date.now) may call the keystore the call is for, and free() from such a
// getter frees every handle except those the calls in progress use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import {
  Keyring, Keystore, MessageDecryptor, MessageEncryptor, StrongroomError, decryptMessage, encryptMessage,
} from 'strongroom';

const rootKey = () => crypto.webcrypto.getRandomValues(new Uint8Array(32));
const bytes = (s) => new TextEncoder().encode(s);
const text = (b) => new TextDecoder().decode(b);
const RETIRER = 'arn:aws:iam::000000000000:user/retirer';
const BOB = 'arn:aws:iam::444455556666:user/bob';

function throwsCode(fn, code) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof StrongroomError, `not a StrongroomError: ${e}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

// The request `req` with each member read through a getter that first
// calls `inner` (a call into the package); counts the getters that ran.
function withGetters(req, inner, seen) {
  const out = {};
  for (const [name, value] of Object.entries(req)) {
    Object.defineProperty(out, name, {
      enumerable: true,
      configurable: true,
      get() {
        try {
          inner();
        } catch (e) {
          seen.errors.push(`${name}: ${e.code ?? e.name}: ${e.message}`);
          throw e;
        }
        seen.read.push(name);
        return value;
      },
    });
  }
  return out;
}

test('a getter of every request member may call the same keystore (requests are read before the keystore is taken)', () => {
  const ks = Keystore.create({ rootKey: rootKey() });
  const probe = ks.createKey({ description: 'probe' }).keyMetadata.keyId;
  let inner = 0;
  // Before: enableKey, disableKey, createAlias, deleteAlias, tagResource,
  // revokeGrant, the list operations and others took the keystore first,
  // so this call answered "the keystore is in use by another call".
  const reenter = () => {
    assert.equal(ks.describeKey({ keyId: probe }).keyMetadata.keyId, probe);
    inner++;
  };
  const call = (method, req) => {
    const seen = { read: [], errors: [] };
    let out;
    try {
      out = ks[method](withGetters(req, reenter, seen));
    } catch (e) {
      assert.fail(`${method}: ${e.code}: ${e.message} (in its getters: ${seen.errors.join('; ')})`);
    }
    assert.deepEqual(seen.errors, [], method);
    assert.deepEqual([...seen.read].sort(), Object.keys(req).sort(), `${method} read each member once`);
    return out;
  };
  const ctx = { purpose: 're-entrant' };

  // Key management.
  const key = call('createKey', { description: 'k', keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', tags: [{ tagKey: 't', tagValue: 'v' }] }).keyMetadata.keyId;
  const other = ks.createKey().keyMetadata.keyId;
  assert.equal(call('describeKey', { keyId: key, grantTokens: [] }).keyMetadata.keyId, key);
  assert.ok(call('listKeys', { limit: 50 }).keys.length >= 3);
  call('updateKeyDescription', { keyId: key, description: 'renamed' });
  call('disableKey', { keyId: key });
  assert.equal(ks.describeKey({ keyId: key }).keyMetadata.keyState, 'Disabled');
  call('enableKey', { keyId: key });
  assert.equal(ks.describeKey({ keyId: key }).keyMetadata.keyState, 'Enabled');
  call('enableKeyRotation', { keyId: key, rotationPeriodInDays: 90 });
  assert.equal(call('getKeyRotationStatus', { keyId: key }).keyRotationEnabled, true);
  call('disableKeyRotation', { keyId: key });
  call('rotateKeyOnDemand', { keyId: key });
  assert.ok(call('listKeyRotations', { keyId: key, limit: 10 }).rotations.length >= 1);
  const doomed = ks.createKey().keyMetadata.keyId;
  assert.ok(call('scheduleKeyDeletion', { keyId: doomed, pendingWindowInDays: 7 }).deletionDate instanceof Date);
  call('cancelKeyDeletion', { keyId: doomed });

  // Aliases and tags.
  call('createAlias', { aliasName: 'alias/re', targetKeyId: key });
  call('updateAlias', { aliasName: 'alias/re', targetKeyId: other });
  assert.equal(call('listAliases', { keyId: other, limit: 10 }).aliases[0].aliasName, 'alias/re');
  call('deleteAlias', { aliasName: 'alias/re' });
  assert.equal(ks.listAliases({ keyId: other }).aliases.length, 0);
  call('tagResource', { keyId: key, tags: [{ tagKey: 'a', tagValue: '1' }, { tagKey: 'b', tagValue: '2' }] });
  call('untagResource', { keyId: key, tagKeys: ['a'] });
  assert.deepEqual(call('listResourceTags', { keyId: key, limit: 10 }).tags.map((t) => t.tagKey).sort(), ['b', 't']);

  // Key policies and grants.
  const { policy } = call('getKeyPolicy', { keyId: key, policyName: 'default' });
  call('putKeyPolicy', { keyId: key, policy, policyName: 'default', bypassPolicyLockoutSafetyCheck: false });
  assert.deepEqual(call('listKeyPolicies', { keyId: key, limit: 10 }).policyNames, ['default']);
  const grant = call('createGrant', {
    keyId: key, granteePrincipal: BOB, operations: ['Encrypt', 'Decrypt'], retiringPrincipal: RETIRER,
    constraints: { encryptionContextSubset: ctx }, name: 'g', grantTokens: [],
  });
  assert.equal(call('listGrants', { keyId: key, grantId: grant.grantId, granteePrincipal: BOB, limit: 10 }).grants.length, 1);
  assert.equal(call('listRetirableGrants', { retiringPrincipal: RETIRER, limit: 10 }).grants.length, 1);
  call('retireGrant', { keyId: key, grantId: grant.grantId });
  const revoked = ks.createGrant({ keyId: key, granteePrincipal: BOB, operations: ['Encrypt'] });
  call('revokeGrant', { keyId: key, grantId: revoked.grantId });
  assert.equal(ks.listGrants({ keyId: key }).grants.length, 0);

  // Cryptographic operations.
  const enc = call('encrypt', { keyId: key, plaintext: bytes('secret'), encryptionContext: ctx, encryptionAlgorithm: 'SYMMETRIC_DEFAULT', grantTokens: [] });
  assert.equal(text(call('decrypt', { ciphertextBlob: enc.ciphertextBlob, encryptionContext: ctx, keyId: key, encryptionAlgorithm: 'SYMMETRIC_DEFAULT', grantTokens: [] }).plaintext), 'secret');
  const re = call('reEncrypt', {
    ciphertextBlob: enc.ciphertextBlob, sourceEncryptionContext: ctx, sourceKeyId: key, destinationKeyId: other,
    destinationEncryptionContext: {}, sourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', destinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', grantTokens: [],
  });
  assert.equal(text(ks.decrypt({ ciphertextBlob: re.ciphertextBlob }).plaintext), 'secret');
  assert.equal(call('generateDataKey', { keyId: key, keySpec: 'AES_256', encryptionContext: ctx, grantTokens: [] }).plaintext.length, 32);
  assert.ok(call('generateDataKeyWithoutPlaintext', { keyId: key, numberOfBytes: 16 }).ciphertextBlob instanceof Uint8Array);
  assert.equal(call('generateDataKeyPair', { keyId: key, keyPairSpec: 'ECC_NIST_P256', encryptionContext: ctx, grantTokens: [] }).keyPairSpec, 'ECC_NIST_P256');
  assert.ok(call('generateDataKeyPairWithoutPlaintext', { keyId: key, keyPairSpec: 'ECC_NIST_P256' }).publicKey instanceof Uint8Array);
  assert.equal(call('generateRandom', { numberOfBytes: 16 }).plaintext.length, 16);

  // Signing, MAC and key agreement keys.
  const signer = ks.createKey({ keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' }).keyMetadata.keyId;
  const { signature } = call('sign', { keyId: signer, message: bytes('m'), messageType: 'RAW', signingAlgorithm: 'ECDSA_SHA_256', grantTokens: [] });
  assert.equal(call('verify', { keyId: signer, message: bytes('m'), messageType: 'RAW', signature, signingAlgorithm: 'ECDSA_SHA_256', grantTokens: [] }).signatureValid, true);
  assert.ok(call('getPublicKey', { keyId: signer, grantTokens: [] }).publicKey instanceof Uint8Array);
  const mac = ks.createKey({ keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC' }).keyMetadata.keyId;
  const tag = call('generateMac', { keyId: mac, message: bytes('m'), macAlgorithm: 'HMAC_SHA_256', grantTokens: [] }).mac;
  assert.equal(call('verifyMac', { keyId: mac, message: bytes('m'), mac: tag, macAlgorithm: 'HMAC_SHA_256', grantTokens: [] }).macValid, true);
  const agree = ks.createKey({ keySpec: 'ECC_NIST_P256', keyUsage: 'KEY_AGREEMENT' }).keyMetadata.keyId;
  const peer = ks.getPublicKey({ keyId: agree }).publicKey;
  assert.equal(call('deriveSharedSecret', { keyId: agree, keyAgreementAlgorithm: 'ECDH', publicKey: peer, grantTokens: [] }).sharedSecret.length, 32);

  // Imported key material.
  const ext = ks.createKey({ origin: 'EXTERNAL' }).keyMetadata.keyId;
  const p = call('getParametersForImport', { keyId: ext, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048' });
  const wrapping = crypto.createPublicKey({ key: Buffer.from(p.publicKey), format: 'der', type: 'spki' });
  const wrapped = crypto.publicEncrypt({ key: wrapping, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, crypto.randomBytes(32));
  call('importKeyMaterial', {
    keyId: ext, importToken: p.importToken, encryptedKeyMaterial: new Uint8Array(wrapped),
    expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', importType: 'NEW_KEY_MATERIAL',
  });
  assert.equal(ks.describeKey({ keyId: ext }).keyMetadata.keyState, 'Enabled');
  call('deleteImportedKeyMaterial', { keyId: ext });
  assert.equal(ks.describeKey({ keyId: ext }).keyMetadata.keyState, 'PendingImport');

  assert.ok(inner > 100, `${inner} calls from getters`);
  assert.equal(ks.verifyAuditLog().intact, true);
  ks.free();
});

test('a replaced Date.now may call the keystore: the clock is read before the keystore is taken', () => {
  const ks = Keystore.create({ rootKey: rootKey() });
  const key = ks.createKey().keyMetadata.keyId;
  const kms = Keyring.kms(ks, { keyIds: [key] });
  const realNow = Date.now;
  let inside = false;
  let calls = 0;
  Date.now = () => {
    // Once per outer call: the inner call reads the clock too.
    if (!inside) {
      inside = true;
      try {
        assert.equal(ks.describeKey({ keyId: key }).keyMetadata.keyId, key);
        calls++;
      } finally {
        inside = false;
      }
    }
    return realNow();
  };
  try {
    ks.disableKey({ keyId: key });
    ks.enableKey({ keyId: key });
    const { ciphertextBlob } = ks.encrypt({ keyId: key, plaintext: bytes('clock') });
    assert.equal(text(ks.decrypt({ ciphertextBlob }).plaintext), 'clock');
    assert.equal(ks.purgeDeletedKeys(), 0);
    // The KMS keyring's calls (GenerateDataKey, Decrypt) too.
    const msg = encryptMessage(kms, bytes('envelope'));
    assert.equal(text(decryptMessage(kms, msg).plaintext), 'envelope');
  } finally {
    Date.now = realNow;
  }
  assert.ok(calls >= 7, `${calls} calls from Date.now`);
  kms.free();
  ks.free();
});

test('free() from a getter frees any handle that no call in progress uses', () => {
  const ks = Keystore.create({ rootKey: rootKey() });
  const key = ks.createKey().keyMetadata.keyId;
  const otherKs = Keystore.create({ rootKey: rootKey() });
  const app = ks.asPrincipal('arn:aws:iam::000000000000:user/app');
  const aes = Keyring.rawAes({ keyNamespace: 'ns', keyName: 'k', wrappingKey: rootKey() });
  const kms = Keyring.kms(ks, { keyIds: [key] });
  const errors = [];
  const tryFree = (h) => { try { h.free(); } catch (e) { errors.push(e); } };
  const refusedOnce = (expected) => {
    assert.equal(errors.length, expected, errors.map((e) => e.message).join('; '));
    for (const e of errors.splice(0)) {
      assert.ok(e instanceof StrongroomError, `not a StrongroomError: ${e}`);
      assert.equal(e.code, 'KMSInternalException');
      assert.match(e.message, /in use by a call in progress/);
    }
  };

  // Before: every free() inside a call was refused (one counter for all
  // handles). Now only the handle whose call runs is.
  const { ciphertextBlob } = ks.encrypt({
    get keyId() { tryFree(otherKs); tryFree(app); tryFree(aes); tryFree(ks); return key; },
    plaintext: bytes('x'),
  });
  refusedOnce(1);
  for (const freed of [otherKs, app]) throwsCode(() => freed.describeKey({ keyId: key }), 'ValidationException');
  throwsCode(() => encryptMessage(aes, bytes('x')), 'ValidationException');
  // The handle of the call is intact.
  assert.equal(text(ks.decrypt({ ciphertextBlob }).plaintext), 'x');

  // A keyring in a call, and the keystore it was made over: the keyring's
  // handle is in use, the keystore's is not (the keyring shares the
  // keystore, which stays alive).
  const msg = encryptMessage(kms, bytes('kept'), {
    get encryptionContext() { tryFree(kms); tryFree(ks); return { a: 'b' }; },
  });
  refusedOnce(1);
  throwsCode(() => ks.listKeys(), 'ValidationException');
  assert.equal(text(decryptMessage(kms, msg).plaintext), 'kept');

  // A handle argument (the keyring of a constructor) is in use too, and
  // calls nest: inside a decryptor's constructor, a getter of a call on
  // another keystore may free neither handle, but a third.
  const ks2 = Keystore.create({ rootKey: rootKey() });
  const key2 = ks2.createKey().keyMetadata.keyId;
  const third = Keyring.rawAes({ keyNamespace: 'ns', keyName: 'k3', wrappingKey: rootKey() });
  const dec = new MessageDecryptor(kms, {
    get commitmentPolicy() {
      ks2.describeKey({ get keyId() { tryFree(kms); tryFree(ks2); tryFree(third); return key2; } });
      return undefined;
    },
  });
  refusedOnce(2);
  throwsCode(() => new MessageEncryptor(third), 'ValidationException');
  assert.ok(dec.update(msg) instanceof Uint8Array);
  assert.equal(dec.finish().encryptionContext.a, 'b');
  // Nothing stays marked in use after the calls: each handle frees.
  for (const h of [dec, kms, ks2]) h.free();
  assert.equal(errors.length, 0);
  throwsCode(() => ks2.listKeys(), 'ValidationException');
});
