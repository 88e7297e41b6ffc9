// Access control of the strongroom npm package under Node's test runner:
// principals (asPrincipal), key policies, grants and grant tokens (on
// calls and on Keyring.kms), the audit log and its verification, and the
// sealed export keeping policies and grants, dry runs (dryRun). Success
// and error paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';

import { Keyring, Keystore, StrongroomError, decryptMessage, encryptMessage } from 'strongroom';

const ACCOUNT = '111122223333';
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
const BOB = 'arn:aws:iam::444455556666:user/bob';
const CAROL = 'arn:aws:iam::444455556666:user/carol';

const rootKey = () => webcrypto.getRandomValues(new Uint8Array(32));
const bytes = (s) => new TextEncoder().encode(s);
const text = (b) => new TextDecoder().decode(b);

function throwsCode(fn, code) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof StrongroomError, `not a StrongroomError: ${e}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

function fresh(options = {}) {
  const root = rootKey();
  const ks = Keystore.create({ rootKey: root, account: ACCOUNT, ...options });
  const key = ks.createKey().keyMetadata.arn;
  return { root, ks, key };
}

const policyFor = (principal, actions) => JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' },
    { Effect: 'Allow', Principal: { AWS: principal }, Action: actions, Resource: '*' },
  ],
});

test('asPrincipal: handles share the keystore and act for their principal', () => {
  const { ks, key } = fresh();
  assert.equal(ks.principal, ROOT);
  assert.equal(ks.adminPrincipal, ROOT);
  const alice = ks.asPrincipal(ALICE);
  const bob = ks.asPrincipal(BOB);
  assert.equal(alice.principal, ALICE);
  assert.equal(bob.adminPrincipal, ROOT);
  // The default key policy allows the account's principals, no one else.
  const blob = alice.encrypt({ keyId: key, plaintext: bytes('hi') }).ciphertextBlob;
  assert.equal(text(ks.decrypt({ ciphertextBlob: blob }).plaintext), 'hi');
  throwsCode(() => bob.encrypt({ keyId: key, plaintext: bytes('hi') }), 'AccessDeniedException');
  throwsCode(() => bob.decrypt({ ciphertextBlob: blob }), 'AccessDeniedException');
  throwsCode(() => bob.describeKey({ keyId: key }), 'AccessDeniedException');
  // Operations without a key resource are allowed for every principal.
  assert.ok(bob.listKeys().keys.length >= 1);
  assert.equal(bob.generateRandom({ numberOfBytes: 8 }).plaintext.length, 8);
  // A key made by one handle is seen by the others.
  const k2 = alice.createKey().keyMetadata.keyId;
  assert.equal(ks.describeKey({ keyId: k2 }).keyMetadata.keyId, k2);
  throwsCode(() => ks.asPrincipal(''), 'ValidationException');
  alice.free();
  bob.free();
  // Freeing a principal handle leaves the keystore usable.
  assert.equal(ks.describeKey({ keyId: key }).keyMetadata.arn, key);
});

test('asPrincipal refuses a principal no call can act as, at once', () => {
  const { ks, key } = fresh();
  // They were accepted, and every later call failed and was audited as "junk".
  for (const bad of ['', 'junk', 'arn:aws:iam::*:root', '*', ACCOUNT, `arn:aws:iam::${ACCOUNT}:user/${'a'.repeat(256)}`]) {
    assert.throws(() => ks.asPrincipal(bad), (e) => {
      assert.ok(e instanceof StrongroomError, `not a StrongroomError: ${e}`);
      assert.equal(e.code, 'ValidationException', e.message);
      // The rule and message of the native bindings (core's check_caller).
      assert.match(e.message, /^the caller principal /);
      return true;
    });
    throwsCode(() => ks.dryRun().asPrincipal(bad), 'ValidationException');
  }
  assert.match(String((() => { try { ks.asPrincipal('junk'); } catch (e) { return e.message; } })()), /is not a principal ARN/);
  assert.equal(ks.auditEvents().filter((e) => e.userIdentity?.arn === 'junk').length, 0);
  assert.equal(ks.asPrincipal(ALICE).describeKey({ keyId: key }).keyMetadata.arn, key);
});

test('create: adminPrincipal names who the default key policy admits', () => {
  const { ks, key } = fresh({ adminPrincipal: ALICE });
  assert.equal(ks.principal, ALICE);
  assert.match(ks.getKeyPolicy({ keyId: key }).policy, /user\/alice/);
  throwsCode(() => ks.asPrincipal(ROOT).describeKey({ keyId: key }), 'AccessDeniedException');
  throwsCode(() => Keystore.create({ rootKey: rootKey(), adminPrincipal: 'nobody' }), 'ValidationException');
});

test('putKeyPolicy / getKeyPolicy / listKeyPolicies', () => {
  const { ks, key } = fresh();
  const def = ks.getKeyPolicy({ keyId: key, policyName: 'default' });
  assert.equal(def.policyName, 'default');
  assert.equal(JSON.parse(def.policy).Statement[0].Principal.AWS, ROOT);
  assert.deepEqual(ks.listKeyPolicies({ keyId: key }), { policyNames: ['default'], truncated: false });

  const bob = ks.asPrincipal(BOB);
  const policy = policyFor(BOB, ['kms:Encrypt', 'kms:GetKeyPolicy']);
  assert.equal(ks.putKeyPolicy({ keyId: key, policy }), undefined);
  assert.equal(bob.getKeyPolicy({ keyId: key }).policy, policy);
  bob.encrypt({ keyId: key, plaintext: bytes('x') });
  throwsCode(() => bob.listKeyPolicies({ keyId: key }), 'AccessDeniedException');
  throwsCode(() => bob.putKeyPolicy({ keyId: key, policy }), 'AccessDeniedException');
  throwsCode(() => ks.asPrincipal(CAROL).encrypt({ keyId: key, plaintext: bytes('x') }), 'AccessDeniedException');

  // Errors: malformed document, the lockout safety check, the policy name, the key.
  throwsCode(() => ks.putKeyPolicy({ keyId: key, policy: '{"Statement": 1' }), 'MalformedPolicyDocumentException');
  const lockout = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: BOB }, Action: 'kms:*', Resource: '*' }] });
  throwsCode(() => ks.putKeyPolicy({ keyId: key, policy: lockout }), 'MalformedPolicyDocumentException');
  throwsCode(() => ks.putKeyPolicy({ keyId: key, policy, policyName: 'other' }), 'NotFoundException');
  throwsCode(() => ks.getKeyPolicy({ keyId: key, policyName: 'other' }), 'NotFoundException');
  throwsCode(() => ks.getKeyPolicy({ keyId: 'alias/none' }), 'NotFoundException');
  throwsCode(() => ks.listKeyPolicies({ keyId: key, limit: 0 }), 'ValidationException');
  throwsCode(() => ks.putKeyPolicy({ keyId: key }), 'ValidationException');
  // With the bypass, the caller may lock itself out.
  ks.putKeyPolicy({ keyId: key, policy: lockout, bypassPolicyLockoutSafetyCheck: true });
  throwsCode(() => ks.describeKey({ keyId: key }), 'AccessDeniedException');
  assert.equal(bob.describeKey({ keyId: key }).keyMetadata.arn, key);
});

test('an explicit Deny wins over Allow statements and grants', () => {
  const { ks, key } = fresh();
  const policy = JSON.stringify({
    Statement: [
      { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:*', Resource: '*' },
      {
        Effect: 'Deny', Principal: { AWS: BOB }, Action: 'kms:Encrypt', Resource: '*',
        Condition: { StringEquals: { 'kms:EncryptionContext:dept': 'hr' } },
      },
    ],
  });
  ks.putKeyPolicy({ keyId: key, policy });
  const { grantToken } = ks.createGrant({ keyId: key, granteePrincipal: BOB, operations: ['Encrypt'] });
  const bob = ks.asPrincipal(BOB);
  bob.encrypt({ keyId: key, plaintext: bytes('x'), encryptionContext: { dept: 'sales' } });
  throwsCode(() => bob.encrypt({ keyId: key, plaintext: bytes('x'), encryptionContext: { dept: 'hr' }, grantTokens: [grantToken] }), 'AccessDeniedException');
});

test('createGrant lets a grantee encrypt and decrypt, within its constraints', () => {
  const { ks, key } = fresh();
  const bob = ks.asPrincipal(BOB);
  throwsCode(() => bob.encrypt({ keyId: key, plaintext: bytes('x') }), 'AccessDeniedException');
  const g = ks.createGrant({
    keyId: key,
    granteePrincipal: BOB,
    retiringPrincipal: CAROL,
    operations: ['Encrypt', 'Decrypt', 'GenerateDataKey'],
    constraints: { encryptionContextSubset: { Project: 'apollo' } },
    name: 'bob-apollo',
  });
  assert.match(g.grantId, /^[0-9a-f]{64}$/);
  assert.equal(typeof g.grantToken, 'string');
  // The token works at once.
  const ctx = { Project: 'apollo', extra: '1' };
  const blob = bob.encrypt({ keyId: key, plaintext: bytes('granted'), encryptionContext: ctx, grantTokens: [g.grantToken] }).ciphertextBlob;
  assert.equal(text(bob.decrypt({ ciphertextBlob: blob, encryptionContext: ctx }).plaintext), 'granted');
  assert.equal(bob.generateDataKey({ keyId: key, keySpec: 'AES_256', encryptionContext: ctx }).plaintext.length, 32);
  throwsCode(() => bob.encrypt({ keyId: key, plaintext: bytes('x'), encryptionContext: { Project: 'gemini' } }), 'AccessDeniedException');
  throwsCode(() => bob.reEncrypt({ ciphertextBlob: blob, sourceEncryptionContext: ctx, destinationKeyId: key }), 'AccessDeniedException');

  // Name idempotency: the same parameters give the same grant.
  const again = ks.createGrant({
    keyId: key, granteePrincipal: BOB, retiringPrincipal: CAROL,
    operations: ['GenerateDataKey', 'Decrypt', 'Encrypt'],
    constraints: { encryptionContextSubset: { Project: 'apollo' } }, name: 'bob-apollo',
  });
  assert.equal(again.grantId, g.grantId);

  // Validation and authorization errors.
  throwsCode(() => ks.createGrant({ keyId: key, granteePrincipal: BOB, operations: ['Fly'] }), 'ValidationException');
  throwsCode(() => ks.createGrant({ keyId: key, granteePrincipal: BOB, operations: [] }), 'ValidationException');
  throwsCode(() => ks.createGrant({ keyId: key, granteePrincipal: BOB, operations: ['Sign'], constraints: { encryptionContextEquals: { a: 'b' } } }), 'ValidationException');
  throwsCode(() => ks.createGrant({ keyId: key, granteePrincipal: BOB, operations: ['Encrypt'], constraints: { bogus: {} } }), 'ValidationException');
  throwsCode(() => ks.createGrant({ keyId: 'alias/none', granteePrincipal: BOB, operations: ['Encrypt'] }), 'NotFoundException');
  throwsCode(() => bob.createGrant({ keyId: key, granteePrincipal: CAROL, operations: ['Encrypt'] }), 'AccessDeniedException');
  throwsCode(() => ks.encrypt({ keyId: key, plaintext: bytes('x'), grantTokens: ['not-a-token'] }), 'InvalidGrantTokenException');
  throwsCode(() => ks.encrypt({ keyId: key, plaintext: bytes('x'), grantTokens: Array(11).fill(g.grantToken) }), 'ValidationException');
});

test('listGrants and listRetirableGrants, with paging', () => {
  const { ks, key } = fresh();
  const ids = [];
  for (let i = 0; i < 3; i++) {
    ids.push(ks.createGrant({ keyId: key, granteePrincipal: i ? CAROL : BOB, retiringPrincipal: ALICE, operations: ['Encrypt'], constraints: { encryptionContextEquals: { Dept: `d${i}` } } }).grantId);
  }
  const all = ks.listGrants({ keyId: key });
  assert.equal(all.grants.length, 3);
  assert.equal(all.truncated, false);
  const entry = all.grants.find((g) => g.grantId === ids[0]);
  assert.equal(entry.keyId, key);
  assert.equal(entry.granteePrincipal, BOB);
  assert.equal(entry.retiringPrincipal, ALICE);
  assert.equal(entry.issuingAccount, ROOT);
  assert.deepEqual(entry.operations, ['Encrypt']);
  // Encryption context keys keep their case.
  assert.deepEqual(entry.constraints, { encryptionContextEquals: { Dept: 'd0' } });
  assert.ok(entry.creationDate instanceof Date);

  const page1 = ks.listGrants({ keyId: key, limit: 2 });
  assert.equal(page1.grants.length, 2);
  assert.equal(page1.truncated, true);
  const page2 = ks.listGrants({ keyId: key, limit: 2, marker: page1.nextMarker });
  assert.equal(page2.grants.length, 1);
  assert.deepEqual(ks.listGrants({ keyId: key, granteePrincipal: BOB }).grants.map((g) => g.grantId), [ids[0]]);
  assert.deepEqual(ks.listGrants({ keyId: key, grantId: ids[1] }).grants.map((g) => g.grantId), [ids[1]]);
  assert.equal(ks.asPrincipal(BOB).listRetirableGrants({ retiringPrincipal: ALICE }).grants.length, 3);
  assert.equal(ks.listRetirableGrants({ retiringPrincipal: BOB }).grants.length, 0);

  throwsCode(() => ks.listGrants({ keyId: key, limit: 101 }), 'ValidationException');
  throwsCode(() => ks.listGrants({ keyId: key, marker: '!!' }), 'InvalidMarkerException');
  throwsCode(() => ks.listGrants({ keyId: key, grantId: '' }), 'InvalidGrantIdException');
  throwsCode(() => ks.asPrincipal(BOB).listGrants({ keyId: key }), 'AccessDeniedException');
  throwsCode(() => ks.listRetirableGrants({ retiringPrincipal: '' }), 'ValidationException');
});

test('a retired or revoked grant stops working', () => {
  const { ks, key } = fresh();
  const bob = ks.asPrincipal(BOB);
  const carol = ks.asPrincipal(CAROL);
  const g1 = ks.createGrant({ keyId: key, granteePrincipal: BOB, retiringPrincipal: CAROL, operations: ['Encrypt'] });
  bob.encrypt({ keyId: key, plaintext: bytes('x') });
  // Only the retiring principal (or the grantee with RetireGrant, the account root, the key policy).
  throwsCode(() => bob.retireGrant({ grantToken: g1.grantToken }), 'AccessDeniedException');
  carol.retireGrant({ grantToken: g1.grantToken });
  throwsCode(() => bob.encrypt({ keyId: key, plaintext: bytes('x') }), 'AccessDeniedException');
  throwsCode(() => carol.retireGrant({ grantToken: g1.grantToken }), 'NotFoundException');

  const g2 = ks.createGrant({ keyId: key, granteePrincipal: BOB, operations: ['Encrypt', 'RetireGrant'] });
  bob.retireGrant({ keyId: key, grantId: g2.grantId });
  throwsCode(() => bob.encrypt({ keyId: key, plaintext: bytes('x') }), 'AccessDeniedException');

  const g3 = ks.createGrant({ keyId: key, granteePrincipal: BOB, operations: ['Encrypt'] });
  bob.encrypt({ keyId: key, plaintext: bytes('x'), grantTokens: [g3.grantToken] });
  throwsCode(() => bob.revokeGrant({ keyId: key, grantId: g3.grantId }), 'AccessDeniedException');
  ks.revokeGrant({ keyId: key, grantId: g3.grantId });
  throwsCode(() => bob.encrypt({ keyId: key, plaintext: bytes('x'), grantTokens: [g3.grantToken] }), 'AccessDeniedException');
  throwsCode(() => ks.revokeGrant({ keyId: key, grantId: g3.grantId }), 'NotFoundException');
  throwsCode(() => ks.revokeGrant({ keyId: key, grantId: '' }), 'InvalidGrantIdException');
  throwsCode(() => ks.retireGrant({ grantId: g3.grantId }), 'ValidationException');
  throwsCode(() => ks.retireGrant({ grantToken: 'forged' }), 'InvalidGrantTokenException');
});

test('Keyring.kms acts for its handle and passes grant tokens', () => {
  const { ks, key } = fresh();
  const bob = ks.asPrincipal(BOB);
  const data = bytes('envelope for bob');
  const msg = encryptMessage(Keyring.kms(ks, { keyIds: [key] }), data, { encryptionContext: { team: 'a' } });
  throwsCode(() => decryptMessage(Keyring.kms(bob, { keyIds: [key] }), msg), 'AccessDeniedException');
  const g = ks.createGrant({ keyId: key, granteePrincipal: BOB, operations: ['Decrypt', 'GenerateDataKey'] });
  const keyring = Keyring.kms(bob, { keyIds: [key], grantTokens: [g.grantToken] });
  assert.deepEqual(decryptMessage(keyring, msg).plaintext, data);
  assert.deepEqual(decryptMessage(Keyring.kmsDiscovery(bob, { grantTokens: [g.grantToken] }), msg).plaintext, data);
  assert.deepEqual(decryptMessage(keyring, encryptMessage(keyring, data)).plaintext, data);
  throwsCode(() => Keyring.kms(bob, { keyIds: [key], grantTokens: ['forged'] }), 'InvalidGrantTokenException');
  throwsCode(() => Keyring.kmsDiscovery(bob, { grantTokens: 'x' }), 'ValidationException');
  const audited = ks.auditEvents().filter((e) => e.userIdentity.arn === BOB).map((e) => e.eventName);
  assert.ok(audited.includes('Decrypt') && audited.includes('GenerateDataKey'), audited.join());
});

test('dryRun: DryRun operations run every check, change nothing and throw DryRunOperationException', () => {
  const { ks, key } = fresh();
  const dry = ks.dryRun();
  assert.equal(dry.isDryRun, true);
  assert.equal(ks.isDryRun, false);
  assert.equal(dry.principal, ROOT);
  const blob = ks.encrypt({ keyId: key, plaintext: bytes('hi') }).ciphertextBlob;
  const wouldSucceed = [
    () => dry.encrypt({ keyId: key, plaintext: bytes('hi') }),
    () => dry.decrypt({ ciphertextBlob: blob }),
    () => dry.reEncrypt({ ciphertextBlob: blob, destinationKeyId: key }),
    () => dry.generateDataKey({ keyId: key, keySpec: 'AES_256' }),
    () => dry.generateDataKeyWithoutPlaintext({ keyId: key, numberOfBytes: 16 }),
  ];
  for (const f of wouldSucceed) throwsCode(f, 'DryRunOperationException');
  // The checks still run: the real call's error wins.
  throwsCode(() => dry.encrypt({ keyId: 'alias/none', plaintext: bytes('x') }), 'NotFoundException');
  throwsCode(() => dry.encrypt({ keyId: key }), 'ValidationException');
  throwsCode(() => dry.asPrincipal(BOB).encrypt({ keyId: key, plaintext: bytes('x') }), 'AccessDeniedException');
  assert.equal(dry.asPrincipal(BOB).isDryRun, true);
  // Signing, MAC and key agreement keys.
  const sig = ks.createKey({ keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' }).keyMetadata.keyId;
  const signature = ks.sign({ keyId: sig, message: bytes('m'), signingAlgorithm: 'ECDSA_SHA_256' }).signature;
  throwsCode(() => dry.sign({ keyId: sig, message: bytes('m'), signingAlgorithm: 'ECDSA_SHA_256' }), 'DryRunOperationException');
  throwsCode(() => dry.verify({ keyId: sig, message: bytes('m'), signature, signingAlgorithm: 'ECDSA_SHA_256' }), 'DryRunOperationException');
  throwsCode(() => dry.generateDataKeyPair({ keyId: key, keyPairSpec: 'ECC_NIST_P256' }), 'DryRunOperationException');
  throwsCode(() => dry.generateDataKeyPairWithoutPlaintext({ keyId: key, keyPairSpec: 'ECC_NIST_P256' }), 'DryRunOperationException');
  const mac = ks.createKey({ keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC' }).keyMetadata.keyId;
  const tag = ks.generateMac({ keyId: mac, message: bytes('m'), macAlgorithm: 'HMAC_SHA_256' }).mac;
  throwsCode(() => dry.generateMac({ keyId: mac, message: bytes('m'), macAlgorithm: 'HMAC_SHA_256' }), 'DryRunOperationException');
  throwsCode(() => dry.verifyMac({ keyId: mac, message: bytes('m'), mac: tag, macAlgorithm: 'HMAC_SHA_256' }), 'DryRunOperationException');
  const agree = ks.createKey({ keySpec: 'ECC_NIST_P256', keyUsage: 'KEY_AGREEMENT' }).keyMetadata.keyId;
  const peer = ks.getPublicKey({ keyId: agree }).publicKey;
  throwsCode(() => dry.deriveSharedSecret({ keyId: agree, keyAgreementAlgorithm: 'ECDH', publicKey: peer }), 'DryRunOperationException');
  // Operations without DryRun in KMS refuse a dry-run handle without running.
  throwsCode(() => dry.createKey(), 'ValidationException');
  throwsCode(() => dry.describeKey({ keyId: key }), 'ValidationException');
  throwsCode(() => dry.disableKey({ keyId: key }), 'ValidationException');
  // purgeDeletedKeys is not a KMS operation: it deleted due keys on a dry run.
  throwsCode(() => dry.purgeDeletedKeys(), 'ValidationException');
  assert.equal(ks.purgeDeletedKeys(), 0);
  assert.equal(ks.listKeys().keys.length, 4);
  assert.equal(ks.describeKey({ keyId: key }).keyMetadata.enabled, true);
  // Grant writes are checked, then not made.
  throwsCode(() => dry.createGrant({ keyId: key, granteePrincipal: BOB, operations: ['Encrypt'] }), 'DryRunOperationException');
  throwsCode(() => dry.createGrant({ keyId: key, granteePrincipal: BOB, operations: ['Nothing'] }), 'ValidationException');
  assert.equal(ks.listGrants({ keyId: key }).grants.length, 0);
  const g = ks.createGrant({ keyId: key, granteePrincipal: BOB, retiringPrincipal: CAROL, operations: ['Encrypt'] });
  throwsCode(() => dry.revokeGrant({ keyId: key, grantId: g.grantId }), 'DryRunOperationException');
  throwsCode(() => dry.asPrincipal(CAROL).retireGrant({ grantToken: g.grantToken }), 'DryRunOperationException');
  throwsCode(() => dry.asPrincipal(BOB).retireGrant({ grantToken: g.grantToken }), 'AccessDeniedException');
  assert.equal(ks.listGrants({ keyId: key }).grants.length, 1);
  ks.asPrincipal(BOB).encrypt({ keyId: key, plaintext: bytes('x') });
  throwsCode(() => dry.revokeGrant({ keyId: key, grantId: '0'.repeat(64) }), 'NotFoundException');
  // KMS keyrings over a dry-run handle make dry-run calls.
  throwsCode(() => encryptMessage(Keyring.kms(dry, { keyIds: [key] }), bytes('m')), 'DryRunOperationException');
  // Each dry run is audited; one that would have succeeded with DryRunOperationException.
  const events = ks.auditEvents();
  const dryEncrypt = events.find((e) => e.eventName === 'Encrypt' && e.errorCode === 'DryRunOperationException');
  assert.ok(dryEncrypt, 'the dry-run Encrypt is audited');
  assert.equal(dryEncrypt.resources[0].ARN, key);
  assert.ok(events.some((e) => e.eventName === 'CreateKey' && e.errorCode === 'ValidationException'));
  assert.equal(ks.verifyAuditLog().intact, true);
  dry.free();
  assert.equal(ks.isDryRun, false);
});

test('auditEvents: one CloudTrail-shaped record per call, allowed, denied or failed', () => {
  const { ks, key } = fresh();
  const bob = ks.asPrincipal(BOB);
  ks.encrypt({ keyId: key, plaintext: bytes('top secret'), encryptionContext: { purpose: 'audit' } });
  throwsCode(() => bob.encrypt({ keyId: key, plaintext: bytes('x') }), 'AccessDeniedException');
  throwsCode(() => ks.describeKey({ keyId: 'alias/none' }), 'NotFoundException');
  const events = ks.auditEvents();
  assert.deepEqual(events.map((e) => e.eventName), ['CreateKey', 'Encrypt', 'Encrypt', 'DescribeKey']);
  const [created, allowed, denied, failed] = events;
  assert.equal(created.resources[0].ARN, key);
  assert.equal(allowed.eventSource, 'kms.amazonaws.com');
  assert.equal(allowed.userIdentity.arn, ROOT);
  assert.equal(allowed.userIdentity.type, 'Root');
  assert.deepEqual(allowed.requestParameters.encryptionContext, { purpose: 'audit' });
  assert.equal(allowed.readOnly, true);
  assert.equal(allowed.errorCode, undefined);
  assert.match(allowed.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.match(allowed.strongroomChain, /^[0-9a-f]{64}$/);
  assert.equal(denied.userIdentity.arn, BOB);
  assert.equal(denied.errorCode, 'AccessDeniedException');
  assert.equal(failed.errorCode, 'NotFoundException');
  assert.ok(!JSON.stringify(events).includes('top secret'));
  // Copies: editing them leaves the log alone.
  events[1].eventName = 'Decrypt';
  assert.equal(ks.auditEvents()[1].eventName, 'Encrypt');
  assert.deepEqual(ks.verifyAuditLog(), { intact: true, count: 4 });
});

test('verifyAuditLog: saved events verify; tampered, removed or reordered ones do not', () => {
  const { root, ks, key } = fresh();
  ks.asPrincipal(BOB).listKeys();
  ks.describeKey({ keyId: key });
  const saved = ks.auditEvents();
  assert.deepEqual(ks.verifyAuditLog(saved), { intact: true, count: 3 });
  // As JSON lines too, in any member order of the objects.
  assert.equal(ks.verifyAuditLog(saved.map((e) => JSON.stringify(e))).intact, true);
  const reordered = saved.map((e) => Object.fromEntries(Object.entries(e).reverse()));
  assert.equal(ks.verifyAuditLog(reordered).intact, true);

  const tampered = structuredClone(saved);
  tampered[1].userIdentity.arn = ALICE;
  const r = ks.verifyAuditLog(tampered);
  assert.equal(r.intact, false);
  assert.equal(r.firstBadIndex, 1);
  assert.equal(r.count, 1);
  assert.match(r.reason, /chain value/);
  assert.equal(ks.verifyAuditLog([saved[0], saved[2]]).firstBadIndex, 1);
  assert.equal(ks.verifyAuditLog([saved[1], saved[0], saved[2]]).firstBadIndex, 0);
  const noChain = structuredClone(saved);
  delete noChain[2].strongroomChain;
  assert.equal(ks.verifyAuditLog(noChain).firstBadIndex, 2);
  // Another root key does not verify this log.
  const other = Keystore.create({ rootKey: rootKey(), account: ACCOUNT });
  assert.equal(other.verifyAuditLog(saved).intact, false);
  // The same root key (an imported copy) does.
  assert.equal(Keystore.importSealed(ks.exportSealed(), { rootKey: root }).verifyAuditLog(saved).intact, true);
  throwsCode(() => ks.verifyAuditLog('not an array'), 'ValidationException');
  throwsCode(() => ks.verifyAuditLog([42]), 'ValidationException');
});

test('verifyAuditLog: hostile event arrays are a ValidationException, and the keystore stays usable', () => {
  const { ks, key } = fresh();
  const saved = ks.auditEvents();
  // A revoked Proxy or a throwing element getter threw through the Rust
  // frame that held the keystore borrowed: every later call failed.
  const { proxy, revoke } = Proxy.revocable([], {});
  revoke();
  const throwing = new Proxy(saved, { get(t, k) { if (k === '0') throw new Error('boom'); return Reflect.get(t, k); } });
  const reentrant = [{ toJSON() { ks.createKey(); return saved[0]; } }];
  for (const events of [proxy, throwing, [() => 1], ['\ud800']]) {
    throwsCode(() => ks.verifyAuditLog(events), 'ValidationException');
  }
  // Calling back into the keystore while the events are read works: they
  // are read before the keystore is borrowed.
  const keys = ks.listKeys().keys.length;
  assert.deepEqual(ks.verifyAuditLog(reentrant), { intact: true, count: 1 });
  assert.equal(ks.listKeys().keys.length, keys + 1);
  assert.equal(ks.describeKey({ keyId: key }).keyMetadata.arn, key);
  assert.equal(ks.verifyAuditLog().intact, true);
});

test('exportSealed / importSealed keep key policies and grants; the audit log starts anew', () => {
  const { root, ks, key } = fresh();
  const policy = policyFor(CAROL, ['kms:DescribeKey']);
  ks.putKeyPolicy({ keyId: key, policy });
  const g = ks.createGrant({ keyId: key, granteePrincipal: BOB, operations: ['Encrypt', 'Decrypt'] });
  const blob = ks.encrypt({ keyId: key, plaintext: bytes('kept') }).ciphertextBlob;

  const back = Keystore.importSealed(ks.exportSealed(), { rootKey: root });
  assert.deepEqual(back.auditEvents(), []);
  assert.deepEqual(back.verifyAuditLog(), { intact: true, count: 0 });
  assert.equal(back.getKeyPolicy({ keyId: key }).policy, policy);
  assert.deepEqual(back.listGrants({ keyId: key }).grants.map((x) => x.grantId), [g.grantId]);
  const bob = back.asPrincipal(BOB);
  assert.equal(text(bob.decrypt({ ciphertextBlob: blob, grantTokens: [g.grantToken] }).plaintext), 'kept');
  assert.equal(back.asPrincipal(CAROL).describeKey({ keyId: key }).keyMetadata.arn, key);
  throwsCode(() => back.asPrincipal(CAROL).decrypt({ ciphertextBlob: blob }), 'AccessDeniedException');
  back.revokeGrant({ keyId: key, grantId: g.grantId });
  throwsCode(() => bob.decrypt({ ciphertextBlob: blob }), 'AccessDeniedException');
  // The original keystore still has the grant.
  assert.equal(text(ks.asPrincipal(BOB).decrypt({ ciphertextBlob: blob }).plaintext), 'kept');
});
