// Cross-runtime: what wasm makes, the native library reads, and the other
// way round, given the same key material.
// - Ciphertext blobs: wasm exportSealed -> `strongroom import-keystore` ->
//   `strongroom decrypt`; `strongroom export-keystore` -> importSealed -> decrypt.
// - Envelope messages: wasm <-> the native build of strongroom-core
//   (bindings/wasm/examples/envelope_interop.rs), raw AES keyring.
// - Envelope messages under KMS keys (provider ID aws-kms, key ARN as
//   provider info): wasm's Keyring.kms -> exportSealed -> `strongroom
//   import-keystore` -> `strongroom decrypt-file`, and `strongroom
//   encrypt-file --key-id` -> `export-keystore` -> importSealed -> Keyring.kms.
// STRONGROOM_CLI and STRONGROOM_ENVELOPE_INTEROP name the native binaries
// (scripts/test-wasm.sh builds them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomFillSync } from 'node:crypto';

import { Keyring, Keystore, decryptMessage, encryptMessage } from 'strongroom';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = process.env.STRONGROOM_CLI || path.join(repo, 'target/debug/strongroom');
const INTEROP = process.env.STRONGROOM_ENVELOPE_INTEROP || path.join(repo, 'target/debug/examples/envelope_interop');
const random = (n) => randomFillSync(new Uint8Array(n));

function tmp() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'strongroom-cross-'));
}

