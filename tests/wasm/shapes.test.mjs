// The shape of every Keystore response of the strongroom npm package under
// Node's test runner: its members in their order (Object.keys), each one's
// type (Date, Uint8Array, string, number, boolean, undefined), nested
// objects and array elements alike, and that objects are plain. Pinned so
// that a change of how responses are turned into JavaScript shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { Keystore } from 'strongroom';

const rootKey = () => crypto.webcrypto.getRandomValues(new Uint8Array(32));
const bytes = (s) => new TextEncoder().encode(s);
const BOB = 'arn:aws:iam::444455556666:user/bob';
const RETIRER = 'arn:aws:iam::000000000000:user/retirer';
const DAY_MS = 86_400_000;

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

// The shape of a value: its type, or for an object its members in order
// (an array: the shape of each element).
function shape(v) {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  if (v instanceof Uint8Array) return 'Uint8Array';
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : 'Date';
  // Elements in the order of their shapes (grants come in the order of
  // their random IDs).
  if (Array.isArray(v)) return v.map(shape).sort((a, b) => cmp(JSON.stringify(a), JSON.stringify(b)));
  const proto = Object.getPrototypeOf(v);
  assert.ok(proto === Object.prototype, `not a plain object: ${proto?.constructor?.name}`);
  const out = {};
  for (const k of Object.keys(v)) {
    Object.defineProperty(out, k, { value: shape(v[k]), enumerable: true });
  }
  return out;
}

