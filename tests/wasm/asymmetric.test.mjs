// RSAES-OAEP encrypt/decrypt and reEncrypt, data key pairs, the import of
// key material, and the KMS keyring of envelope encryption, under Node's
// test runner: success paths checked against Node's OpenSSL where it can
// (OAEP, PKCS#8 / SPKI, AES key wrap with padding), and each error path
// with its KMS exception code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import {
  Keyring, Keystore, MessageDecryptor, StrongroomError, decryptMessage, encryptMessage,
} from 'strongroom';

const rootKey = () => crypto.webcrypto.getRandomValues(new Uint8Array(32));
const bytes = (s) => new TextEncoder().encode(s);
const text = (b) => new TextDecoder().decode(b);
const DAY_MS = 86_400_000;

function throwsCode(fn, code) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof StrongroomError, `not a StrongroomError: ${e}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

const OAEP = { RSAES_OAEP_SHA_1: 'sha1', RSAES_OAEP_SHA_256: 'sha256' };

function rsaPublicEncrypt(spki, alg, plaintext) {
  const key = crypto.createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  return new Uint8Array(crypto.publicEncrypt({ key, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP[alg] }, plaintext));
}

test('encrypt / decrypt with an RSA key (RSAES_OAEP_SHA_1 and _256)', () => {
  const ks = Keystore.create({ rootKey: rootKey() });
  const md = ks.createKey({ keySpec: 'RSA_2048', keyUsage: 'ENCRYPT_DECRYPT' }).keyMetadata;
  assert.deepEqual(md.encryptionAlgorithms, ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']);
  const keyId = md.keyId;
  const spki = ks.getPublicKey({ keyId }).publicKey;
  for (const alg of ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']) {
    const e = ks.encrypt({ keyId, plaintext: bytes('to rsa'), encryptionAlgorithm: alg });
    assert.equal(e.ciphertextBlob.length, 256);
    assert.equal(e.encryptionAlgorithm, alg);
    assert.equal(e.keyId, md.arn);
    const d = ks.decrypt({ ciphertextBlob: e.ciphertextBlob, keyId, encryptionAlgorithm: alg });
    assert.equal(text(d.plaintext), 'to rsa');
    assert.equal(d.encryptionAlgorithm, alg);
    assert.equal(d.keyId, md.arn);
    // What Node's OpenSSL encrypts to the public key decrypts too.
    const fromNode = rsaPublicEncrypt(spki, alg, bytes('from openssl'));
    assert.equal(text(ks.decrypt({ ciphertextBlob: fromNode, keyId, encryptionAlgorithm: alg }).plaintext), 'from openssl');
  }
  const blob = ks.encrypt({ keyId, plaintext: bytes('x'), encryptionAlgorithm: 'RSAES_OAEP_SHA_256' }).ciphertextBlob;
  // Error paths: the other hash, no algorithm, a context, tampering, length, usage.
  throwsCode(() => ks.decrypt({ ciphertextBlob: blob, keyId, encryptionAlgorithm: 'RSAES_OAEP_SHA_1' }), 'InvalidCiphertextException');
  throwsCode(() => ks.decrypt({ ciphertextBlob: blob, keyId }), 'ValidationException');
  throwsCode(() => ks.decrypt({ ciphertextBlob: blob, keyId, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }), 'InvalidKeyUsageException');
  throwsCode(() => ks.decrypt({ ciphertextBlob: blob, keyId, encryptionAlgorithm: 'RSAES_OAEP_SHA_256', encryptionContext: { a: 'b' } }), 'ValidationException');
  const bad = blob.slice();
  bad[7] ^= 1;
  throwsCode(() => ks.decrypt({ ciphertextBlob: bad, keyId, encryptionAlgorithm: 'RSAES_OAEP_SHA_256' }), 'InvalidCiphertextException');
  throwsCode(() => ks.encrypt({ keyId, plaintext: bytes('x') }), 'ValidationException');
  throwsCode(() => ks.encrypt({ keyId, plaintext: new Uint8Array(191), encryptionAlgorithm: 'RSAES_OAEP_SHA_256' }), 'ValidationException');
  throwsCode(() => ks.encrypt({ keyId, plaintext: bytes('x'), encryptionAlgorithm: 'RSAES_OAEP_SHA_512' }), 'ValidationException');
  const signing = ks.createKey({ keySpec: 'RSA_2048', keyUsage: 'SIGN_VERIFY' }).keyMetadata.keyId;
  throwsCode(() => ks.encrypt({ keyId: signing, plaintext: bytes('x'), encryptionAlgorithm: 'RSAES_OAEP_SHA_256' }), 'InvalidKeyUsageException');
  ks.disableKey({ keyId });
  throwsCode(() => ks.decrypt({ ciphertextBlob: blob, keyId, encryptionAlgorithm: 'RSAES_OAEP_SHA_256' }), 'DisabledException');
  ks.free();
});

test('reEncrypt between an RSA key and a symmetric key, both ways', () => {
  const ks = Keystore.create({ rootKey: rootKey() });
  const rsa = ks.createKey({ keySpec: 'RSA_3072', keyUsage: 'ENCRYPT_DECRYPT' }).keyMetadata;
  const sym = ks.createKey().keyMetadata;
  const blob = ks.encrypt({ keyId: rsa.keyId, plaintext: bytes('moving'), encryptionAlgorithm: 'RSAES_OAEP_SHA_1' }).ciphertextBlob;
  const toSym = ks.reEncrypt({
    ciphertextBlob: blob, sourceKeyId: rsa.keyId, sourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_1',
    destinationKeyId: sym.keyId, destinationEncryptionContext: { to: 'sym' },
  });
  assert.equal(toSym.sourceKeyId, rsa.arn);
  assert.equal(toSym.keyId, sym.arn);
  assert.equal(toSym.sourceEncryptionAlgorithm, 'RSAES_OAEP_SHA_1');
  assert.equal(toSym.destinationEncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
  assert.equal(text(ks.decrypt({ ciphertextBlob: toSym.ciphertextBlob, encryptionContext: { to: 'sym' } }).plaintext), 'moving');
  const toRsa = ks.reEncrypt({
    ciphertextBlob: toSym.ciphertextBlob, sourceEncryptionContext: { to: 'sym' },
    destinationKeyId: rsa.keyId, destinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
  });
  assert.equal(toRsa.destinationEncryptionAlgorithm, 'RSAES_OAEP_SHA_256');
  assert.equal(toRsa.ciphertextBlob.length, 384);
  assert.equal(text(ks.decrypt({ ciphertextBlob: toRsa.ciphertextBlob, keyId: rsa.keyId, encryptionAlgorithm: 'RSAES_OAEP_SHA_256' }).plaintext), 'moving');
  // No destination algorithm for an RSA destination; an RSA algorithm for a symmetric source.
  throwsCode(() => ks.reEncrypt({ ciphertextBlob: toSym.ciphertextBlob, sourceEncryptionContext: { to: 'sym' }, destinationKeyId: rsa.keyId }), 'ValidationException');
  throwsCode(() => ks.reEncrypt({ ciphertextBlob: toSym.ciphertextBlob, sourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_1', destinationKeyId: sym.keyId }), 'InvalidKeyUsageException');
  throwsCode(() => ks.reEncrypt({ ciphertextBlob: blob, sourceKeyId: rsa.keyId, sourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', destinationKeyId: sym.keyId }), 'InvalidCiphertextException');
  ks.free();
});

test('generateDataKeyPair / generateDataKeyPairWithoutPlaintext', () => {
  const ks = Keystore.create({ rootKey: rootKey() });
  const md = ks.createKey().keyMetadata;
  const encryptionContext = { purpose: 'pair' };
  for (const keyPairSpec of ['ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'RSA_2048']) {
    const p = ks.generateDataKeyPair({ keyId: md.keyId, keyPairSpec, encryptionContext });
    assert.equal(p.keyId, md.arn);
    assert.equal(p.keyPairSpec, keyPairSpec);
    // Node's OpenSSL reads the PKCS#8 private key; its public key is the SPKI returned.
    const priv = crypto.createPrivateKey({ key: Buffer.from(p.privateKeyPlaintext), format: 'der', type: 'pkcs8' });
    assert.deepEqual(new Uint8Array(crypto.createPublicKey(priv).export({ format: 'der', type: 'spki' })), p.publicKey);
    const d = ks.decrypt({ ciphertextBlob: p.privateKeyCiphertextBlob, encryptionContext });
    assert.deepEqual(d.plaintext, p.privateKeyPlaintext);
  }
  const w = ks.generateDataKeyPairWithoutPlaintext({ keyId: md.keyId, keyPairSpec: 'ECC_NIST_P256' });
  assert.equal('privateKeyPlaintext' in w, false);
  assert.equal(w.keyPairSpec, 'ECC_NIST_P256');
  const priv = ks.decrypt({ ciphertextBlob: w.privateKeyCiphertextBlob }).plaintext;
  assert.deepEqual(new Uint8Array(crypto.createPublicKey(crypto.createPrivateKey({ key: Buffer.from(priv), format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' })), w.publicKey);

  throwsCode(() => ks.generateDataKeyPair({ keyId: md.keyId }), 'ValidationException');
  throwsCode(() => ks.generateDataKeyPair({ keyId: md.keyId, keyPairSpec: 'RSA_1024' }), 'ValidationException');
  throwsCode(() => ks.generateDataKeyPair({ keyId: md.keyId, keyPairSpec: 'ECC_NIST_P256', bogus: 1 }), 'ValidationException');
  throwsCode(() => ks.generateDataKeyPairWithoutPlaintext({ keyId: 'alias/missing', keyPairSpec: 'ECC_NIST_P256' }), 'NotFoundException');
  const rsa = ks.createKey({ keySpec: 'RSA_2048', keyUsage: 'ENCRYPT_DECRYPT' }).keyMetadata.keyId;
  throwsCode(() => ks.generateDataKeyPair({ keyId: rsa, keyPairSpec: 'ECC_NIST_P256' }), 'InvalidKeyUsageException');
  ks.disableKey({ keyId: md.keyId });
  throwsCode(() => ks.generateDataKeyPairWithoutPlaintext({ keyId: md.keyId, keyPairSpec: 'ECC_NIST_P256' }), 'DisabledException');
  ks.free();
});

/** AES key wrap with padding (RFC 5649) by Node's OpenSSL. */
function aesKwp(kek, material) {
  const c = crypto.createCipheriv('id-aes256-wrap-pad', kek, Buffer.from('a65959a6', 'hex'));
  return Buffer.concat([c.update(material), c.final()]);
}

test('getParametersForImport / importKeyMaterial / deleteImportedKeyMaterial', () => {
  const ks = Keystore.create({ rootKey: rootKey() });
  const md = ks.createKey({ origin: 'EXTERNAL', description: 'byok' }).keyMetadata;
  const keyId = md.keyId;
  assert.equal(md.keyState, 'PendingImport');
  assert.equal(md.origin, 'EXTERNAL');
  throwsCode(() => ks.encrypt({ keyId, plaintext: bytes('x') }), 'KMSInvalidStateException');

  const material = crypto.randomBytes(32);
  const before = Date.now();
  const p = ks.getParametersForImport({ keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048' });
  assert.equal(p.keyId, md.arn);
  assert.ok(p.importToken instanceof Uint8Array && p.importToken.length > 10);
  assert.ok(p.parametersValidTo instanceof Date);
  assert.ok(p.parametersValidTo.getTime() >= Math.floor(before / 1000) * 1000 + DAY_MS - 1000);
  const validTo = new Date(Date.now() + DAY_MS);
  ks.importKeyMaterial({
    keyId, importToken: p.importToken, encryptedKeyMaterial: rsaPublicEncrypt(p.publicKey, 'RSAES_OAEP_SHA_256', material),
    expirationModel: 'KEY_MATERIAL_EXPIRES', validTo,
  });
  const imported = ks.describeKey({ keyId }).keyMetadata;
  assert.equal(imported.keyState, 'Enabled');
  assert.equal(imported.expirationModel, 'KEY_MATERIAL_EXPIRES');
  assert.equal(imported.validTo.getTime(), Math.floor(validTo.getTime() / 1000) * 1000);
  const blob = ks.encrypt({ keyId, plaintext: bytes('imported') }).ciphertextBlob;
  assert.equal(text(ks.decrypt({ ciphertextBlob: blob }).plaintext), 'imported');

  ks.deleteImportedKeyMaterial({ keyId });
  assert.equal(ks.describeKey({ keyId }).keyMetadata.keyState, 'PendingImport');
  throwsCode(() => ks.decrypt({ ciphertextBlob: blob }), 'KMSInvalidStateException');

  // Other material is refused; the same material, wrapped with RSA + AES-KWP, restores the key.
  const p2 = ks.getParametersForImport({ keyId, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappingKeySpec: 'RSA_3072' });
  const kek = crypto.randomBytes(32);
  const wrap = (m) => new Uint8Array(Buffer.concat([rsaPublicEncrypt(p2.publicKey, 'RSAES_OAEP_SHA_256', kek), aesKwp(kek, m)]));
  throwsCode(() => ks.importKeyMaterial({ keyId, importToken: p2.importToken, encryptedKeyMaterial: wrap(crypto.randomBytes(32)) }), 'IncorrectKeyMaterialException');
  ks.importKeyMaterial({ keyId, importToken: p2.importToken, encryptedKeyMaterial: wrap(material) });
  assert.equal(ks.describeKey({ keyId }).keyMetadata.expirationModel, 'KEY_MATERIAL_DOES_NOT_EXPIRE');
  assert.equal(text(ks.decrypt({ ciphertextBlob: blob }).plaintext), 'imported');

  // Error paths.
  const token = p2.importToken.slice();
  token[token.length - 1] ^= 1;
  throwsCode(() => ks.importKeyMaterial({ keyId, importToken: token, encryptedKeyMaterial: wrap(material) }), 'InvalidImportTokenException');
  throwsCode(() => ks.importKeyMaterial({ keyId, importToken: p.importToken, encryptedKeyMaterial: new Uint8Array(256) }), 'InvalidCiphertextException');
  throwsCode(() => ks.importKeyMaterial({ keyId, importToken: p2.importToken, encryptedKeyMaterial: wrap(material), validTo: 'tomorrow' }), 'ValidationException');
  throwsCode(() => ks.importKeyMaterial({ keyId, importToken: p2.importToken, encryptedKeyMaterial: wrap(material), validTo: new Date(Date.now() + 400 * DAY_MS) }), 'ValidationException');
  throwsCode(() => ks.importKeyMaterial({ keyId, importToken: p2.importToken, encryptedKeyMaterial: wrap(material), expirationModel: 'KEY_MATERIAL_EXPIRES' }), 'ValidationException');
  throwsCode(() => ks.getParametersForImport({ keyId, wrappingKeySpec: 'RSA_2048' }), 'ValidationException');
  throwsCode(() => ks.getParametersForImport({ keyId, wrappingAlgorithm: 'RSAES_PKCS1_V1_5', wrappingKeySpec: 'RSA_2048' }), 'ValidationException');
  throwsCode(() => ks.getParametersForImport({ keyId: 'alias/none', wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048' }), 'NotFoundException');
  const aws = ks.createKey().keyMetadata.keyId;
  throwsCode(() => ks.getParametersForImport({ keyId: aws, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048' }), 'UnsupportedOperationException');
  throwsCode(() => ks.deleteImportedKeyMaterial({ keyId: aws }), 'UnsupportedOperationException');
  throwsCode(() => ks.deleteImportedKeyMaterial({}), 'ValidationException');

  // The imported key survives the sealed export.
  const root = rootKey();
  const ks2 = Keystore.create({ rootKey: root });
  const ext = ks2.createKey({ origin: 'EXTERNAL' }).keyMetadata.keyId;
  const p3 = ks2.getParametersForImport({ keyId: ext, wrappingAlgorithm: 'RSAES_OAEP_SHA_1', wrappingKeySpec: 'RSA_4096' });
  ks2.importKeyMaterial({ keyId: ext, importToken: p3.importToken, encryptedKeyMaterial: rsaPublicEncrypt(p3.publicKey, 'RSAES_OAEP_SHA_1', material) });
  const restored = Keystore.importSealed(ks2.exportSealed(), { rootKey: root });
  const b2 = restored.encrypt({ keyId: ext, plaintext: bytes('kept') }).ciphertextBlob;
  assert.equal(text(ks2.decrypt({ ciphertextBlob: b2 }).plaintext), 'kept');
  ks.free();
  ks2.free();
  restored.free();
});

test('KMS keyring: envelope messages under keystore keys', () => {
  const ks = Keystore.create({ rootKey: rootKey() });
  const a = ks.createKey().keyMetadata;
  const b = ks.createKey().keyMetadata;
  ks.createAlias({ aliasName: 'alias/b', targetKeyId: b.keyId });
  const keyring = Keyring.kms(ks, { keyIds: [a.keyId, 'alias/b'] });
  const data = crypto.randomBytes(10_000);
  const msg = encryptMessage(keyring, data, { encryptionContext: { app: 'kms' }, frameLength: 1024 });

  // One aws-kms EDK per key, the key ARN as provider info.
  const out = decryptMessage(keyring, msg);
  assert.deepEqual(out.plaintext, new Uint8Array(data));
  assert.deepEqual(out.messageHeader.encryptedDataKeys.map((e) => [e.providerId, text(e.providerInfo)]),
    [['aws-kms', a.arn], ['aws-kms', b.arn]]);
  assert.equal(out.messageHeader.encryptionContext.app, 'kms');
  // Either key alone decrypts (strict), as does a discovery keyring, incrementally too.
  assert.deepEqual(decryptMessage(Keyring.kms(ks, { keyIds: [b.arn] }), msg).plaintext, new Uint8Array(data));
  const dec = new MessageDecryptor(Keyring.kmsDiscovery(ks));
  const parts = [];
  for (let i = 0; i < msg.length; i += 777) parts.push(dec.update(msg.subarray(i, i + 777)));
  dec.finish();
  assert.deepEqual(new Uint8Array(Buffer.concat(parts)), new Uint8Array(data));

  // A key the strict keyring does not name, or another keystore, cannot decrypt.
  const c = ks.createKey().keyMetadata.keyId;
  throwsCode(() => decryptMessage(Keyring.kms(ks, { keyIds: [c] }), msg), 'InvalidCiphertextException');
  const other = Keystore.create({ rootKey: rootKey() });
  throwsCode(() => decryptMessage(Keyring.kmsDiscovery(other), msg), 'InvalidCiphertextException');
  // A disabled key says so.
  ks.disableKey({ keyId: a.keyId });
  ks.disableKey({ keyId: b.keyId });
  throwsCode(() => decryptMessage(Keyring.kmsDiscovery(ks), msg), 'DisabledException');
  throwsCode(() => encryptMessage(keyring, data), 'DisabledException');
  ks.enableKey({ keyId: a.keyId });
  // Input errors.
  throwsCode(() => Keyring.kms(ks, { keyIds: [] }), 'ValidationException');
  throwsCode(() => Keyring.kms(ks, {}), 'ValidationException');
  throwsCode(() => Keyring.kms(ks, { keyIds: [42] }), 'ValidationException');
  throwsCode(() => encryptMessage(Keyring.kmsDiscovery(ks), data), 'ValidationException');
  throwsCode(() => encryptMessage(Keyring.kms(ks, { keyIds: ['alias/none'] }), data), 'NotFoundException');
  // A KMS keyring also works inside a multi-keyring, next to a raw AES keyring.
  const raw = Keyring.rawAes({ keyNamespace: 'ns', keyName: 'k', wrappingKey: crypto.randomBytes(32) });
  const multi = Keyring.kms(ks, { keyIds: [a.keyId] }).withChild(raw);
  const m2 = encryptMessage(multi, bytes('both'));
  assert.equal(text(decryptMessage(raw, m2).plaintext), 'both');
  assert.equal(text(decryptMessage(Keyring.kmsDiscovery(ks), m2).plaintext), 'both');
  // The keyring keeps the keystore alive after the handle is freed.
  const kept = Keyring.kms(ks, { keyIds: [a.keyId] });
  ks.free();
  assert.equal(text(decryptMessage(kept, encryptMessage(kept, bytes('alive'))).plaintext), 'alive');
  other.free();
});

test('importKeyMaterial importType; grantTokens on describeKey and getPublicKey', () => {
  const ks = Keystore.create({ rootKey: rootKey() });
  const keyId = ks.createKey({ origin: 'EXTERNAL' }).keyMetadata.keyId;
  const material = crypto.randomBytes(32);
  const importAs = (importType) => {
    const p = ks.getParametersForImport({ keyId, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048' });
    ks.importKeyMaterial({
      keyId, importToken: p.importToken, encryptedKeyMaterial: rsaPublicEncrypt(p.publicKey, 'RSAES_OAEP_SHA_256', material), importType,
    });
  };
  throwsCode(() => importAs('EXISTING_KEY_MATERIAL'), 'IncorrectKeyMaterialException');
  throwsCode(() => importAs('SOME_MATERIAL'), 'ValidationException');
  assert.equal(ks.describeKey({ keyId }).keyMetadata.keyState, 'PendingImport');
  importAs('NEW_KEY_MATERIAL');
  assert.equal(ks.describeKey({ keyId }).keyMetadata.keyState, 'Enabled');
  throwsCode(() => importAs('NEW_KEY_MATERIAL'), 'UnsupportedOperationException');
  importAs('EXISTING_KEY_MATERIAL');
  importAs(undefined);

  const signer = ks.createKey({ keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' }).keyMetadata;
  const { grantToken } = ks.createGrant({ keyId: signer.keyId, granteePrincipal: 'arn:aws:iam::000000000000:user/bob', operations: ['Sign'] });
  assert.equal(ks.describeKey({ keyId: signer.keyId, grantTokens: [grantToken] }).keyMetadata.keyId, signer.keyId);
  assert.equal(ks.getPublicKey({ keyId: signer.keyId, grantTokens: [grantToken] }).keyId, signer.arn);
  for (const call of [(t) => ks.describeKey({ keyId: signer.keyId, grantTokens: t }), (t) => ks.getPublicKey({ keyId: signer.keyId, grantTokens: t })]) {
    throwsCode(() => call(['not-a-token']), 'InvalidGrantTokenException');
    throwsCode(() => call(Array(11).fill(grantToken)), 'ValidationException');
    throwsCode(() => call('not-a-list'), 'ValidationException');
  }
});