function cli(dir, ...args) {
  return execFileSync(CLI, ['--keystore', path.join(dir, 'ks.db'), '--root-key-file', path.join(dir, 'root.key'), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('a blob made in wasm decrypts in the native CLI', { skip: !fs.existsSync(CLI) && `no ${CLI}` }, () => {
  const dir = tmp();
  const rootKey = random(32);
  fs.writeFileSync(path.join(dir, 'root.key'), Buffer.from(rootKey).toString('base64') + '\n', { mode: 0o600 });
  const ks = Keystore.create({ rootKey });
  const keyId = ks.createKey({ description: 'made in wasm' }).keyMetadata.keyId;
  ks.createAlias({ aliasName: 'alias/from-wasm', targetKeyId: keyId });
  const blob = ks.encrypt({ keyId, plaintext: new TextEncoder().encode('wasm to native'), encryptionContext: { dir: 'w2n' } }).ciphertextBlob;
  fs.writeFileSync(path.join(dir, 'blob.bin'), blob);
  fs.writeFileSync(path.join(dir, 'export.bin'), ks.exportSealed());

  cli(dir, 'import-keystore', '--infile', path.join(dir, 'export.bin'));
  const out = JSON.parse(cli(dir, 'decrypt', '--ciphertext-blob', `fileb://${path.join(dir, 'blob.bin')}`,
    '--encryption-context', 'dir=w2n', '--outfile', path.join(dir, 'plain.bin')));
  assert.match(out.KeyId, new RegExp(keyId));
  assert.equal(fs.readFileSync(path.join(dir, 'plain.bin'), 'utf8'), 'wasm to native');
  const described = JSON.parse(cli(dir, 'describe-key', '--key-id', 'alias/from-wasm'));
  assert.equal(described.KeyMetadata.Description, 'made in wasm');

  // A tampered export is refused by the CLI too, and creates no keystore.
  const bad = fs.readFileSync(path.join(dir, 'export.bin'));
  bad[bad.length - 40] ^= 1;
  const dir2 = tmp();
  fs.copyFileSync(path.join(dir, 'root.key'), path.join(dir2, 'root.key'));
  fs.writeFileSync(path.join(dir2, 'bad.bin'), bad);
  assert.throws(() => cli(dir2, 'import-keystore', '--infile', path.join(dir2, 'bad.bin')), /KMSInternalException/);
  assert.equal(fs.existsSync(path.join(dir2, 'ks.db')), false);
  fs.rmSync(dir, { recursive: true });
  fs.rmSync(dir2, { recursive: true });
});

test('a blob made by the native CLI decrypts in wasm', { skip: !fs.existsSync(CLI) && `no ${CLI}` }, () => {
  const dir = tmp();
  cli(dir, 'init');
  const keyId = JSON.parse(cli(dir, 'create-key', '--description', 'made natively')).KeyMetadata.KeyId;
  fs.writeFileSync(path.join(dir, 'plain.txt'), 'native to wasm');
  cli(dir, 'encrypt', '--key-id', keyId, '--plaintext', `fileb://${path.join(dir, 'plain.txt')}`,
    '--encryption-context', 'dir=n2w', '--outfile', path.join(dir, 'blob.bin'));
  cli(dir, 'export-keystore', '--outfile', path.join(dir, 'export.bin'));

  const rootKey = new Uint8Array(Buffer.from(fs.readFileSync(path.join(dir, 'root.key'), 'utf8').trim(), 'base64'));
  const ks = Keystore.importSealed(new Uint8Array(fs.readFileSync(path.join(dir, 'export.bin'))), { rootKey });
  const out = ks.decrypt({ ciphertextBlob: new Uint8Array(fs.readFileSync(path.join(dir, 'blob.bin'))), encryptionContext: { dir: 'n2w' } });
  assert.equal(new TextDecoder().decode(out.plaintext), 'native to wasm');
  assert.equal(ks.describeKey({ keyId }).keyMetadata.description, 'made natively');
  // And back again: wasm's export re-imports natively with the same records.
  const dir2 = tmp();
  fs.copyFileSync(path.join(dir, 'root.key'), path.join(dir2, 'root.key'));
  fs.writeFileSync(path.join(dir2, 'export.bin'), ks.exportSealed());
  cli(dir2, 'import-keystore', '--infile', path.join(dir2, 'export.bin'));
  assert.equal(JSON.parse(cli(dir2, 'describe-key', '--key-id', keyId)).KeyMetadata.KeyId, keyId);
  fs.rmSync(dir, { recursive: true });
  fs.rmSync(dir2, { recursive: true });
});

test('envelope messages cross between wasm and native strongroom-core', { skip: !fs.existsSync(INTEROP) && `no ${INTEROP}` }, () => {
  const dir = tmp();
  const key = random(32);
  fs.writeFileSync(path.join(dir, 'key.bin'), key);
  const keyring = Keyring.rawAes({ keyNamespace: 'strongroom-interop', keyName: 'k', wrappingKey: key });

  const data = random(50_000);
  fs.writeFileSync(path.join(dir, 'wasm.msg'), encryptMessage(keyring, data, { encryptionContext: { origin: 'wasm' } }));
  const log = execFileSync(INTEROP, ['decrypt', path.join(dir, 'key.bin'), path.join(dir, 'wasm.msg'), path.join(dir, 'wasm.out')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.deepEqual(new Uint8Array(fs.readFileSync(path.join(dir, 'wasm.out'))), data);
  void log;

  fs.writeFileSync(path.join(dir, 'in.bin'), data);
  execFileSync(INTEROP, ['encrypt', path.join(dir, 'key.bin'), path.join(dir, 'in.bin'), path.join(dir, 'native.msg')]);
  const out = decryptMessage(keyring, new Uint8Array(fs.readFileSync(path.join(dir, 'native.msg'))));
  assert.deepEqual(out.plaintext, data);
  assert.equal(out.messageHeader.encryptionContext.origin, 'native');
  fs.rmSync(dir, { recursive: true });
});

test('a KMS-keyring envelope message made in wasm decrypts with the native CLI', { skip: !fs.existsSync(CLI) && `no ${CLI}` }, () => {
  const dir = tmp();
  const rootKey = random(32);
  fs.writeFileSync(path.join(dir, 'root.key'), Buffer.from(rootKey).toString('base64') + '\n', { mode: 0o600 });
  const ks = Keystore.create({ rootKey });
  const a = ks.createKey({ description: 'generator' }).keyMetadata;
  const b = ks.createKey({ description: 'second' }).keyMetadata;
  ks.createAlias({ aliasName: 'alias/envelope-b', targetKeyId: b.keyId });
  const data = random(70_000);
  fs.writeFileSync(path.join(dir, 'wasm.msg'), encryptMessage(Keyring.kms(ks, { keyIds: [a.keyId, 'alias/envelope-b'] }), data,
    { encryptionContext: { origin: 'wasm' }, frameLength: 4096 }));
  fs.writeFileSync(path.join(dir, 'export.bin'), ks.exportSealed());

  cli(dir, 'import-keystore', '--infile', path.join(dir, 'export.bin'));
  const header = JSON.parse(cli(dir, 'decrypt-file', '-i', path.join(dir, 'wasm.msg'), '--show-header'));
  assert.deepEqual(header.EncryptedDataKeys.map((e) => [e.ProviderId, e.ProviderInfo]), [['aws-kms', a.arn], ['aws-kms', b.arn]]);
  assert.equal(header.EncryptionContext.origin, 'wasm');
  // Discovery (any key of the keystore), then strict with only the second key.
  cli(dir, 'decrypt-file', '-i', path.join(dir, 'wasm.msg'), '-o', path.join(dir, 'out1.bin'), '--required-context', 'origin=wasm');
  assert.deepEqual(new Uint8Array(fs.readFileSync(path.join(dir, 'out1.bin'))), data);
  cli(dir, 'decrypt-file', '-i', path.join(dir, 'wasm.msg'), '-o', path.join(dir, 'out2.bin'), '--key-id', 'alias/envelope-b');
  assert.deepEqual(new Uint8Array(fs.readFileSync(path.join(dir, 'out2.bin'))), data);
  ks.free();
  fs.rmSync(dir, { recursive: true });
});

test('a KMS-keyring envelope message made by the native CLI decrypts in wasm', { skip: !fs.existsSync(CLI) && `no ${CLI}` }, () => {
  const dir = tmp();
  cli(dir, 'init');
  const keyId = JSON.parse(cli(dir, 'create-key', '--description', 'native envelope')).KeyMetadata.KeyId;
  const data = random(70_000);
  fs.writeFileSync(path.join(dir, 'in.bin'), data);
  cli(dir, 'encrypt-file', '-i', path.join(dir, 'in.bin'), '-o', path.join(dir, 'native.msg'), '--key-id', keyId,
    '--encryption-context', 'origin=native');
  cli(dir, 'export-keystore', '--outfile', path.join(dir, 'export.bin'));

  const rootKey = new Uint8Array(Buffer.from(fs.readFileSync(path.join(dir, 'root.key'), 'utf8').trim(), 'base64'));
  const ks = Keystore.importSealed(new Uint8Array(fs.readFileSync(path.join(dir, 'export.bin'))), { rootKey });
  const msg = new Uint8Array(fs.readFileSync(path.join(dir, 'native.msg')));
  const out = decryptMessage(Keyring.kms(ks, { keyIds: [keyId] }), msg);
  assert.deepEqual(out.plaintext, data);
  assert.equal(out.messageHeader.encryptionContext.origin, 'native');
  const arn = ks.describeKey({ keyId }).keyMetadata.arn;
  assert.deepEqual(out.messageHeader.encryptedDataKeys.map((e) => [e.providerId, new TextDecoder().decode(e.providerInfo)]), [['aws-kms', arn]]);
  assert.deepEqual(decryptMessage(Keyring.kmsDiscovery(ks), msg).plaintext, data);
  ks.free();
  fs.rmSync(dir, { recursive: true });
});

test('a native key policy and grant work in wasm after export/import, and back', { skip: !fs.existsSync(CLI) && `no ${CLI}` }, () => {
  const dir = tmp();
  const BOB = 'arn:aws:iam::444455556666:user/bob';
  const CAROL = 'arn:aws:iam::444455556666:user/carol';
  cli(dir, 'init', '--account', '111122223333');
  const keyId = JSON.parse(cli(dir, 'create-key')).KeyMetadata.KeyId;
  const policy = JSON.stringify({ Statement: [
    { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' },
    { Effect: 'Allow', Principal: { AWS: CAROL }, Action: 'kms:DescribeKey', Resource: '*' },
  ] });
  cli(dir, 'put-key-policy', '--key-id', keyId, '--policy', policy);
  const grant = JSON.parse(cli(dir, 'create-grant', '--key-id', keyId, '--grantee-principal', BOB, '--operations', 'Decrypt', 'Encrypt'));
  fs.writeFileSync(path.join(dir, 'plain.txt'), 'granted natively');
  cli(dir, 'encrypt', '--key-id', keyId, '--plaintext', `fileb://${path.join(dir, 'plain.txt')}`, '--outfile', path.join(dir, 'blob.bin'));
  cli(dir, 'export-keystore', '--outfile', path.join(dir, 'export.bin'));

  const rootKey = new Uint8Array(Buffer.from(fs.readFileSync(path.join(dir, 'root.key'), 'utf8').trim(), 'base64'));
  const ks = Keystore.importSealed(new Uint8Array(fs.readFileSync(path.join(dir, 'export.bin'))), { rootKey });
  const blob = new Uint8Array(fs.readFileSync(path.join(dir, 'blob.bin')));
  assert.equal(ks.getKeyPolicy({ keyId }).policy, policy);
  assert.deepEqual(ks.listGrants({ keyId }).grants.map((g) => g.grantId), [grant.GrantId]);
  const bob = ks.asPrincipal(BOB);
  assert.equal(new TextDecoder().decode(bob.decrypt({ ciphertextBlob: blob, grantTokens: [grant.GrantToken] }).plaintext), 'granted natively');
  assert.throws(() => ks.asPrincipal(CAROL).decrypt({ ciphertextBlob: blob }), (e) => e.code === 'AccessDeniedException');
  assert.equal(ks.asPrincipal(CAROL).describeKey({ keyId }).keyMetadata.keyId, keyId);

  // Back to native: a grant made in wasm works for its grantee there.
  const g2 = ks.createGrant({ keyId, granteePrincipal: CAROL, operations: ['Decrypt'] });
  const dir2 = tmp();
  fs.copyFileSync(path.join(dir, 'root.key'), path.join(dir2, 'root.key'));
  fs.writeFileSync(path.join(dir2, 'export.bin'), ks.exportSealed());
  cli(dir2, 'import-keystore', '--infile', path.join(dir2, 'export.bin'));
  const out = JSON.parse(cli(dir2, '--principal', CAROL, 'decrypt', '--ciphertext-blob', `fileb://${path.join(dir, 'blob.bin')}`,
    '--grant-tokens', g2.grantToken, '--outfile', path.join(dir2, 'plain.bin')));
  assert.match(out.KeyId, new RegExp(keyId));
  assert.equal(fs.readFileSync(path.join(dir2, 'plain.bin'), 'utf8'), 'granted natively');
  fs.rmSync(dir, { recursive: true });
  fs.rmSync(dir2, { recursive: true });
});