function responses() {
  const ks = Keystore.create({ rootKey: rootKey() });
  const r = {};
  const created = ks.createKey({ description: 'd', tags: [{ tagKey: 't', tagValue: 'v' }] });
  r.createKey = created;
  const key = created.keyMetadata.keyId;
  const other = ks.createKey().keyMetadata.keyId;
  r.describeKey = ks.describeKey({ keyId: key });
  r.listKeys = ks.listKeys({ limit: 1 });
  r.listKeysLast = ks.listKeys();
  const doomed = ks.createKey().keyMetadata.keyId;
  r.scheduleKeyDeletion = ks.scheduleKeyDeletion({ keyId: doomed, pendingWindowInDays: 7 });
  r.describePendingDeletion = ks.describeKey({ keyId: doomed });
  r.cancelKeyDeletion = ks.cancelKeyDeletion({ keyId: doomed });
  r.getKeyRotationStatusOff = ks.getKeyRotationStatus({ keyId: key });
  ks.enableKeyRotation({ keyId: key, rotationPeriodInDays: 90 });
  r.getKeyRotationStatusOn = ks.getKeyRotationStatus({ keyId: key });
  r.rotateKeyOnDemand = ks.rotateKeyOnDemand({ keyId: key });
  r.getKeyRotationStatusRotated = ks.getKeyRotationStatus({ keyId: key });
  r.listKeyRotations = ks.listKeyRotations({ keyId: key });
  ks.createAlias({ aliasName: 'alias/shape', targetKeyId: key });
  r.listAliases = ks.listAliases({ limit: 1 });
  r.listAliasesOfKey = ks.listAliases({ keyId: key });
  ks.tagResource({ keyId: key, tags: [{ tagKey: 'a', tagValue: '' }] });
  r.listResourceTags = ks.listResourceTags({ keyId: key, limit: 1 });
  r.getKeyPolicy = ks.getKeyPolicy({ keyId: key });
  r.listKeyPolicies = ks.listKeyPolicies({ keyId: key });
  r.createGrant = ks.createGrant({
    keyId: key, granteePrincipal: BOB, retiringPrincipal: RETIRER, operations: ['Encrypt', 'Decrypt'], name: 'g',
    constraints: { encryptionContextSubset: JSON.parse('{"Dept":"a","lower":"b","AWSKey":"c","__proto__":"d","PublicKey":"AAAA","CreationDate":"1"}') },
  });
  ks.createGrant({ keyId: key, granteePrincipal: BOB, operations: ['Encrypt'], constraints: { encryptionContextEquals: { Z: 'z' } } });
  ks.createGrant({ keyId: other, granteePrincipal: BOB, operations: ['Decrypt'] });
  r.listGrants = ks.listGrants({ keyId: key, limit: 2 });
  r.listGrantsOther = ks.listGrants({ keyId: other });
  r.listRetirableGrants = ks.listRetirableGrants({ retiringPrincipal: RETIRER });
  const ctx = { purpose: 'shape' };
  const enc = ks.encrypt({ keyId: key, plaintext: bytes('p'), encryptionContext: ctx });
  r.encrypt = enc;
  r.decrypt = ks.decrypt({ ciphertextBlob: enc.ciphertextBlob, encryptionContext: ctx });
  r.reEncrypt = ks.reEncrypt({ ciphertextBlob: enc.ciphertextBlob, sourceEncryptionContext: ctx, destinationKeyId: other });
  r.generateDataKey = ks.generateDataKey({ keyId: key, keySpec: 'AES_256' });
  r.generateDataKeyWithoutPlaintext = ks.generateDataKeyWithoutPlaintext({ keyId: key, numberOfBytes: 16 });
  r.generateDataKeyPair = ks.generateDataKeyPair({ keyId: key, keyPairSpec: 'ECC_NIST_P256' });
  r.generateDataKeyPairWithoutPlaintext = ks.generateDataKeyPairWithoutPlaintext({ keyId: key, keyPairSpec: 'ECC_NIST_P256' });
  r.generateRandom = ks.generateRandom({ numberOfBytes: 8 });

  const signer = ks.createKey({ keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' });
  r.createKeySigning = signer;
  const sid = signer.keyMetadata.keyId;
  r.sign = ks.sign({ keyId: sid, message: bytes('m'), signingAlgorithm: 'ECDSA_SHA_256' });
  r.verify = ks.verify({ keyId: sid, message: bytes('m'), signature: r.sign.signature, signingAlgorithm: 'ECDSA_SHA_256' });
  r.getPublicKeySigning = ks.getPublicKey({ keyId: sid });
  const rsa = ks.createKey({ keySpec: 'RSA_2048', keyUsage: 'ENCRYPT_DECRYPT' }).keyMetadata.keyId;
  r.describeKeyRsa = ks.describeKey({ keyId: rsa });
  r.getPublicKeyRsa = ks.getPublicKey({ keyId: rsa });
  const mac = ks.createKey({ keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC' });
  r.createKeyMac = mac;
  r.generateMac = ks.generateMac({ keyId: mac.keyMetadata.keyId, message: bytes('m'), macAlgorithm: 'HMAC_SHA_256' });
  r.verifyMac = ks.verifyMac({ keyId: mac.keyMetadata.keyId, message: bytes('m'), mac: r.generateMac.mac, macAlgorithm: 'HMAC_SHA_256' });
  const agree = ks.createKey({ keySpec: 'ECC_NIST_P256', keyUsage: 'KEY_AGREEMENT' });
  r.createKeyAgreement = agree;
  const peer = ks.getPublicKey({ keyId: agree.keyMetadata.keyId });
  r.getPublicKeyAgreement = peer;
  r.deriveSharedSecret = ks.deriveSharedSecret({ keyId: agree.keyMetadata.keyId, keyAgreementAlgorithm: 'ECDH', publicKey: peer.publicKey });

  const ext = ks.createKey({ origin: 'EXTERNAL' });
  r.createKeyExternal = ext;
  const p = ks.getParametersForImport({ keyId: ext.keyMetadata.keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048' });
  r.getParametersForImport = p;
  const wrapping = crypto.createPublicKey({ key: Buffer.from(p.publicKey), format: 'der', type: 'spki' });
  const wrapped = crypto.publicEncrypt({ key: wrapping, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, crypto.randomBytes(32));
  ks.importKeyMaterial({
    keyId: ext.keyMetadata.keyId, importToken: p.importToken, encryptedKeyMaterial: new Uint8Array(wrapped),
    expirationModel: 'KEY_MATERIAL_EXPIRES', validTo: new Date(Date.now() + DAY_MS),
  });
  r.describeKeyImported = ks.describeKey({ keyId: ext.keyMetadata.keyId });
  r.verifyAuditLog = ks.verifyAuditLog();
  ks.free();
  return r;
}

// As the package gave them when responses went through serde_json's value
// tree (main at 3761bd6): members sorted by their KMS names. One change
// since: the values of encryption-context keys that are also member names
// of bytes (`PublicKey` here) were turned into Uint8Arrays.
const EXPECTED = {
  createKey: "{\"keyMetadata\":{\"awsAccountId\":\"string\",\"arn\":\"string\",\"creationDate\":\"Date\",\"customerMasterKeySpec\":\"string\",\"description\":\"string\",\"enabled\":\"boolean\",\"encryptionAlgorithms\":[\"string\"],\"keyId\":\"string\",\"keyManager\":\"string\",\"keySpec\":\"string\",\"keyState\":\"string\",\"keyUsage\":\"string\",\"multiRegion\":\"boolean\",\"origin\":\"string\"}}",
  describeKey: "{\"keyMetadata\":{\"awsAccountId\":\"string\",\"arn\":\"string\",\"creationDate\":\"Date\",\"customerMasterKeySpec\":\"string\",\"description\":\"string\",\"enabled\":\"boolean\",\"encryptionAlgorithms\":[\"string\"],\"keyId\":\"string\",\"keyManager\":\"string\",\"keySpec\":\"string\",\"keyState\":\"string\",\"keyUsage\":\"string\",\"multiRegion\":\"boolean\",\"origin\":\"string\"}}",
  listKeys: "{\"keys\":[{\"keyArn\":\"string\",\"keyId\":\"string\"}],\"nextMarker\":\"string\",\"truncated\":\"boolean\"}",
  listKeysLast: "{\"keys\":[{\"keyArn\":\"string\",\"keyId\":\"string\"},{\"keyArn\":\"string\",\"keyId\":\"string\"}],\"truncated\":\"boolean\"}",
  scheduleKeyDeletion: "{\"deletionDate\":\"Date\",\"keyId\":\"string\",\"keyState\":\"string\",\"pendingWindowInDays\":\"number\"}",
  describePendingDeletion: "{\"keyMetadata\":{\"awsAccountId\":\"string\",\"arn\":\"string\",\"creationDate\":\"Date\",\"customerMasterKeySpec\":\"string\",\"deletionDate\":\"Date\",\"description\":\"string\",\"enabled\":\"boolean\",\"encryptionAlgorithms\":[\"string\"],\"keyId\":\"string\",\"keyManager\":\"string\",\"keySpec\":\"string\",\"keyState\":\"string\",\"keyUsage\":\"string\",\"multiRegion\":\"boolean\",\"origin\":\"string\",\"pendingDeletionWindowInDays\":\"number\"}}",
  cancelKeyDeletion: "{\"keyId\":\"string\"}",
  getKeyRotationStatusOff: "{\"keyId\":\"string\",\"keyRotationEnabled\":\"boolean\"}",
  getKeyRotationStatusOn: "{\"keyId\":\"string\",\"keyRotationEnabled\":\"boolean\",\"nextRotationDate\":\"Date\",\"rotationPeriodInDays\":\"number\"}",
  rotateKeyOnDemand: "{\"keyId\":\"string\"}",
  getKeyRotationStatusRotated: "{\"keyId\":\"string\",\"keyRotationEnabled\":\"boolean\",\"nextRotationDate\":\"Date\",\"onDemandRotationStartDate\":\"Date\",\"rotationPeriodInDays\":\"number\"}",
  listKeyRotations: "{\"rotations\":[{\"keyId\":\"string\",\"rotationDate\":\"Date\",\"rotationType\":\"string\"}],\"truncated\":\"boolean\"}",
  listAliases: "{\"aliases\":[{\"aliasArn\":\"string\",\"aliasName\":\"string\",\"creationDate\":\"Date\",\"lastUpdatedDate\":\"Date\",\"targetKeyId\":\"string\"}],\"truncated\":\"boolean\"}",
  listAliasesOfKey: "{\"aliases\":[{\"aliasArn\":\"string\",\"aliasName\":\"string\",\"creationDate\":\"Date\",\"lastUpdatedDate\":\"Date\",\"targetKeyId\":\"string\"}],\"truncated\":\"boolean\"}",
  listResourceTags: "{\"nextMarker\":\"string\",\"tags\":[{\"tagKey\":\"string\",\"tagValue\":\"string\"}],\"truncated\":\"boolean\"}",
  getKeyPolicy: "{\"policy\":\"string\",\"policyName\":\"string\"}",
  listKeyPolicies: "{\"policyNames\":[\"string\"],\"truncated\":\"boolean\"}",
  createGrant: "{\"grantId\":\"string\",\"grantToken\":\"string\"}",
  listGrants: "{\"grants\":[{\"constraints\":{\"encryptionContextEquals\":{\"Z\":\"string\"}},\"creationDate\":\"Date\",\"grantId\":\"string\",\"granteePrincipal\":\"string\",\"issuingAccount\":\"string\",\"keyId\":\"string\",\"operations\":[\"string\"]},{\"constraints\":{\"encryptionContextSubset\":{\"AWSKey\":\"string\",\"CreationDate\":\"string\",\"Dept\":\"string\",\"PublicKey\":\"string\",\"__proto__\":\"string\",\"lower\":\"string\"}},\"creationDate\":\"Date\",\"grantId\":\"string\",\"granteePrincipal\":\"string\",\"issuingAccount\":\"string\",\"keyId\":\"string\",\"name\":\"string\",\"operations\":[\"string\",\"string\"],\"retiringPrincipal\":\"string\"}],\"truncated\":\"boolean\"}",
  listGrantsOther: "{\"grants\":[{\"creationDate\":\"Date\",\"grantId\":\"string\",\"granteePrincipal\":\"string\",\"issuingAccount\":\"string\",\"keyId\":\"string\",\"operations\":[\"string\"]}],\"truncated\":\"boolean\"}",
  listRetirableGrants: "{\"grants\":[{\"constraints\":{\"encryptionContextSubset\":{\"AWSKey\":\"string\",\"CreationDate\":\"string\",\"Dept\":\"string\",\"PublicKey\":\"string\",\"__proto__\":\"string\",\"lower\":\"string\"}},\"creationDate\":\"Date\",\"grantId\":\"string\",\"granteePrincipal\":\"string\",\"issuingAccount\":\"string\",\"keyId\":\"string\",\"name\":\"string\",\"operations\":[\"string\",\"string\"],\"retiringPrincipal\":\"string\"}],\"truncated\":\"boolean\"}",
  encrypt: "{\"ciphertextBlob\":\"Uint8Array\",\"encryptionAlgorithm\":\"string\",\"keyId\":\"string\"}",
  decrypt: "{\"keyId\":\"string\",\"plaintext\":\"Uint8Array\",\"encryptionAlgorithm\":\"string\"}",
  reEncrypt: "{\"ciphertextBlob\":\"Uint8Array\",\"destinationEncryptionAlgorithm\":\"string\",\"keyId\":\"string\",\"sourceEncryptionAlgorithm\":\"string\",\"sourceKeyId\":\"string\"}",
  generateDataKey: "{\"ciphertextBlob\":\"Uint8Array\",\"plaintext\":\"Uint8Array\",\"keyId\":\"string\"}",
  generateDataKeyWithoutPlaintext: "{\"ciphertextBlob\":\"Uint8Array\",\"keyId\":\"string\"}",
  generateDataKeyPair: "{\"privateKeyCiphertextBlob\":\"Uint8Array\",\"privateKeyPlaintext\":\"Uint8Array\",\"publicKey\":\"Uint8Array\",\"keyId\":\"string\",\"keyPairSpec\":\"string\"}",
  generateDataKeyPairWithoutPlaintext: "{\"keyId\":\"string\",\"keyPairSpec\":\"string\",\"privateKeyCiphertextBlob\":\"Uint8Array\",\"publicKey\":\"Uint8Array\"}",
  generateRandom: "{\"plaintext\":\"Uint8Array\"}",
  createKeySigning: "{\"keyMetadata\":{\"awsAccountId\":\"string\",\"arn\":\"string\",\"creationDate\":\"Date\",\"customerMasterKeySpec\":\"string\",\"description\":\"string\",\"enabled\":\"boolean\",\"keyId\":\"string\",\"keyManager\":\"string\",\"keySpec\":\"string\",\"keyState\":\"string\",\"keyUsage\":\"string\",\"multiRegion\":\"boolean\",\"origin\":\"string\",\"signingAlgorithms\":[\"string\"]}}",
  sign: "{\"keyId\":\"string\",\"signature\":\"Uint8Array\",\"signingAlgorithm\":\"string\"}",
  verify: "{\"keyId\":\"string\",\"signatureValid\":\"boolean\",\"signingAlgorithm\":\"string\"}",
  getPublicKeySigning: "{\"customerMasterKeySpec\":\"string\",\"keyId\":\"string\",\"keySpec\":\"string\",\"keyUsage\":\"string\",\"publicKey\":\"Uint8Array\",\"signingAlgorithms\":[\"string\"]}",
  describeKeyRsa: "{\"keyMetadata\":{\"awsAccountId\":\"string\",\"arn\":\"string\",\"creationDate\":\"Date\",\"customerMasterKeySpec\":\"string\",\"description\":\"string\",\"enabled\":\"boolean\",\"encryptionAlgorithms\":[\"string\",\"string\"],\"keyId\":\"string\",\"keyManager\":\"string\",\"keySpec\":\"string\",\"keyState\":\"string\",\"keyUsage\":\"string\",\"multiRegion\":\"boolean\",\"origin\":\"string\"}}",
  getPublicKeyRsa: "{\"customerMasterKeySpec\":\"string\",\"encryptionAlgorithms\":[\"string\",\"string\"],\"keyId\":\"string\",\"keySpec\":\"string\",\"keyUsage\":\"string\",\"publicKey\":\"Uint8Array\"}",
  createKeyMac: "{\"keyMetadata\":{\"awsAccountId\":\"string\",\"arn\":\"string\",\"creationDate\":\"Date\",\"customerMasterKeySpec\":\"string\",\"description\":\"string\",\"enabled\":\"boolean\",\"keyId\":\"string\",\"keyManager\":\"string\",\"keySpec\":\"string\",\"keyState\":\"string\",\"keyUsage\":\"string\",\"macAlgorithms\":[\"string\"],\"multiRegion\":\"boolean\",\"origin\":\"string\"}}",
  generateMac: "{\"keyId\":\"string\",\"mac\":\"Uint8Array\",\"macAlgorithm\":\"string\"}",
  verifyMac: "{\"keyId\":\"string\",\"macAlgorithm\":\"string\",\"macValid\":\"boolean\"}",
  createKeyAgreement: "{\"keyMetadata\":{\"awsAccountId\":\"string\",\"arn\":\"string\",\"creationDate\":\"Date\",\"customerMasterKeySpec\":\"string\",\"description\":\"string\",\"enabled\":\"boolean\",\"keyAgreementAlgorithms\":[\"string\"],\"keyId\":\"string\",\"keyManager\":\"string\",\"keySpec\":\"string\",\"keyState\":\"string\",\"keyUsage\":\"string\",\"multiRegion\":\"boolean\",\"origin\":\"string\"}}",
  getPublicKeyAgreement: "{\"customerMasterKeySpec\":\"string\",\"keyAgreementAlgorithms\":[\"string\"],\"keyId\":\"string\",\"keySpec\":\"string\",\"keyUsage\":\"string\",\"publicKey\":\"Uint8Array\"}",
  deriveSharedSecret: "{\"keyId\":\"string\",\"sharedSecret\":\"Uint8Array\",\"keyAgreementAlgorithm\":\"string\",\"keyOrigin\":\"string\"}",
  createKeyExternal: "{\"keyMetadata\":{\"awsAccountId\":\"string\",\"arn\":\"string\",\"creationDate\":\"Date\",\"customerMasterKeySpec\":\"string\",\"description\":\"string\",\"enabled\":\"boolean\",\"encryptionAlgorithms\":[\"string\"],\"expirationModel\":\"string\",\"keyId\":\"string\",\"keyManager\":\"string\",\"keySpec\":\"string\",\"keyState\":\"string\",\"keyUsage\":\"string\",\"multiRegion\":\"boolean\",\"origin\":\"string\"}}",
  getParametersForImport: "{\"importToken\":\"Uint8Array\",\"keyId\":\"string\",\"parametersValidTo\":\"Date\",\"publicKey\":\"Uint8Array\"}",
  describeKeyImported: "{\"keyMetadata\":{\"awsAccountId\":\"string\",\"arn\":\"string\",\"creationDate\":\"Date\",\"customerMasterKeySpec\":\"string\",\"description\":\"string\",\"enabled\":\"boolean\",\"encryptionAlgorithms\":[\"string\"],\"expirationModel\":\"string\",\"keyId\":\"string\",\"keyManager\":\"string\",\"keySpec\":\"string\",\"keyState\":\"string\",\"keyUsage\":\"string\",\"multiRegion\":\"boolean\",\"origin\":\"string\",\"validTo\":\"Date\"}}",
  verifyAuditLog: "{\"intact\":\"boolean\",\"count\":\"number\"}",
};

test('every response: its members in order, their types, plain objects', () => {
  const got = responses();
  for (const [name, value] of Object.entries(got)) {
    assert.equal(JSON.stringify(shape(value)), EXPECTED[name], name);
  }
  assert.deepEqual(Object.keys(got).sort(), Object.keys(EXPECTED).sort());
});
