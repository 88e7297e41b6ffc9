// Envelope encryption (AWS Encryption SDK message format) through the
// strongroom npm package: one-call and incremental round trips, keyrings,
// options, and the detail-free failure on any altered byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomFillSync, generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';

import {
  Keyring,
  Keystore,
  MessageDecryptor,
  MessageEncryptor,
  StrongroomError,
  decryptMessage,
  encryptMessage,
} from 'strongroom';

const random = (n) => randomFillSync(new Uint8Array(n));
const aes = (key = random(32), name = 'key-1') =>
  Keyring.rawAes({ keyNamespace: 'strongroom-test', keyName: name, wrappingKey: key });

const UNSIGNED = 'AES_256_GCM_HKDF_SHA512_COMMIT_KEY';

function throwsCode(fn, code) {
  assert.throws(fn, (e) => e instanceof StrongroomError && e.code === code);
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

test('one-call round trip with the default (signed, committing) suite', () => {
  const kr = aes();
  const data = random(10_000);
  const msg = encryptMessage(kr, data, { encryptionContext: { purpose: 'test' } });
  assert.ok(msg instanceof Uint8Array);
  assert.equal(msg[0], 0x02); // message format version 2
  const { plaintext, messageHeader } = decryptMessage(kr, msg);
  assert.deepEqual(plaintext, data);
  assert.equal(messageHeader.algorithmSuite, 'AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384');
  assert.equal(messageHeader.encryptionContext.purpose, 'test');
  assert.ok('aws-crypto-public-key' in messageHeader.encryptionContext);
  assert.equal(messageHeader.encryptedDataKeys[0].providerId, 'strongroom-test');
  assert.equal(messageHeader.frameLength, 4096);
  kr.free();
});

test('unsigned suite, frame lengths, empty plaintext', () => {
  const kr = aes();
  for (const frameLength of [1, 100, 4096]) {
    for (const len of [0, 1, 99, 100, 101, 5000]) {
      const data = random(len);
      const msg = encryptMessage(kr, data, { algorithmSuite: 'AES_256_GCM_HKDF_SHA512_COMMIT_KEY', frameLength });
      const out = decryptMessage(kr, msg);
      assert.deepEqual(out.plaintext, data);
      assert.equal(out.messageHeader.algorithmSuite, 'AES_256_GCM_HKDF_SHA512_COMMIT_KEY');
    }
  }
});

test('incremental encryption and decryption, chunk in and chunk out', () => {
  const kr = aes();
  const data = random(200_000);
  const enc = new MessageEncryptor(kr, { encryptionContext: { stream: 'yes' }, frameLength: 1024 });
  const parts = [];
  for (let i = 0; i < data.length; i += 7_777) parts.push(enc.update(data.subarray(i, i + 7_777)));
  parts.push(enc.finish());
  // Output comes out as input goes in, not all at the end.
  assert.ok(parts.slice(0, -1).some((p) => p.length > 0));
  const msg = concat(parts);
  throwsCode(() => enc.update(new Uint8Array(1)), 'ValidationException');

  const dec = new MessageDecryptor(kr);
  const out = [];
  for (let i = 0; i < msg.length; i += 3_001) out.push(dec.update(msg.subarray(i, i + 3_001)));
  assert.equal(dec.isSigned, true);
  const header = dec.finish();
  assert.equal(header.encryptionContext.stream, 'yes');
  assert.deepEqual(concat(out), data);
  // The one-call decryption reads the incremental message too.
  assert.deepEqual(decryptMessage(kr, msg).plaintext, data);
});

test('unsignedOnly refuses a signed message before any data key is unwrapped', () => {
  const kr = aes();
  const data = random(3000);
  const signed = encryptMessage(kr, data, { frameLength: 512 });
  const unsigned = encryptMessage(kr, data, { algorithmSuite: 'AES_256_GCM_HKDF_SHA512_COMMIT_KEY', frameLength: 512 });
  // A keyring with the wrong key would fail with InvalidCiphertextException
  // if it were asked: the ValidationException shows it never was.
  const wrong = aes(random(32));
  throwsCode(() => decryptMessage(wrong, signed, { unsignedOnly: true }), 'ValidationException');
  throwsCode(() => new MessageDecryptor(wrong, { unsignedOnly: true }).update(signed), 'ValidationException');
  throwsCode(() => decryptMessage(wrong, signed), 'InvalidCiphertextException');
  // Unsigned messages go through, in one call and frame by frame.
  assert.deepEqual(decryptMessage(kr, unsigned, { unsignedOnly: true }).plaintext, data);
  const dec = new MessageDecryptor(kr, { unsignedOnly: true });
  const out = [dec.update(unsigned.subarray(0, 1500)), dec.update(unsigned.subarray(1500))];
  assert.ok(out[0].length > 0, 'frames are released as they authenticate');
  assert.equal(dec.isSigned, false);
  dec.finish();
  assert.deepEqual(concat(out), data);
  throwsCode(() => decryptMessage(kr, unsigned, { unsignedOnly: 'yes' }), 'ValidationException');
});

test('maxEncryptedDataKeys: more than 10 EDKs refused by default, false for no limit', () => {
  const members = Array.from({ length: 11 }, (_, i) => aes(random(32), `key-${i}`));
  const multi = members.slice(1).reduce((kr, child) => kr.withChild(child), Keyring.multi(members[0]));
  const data = random(100);
  const eleven = encryptMessage(multi, data);
  // The last member alone holds a key: a keyring that was asked would have
  // to try ten EDKs first. The refusal comes once the header is read.
  const last = members[10];
  const tooMany = /more than the limit on encrypted data keys \(10\)/;
  const refused = (e) => e instanceof StrongroomError && e.code === 'ValidationException' && tooMany.test(e.message);
  assert.throws(() => decryptMessage(last, eleven), refused);
  assert.throws(() => new MessageDecryptor(last).update(eleven), refused);
  assert.throws(() => decryptMessage(last, eleven, { maxEncryptedDataKeys: null }), refused);
  const out = decryptMessage(last, eleven, { maxEncryptedDataKeys: false });
  assert.deepEqual(out.plaintext, data);
  assert.equal(out.messageHeader.encryptedDataKeys.length, 11);
  const dec = new MessageDecryptor(last, { maxEncryptedDataKeys: false });
  const parts = [dec.update(eleven)];
  dec.finish();
  assert.deepEqual(concat(parts), data);
  assert.deepEqual(decryptMessage(last, eleven, { maxEncryptedDataKeys: 11 }).plaintext, data);
  // Ten EDKs are within the default.
  const ten = encryptMessage(members.slice(1, 10).reduce((kr, c) => kr.withChild(c), Keyring.multi(members[0])), data);
  assert.deepEqual(decryptMessage(members[9], ten).plaintext, data);
  for (const bad of [0, 65536, true, '10', 1.5]) {
    throwsCode(() => decryptMessage(last, eleven, { maxEncryptedDataKeys: bad }), 'ValidationException');
  }
});

test('incremental decryption refuses a truncated message at finish()', () => {
  const kr = aes();
  const msg = encryptMessage(kr, random(5000), { frameLength: 512 });
  const dec = new MessageDecryptor(kr);
  dec.update(msg.subarray(0, msg.length - 10));
  throwsCode(() => dec.finish(), 'InvalidCiphertextException');
});

test('any altered byte fails with one detail-free error', () => {
  const kr = aes();
  const msg = encryptMessage(kr, random(300), { frameLength: 128, encryptionContext: { a: 'b' } });
  for (let i = 0; i < msg.length; i += 3) {
    const t = msg.slice();
    t[i] ^= 0x40;
    assert.throws(() => decryptMessage(kr, t), (e) => e instanceof StrongroomError, `byte ${i}`);
  }
  throwsCode(() => decryptMessage(kr, msg.subarray(0, msg.length - 1)), 'InvalidCiphertextException');
  const other = aes();
  assert.throws(() => decryptMessage(other, msg), StrongroomError);
});

test('required encryption context and commitment policy', () => {
  const kr = aes();
  const msg = encryptMessage(kr, random(10), { encryptionContext: { tenant: 'a' } });
  assert.equal(decryptMessage(kr, msg, { requiredEncryptionContext: { tenant: 'a' } }).plaintext.length, 10);
  assert.throws(() => decryptMessage(kr, msg, { requiredEncryptionContext: { tenant: 'b' } }), StrongroomError);
  throwsCode(() => encryptMessage(kr, random(1), { algorithmSuite: 'AES_256_GCM_IV12_TAG16_HKDF_SHA256' }), 'ValidationException');
  throwsCode(() => encryptMessage(kr, random(1), { algorithmSuite: 'NOPE' }), 'ValidationException');
  throwsCode(() => encryptMessage(kr, random(1), { frameLength: 0 }), 'ValidationException');
  throwsCode(() => encryptMessage(kr, random(1), { encryptionContext: { 'aws-crypto-x': '1' } }), 'ValidationException');
  throwsCode(() => decryptMessage(kr, msg, { commitmentPolicy: 'SOMETIMES' }), 'ValidationException');
});

test('keyrings: raw AES sizes, raw RSA, multi', () => {
  for (const n of [16, 24, 32]) {
    const kr = aes(random(n));
    assert.equal(decryptMessage(kr, encryptMessage(kr, random(5))).plaintext.length, 5);
  }
  throwsCode(() => aes(random(20)), 'ValidationException');
  throwsCode(() => Keyring.rawAes({ keyNamespace: 'aws-kms', keyName: 'k', wrappingKey: random(32) }), 'ValidationException');

  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const pkcs8 = new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' }));
  const encOnly = Keyring.rawRsa({ keyNamespace: 'ns', keyName: 'rsa', padding: 'OAEP_SHA256_MGF1', publicKey: spki });
  const full = Keyring.rawRsa({ keyNamespace: 'ns', keyName: 'rsa', padding: 'OAEP_SHA256_MGF1', privateKey: pkcs8 });
  const msg = encryptMessage(encOnly, random(64));
  assert.equal(decryptMessage(full, msg).plaintext.length, 64);
  // A public key alone cannot decrypt: the error names the private key.
  assert.throws(() => decryptMessage(encOnly, msg), (e) => {
    assert.ok(e instanceof StrongroomError, `not a StrongroomError: ${e}`);
    assert.equal(e.code, 'ValidationException', e.message);
    assert.ok(e.message.includes('no private key'), e.message);
    return true;
  });
  throwsCode(() => Keyring.rawRsa({ keyNamespace: 'ns', keyName: 'rsa', padding: 'OAEP_SHA256_MGF1' }), 'ValidationException');
  throwsCode(() => Keyring.rawRsa({ keyNamespace: 'ns', keyName: 'rsa', padding: 'BAD', publicKey: spki }), 'ValidationException');

  const a = aes();
  const multi = Keyring.multi(a).withChild(full);
  const m2 = encryptMessage(multi, random(7));
  assert.equal(m2.length > 0, true);
  // Either member alone decrypts, and the member handles stay usable.
  assert.equal(decryptMessage(a, m2).plaintext.length, 7);
  assert.equal(decryptMessage(full, m2).plaintext.length, 7);
  assert.equal(decryptMessage(multi, m2).messageHeader.encryptedDataKeys.length, 2);
});

test('a KMS data key from the keystore can be the wrapping key of a raw AES keyring', async () => {
  const { Keystore } = await import('strongroom');
  const ks = Keystore.create({ rootKey: random(32) });
  const key = ks.createKey().keyMetadata.keyId;
  const dk = ks.generateDataKey({ keyId: key, keySpec: 'AES_256' });
  const msg = encryptMessage(aes(dk.plaintext, 'dk'), new TextEncoder().encode('enveloped'));
  const again = ks.decrypt({ ciphertextBlob: dk.ciphertextBlob }).plaintext;
  assert.equal(new TextDecoder().decode(decryptMessage(aes(again, 'dk'), msg).plaintext), 'enveloped');
});

test('bytes arguments are Uint8Arrays only', () => {
  const kr = aes();
  const message = encryptMessage(kr, random(100), { algorithmSuite: UNSIGNED });
  // Anything array-like was accepted: 'hello' encrypted five zero bytes,
  // an ArrayBuffer nothing, and { length: -1 } trapped the module.
  const bad = ['hello', 5, null, undefined, 5n, new ArrayBuffer(4), new DataView(new ArrayBuffer(4)),
    new Int16Array([300]), [1, 2], { length: 3 }, { length: -1 }, new Proxy(random(4), {})];
  for (const v of bad) {
    throwsCode(() => encryptMessage(kr, v), 'ValidationException');
    throwsCode(() => decryptMessage(kr, v), 'ValidationException');
    throwsCode(() => new MessageEncryptor(kr).update(v), 'ValidationException');
    throwsCode(() => new MessageDecryptor(kr).update(v), 'ValidationException');
  }
  // A Buffer is a Uint8Array.
  assert.equal(Buffer.from(decryptMessage(kr, Buffer.from(message)).plaintext).length, 100);
});

test('keyring and keystore arguments: the right class, not freed', () => {
  const ks = Keystore.create({ rootKey: random(32) });
  const keyId = ks.createKey().keyMetadata.keyId;
  const kr = aes();
  const freed = aes();
  freed.free();
  freed.free();
  // These were plain Errors ("expected instance of Keyring", "null pointer
  // passed to rust").
  for (const k of [freed, 'keyring', null, undefined, {}, ks]) {
    throwsCode(() => encryptMessage(k, random(1)), 'ValidationException');
    throwsCode(() => decryptMessage(k, random(1)), 'ValidationException');
    throwsCode(() => new MessageEncryptor(k), 'ValidationException');
    throwsCode(() => new MessageDecryptor(k), 'ValidationException');
    throwsCode(() => Keyring.multi(k), 'ValidationException');
    throwsCode(() => kr.withChild(k), 'ValidationException');
  }
  const freedKs = Keystore.create({ rootKey: random(32) });
  freedKs.free();
  for (const s of [freedKs, kr, 'ks', undefined]) {
    throwsCode(() => Keyring.kms(s, { keyIds: [keyId] }), 'ValidationException');
    throwsCode(() => Keyring.kmsDiscovery(s), 'ValidationException');
  }
  // A keyring keeps its keystore alive when the handle it was made from is freed.
  const kms = Keyring.kms(ks, { keyIds: [keyId] });
  ks.free();
  const message = encryptMessage(kms, random(10));
  assert.equal(decryptMessage(kms, message).plaintext.length, 10);
  kms.free();
  throwsCode(() => encryptMessage(kms, random(1)), 'ValidationException');
  assert.ok(new MessageEncryptor(kr) instanceof MessageEncryptor);
  assert.throws(() => MessageEncryptor(kr), TypeError);
});

test('streams: a freed or finished stream throws ValidationException; isSigned outlives finish()', () => {
  const kr = aes();
  const enc = new MessageEncryptor(kr);
  const message = concat([enc.update(random(10)), enc.finish()]);
  throwsCode(() => enc.update(random(1)), 'ValidationException');
  throwsCode(() => enc.finish(), 'ValidationException');
  const dec = new MessageDecryptor(kr);
  dec.update(message);
  assert.equal(dec.isSigned, true);
  dec.finish();
  // It became undefined once finish() had run.
  assert.equal(dec.isSigned, true);
  throwsCode(() => dec.finish(), 'ValidationException');
  dec.free();
  dec.free();
  throwsCode(() => dec.isSigned, 'ValidationException');
  throwsCode(() => dec.update(message), 'ValidationException');
});

test('a `__proto__` encryption context key is kept in the message header', () => {
  const kr = aes();
  const encryptionContext = JSON.parse('{"__proto__": "p", "a": "b"}');
  const message = encryptMessage(kr, random(3), { encryptionContext, algorithmSuite: UNSIGNED });
  // It was set with the prototype setter, and so lost.
  const header = decryptMessage(kr, message).messageHeader;
  assert.deepEqual(Object.keys(header.encryptionContext).sort(), ['__proto__', 'a']);
  assert.equal(Object.getPrototypeOf(header.encryptionContext), Object.prototype);
  throwsCode(() => encryptMessage(kr, random(3), { encryptionContext: new Map([['a', 'b']]) }), 'ValidationException');
});

test('a message too large for the module memory is LimitExceededException, not a trap', () => {
  // Frame length 1 makes each byte 33: 128 MiB would be a 4.2 GiB message,
  // more than a wasm32 memory holds. The allocation failed and trapped
  // ("RuntimeError: unreachable"), leaving the handles in use unusable.
  const kr = aes();
  const big = new Uint8Array(128 * 2 ** 20);
  const options = { frameLength: 1, algorithmSuite: UNSIGNED };
  throwsCode(() => encryptMessage(kr, big, options), 'LimitExceededException');
  const enc = new MessageEncryptor(kr, options);
  throwsCode(() => enc.update(big), 'LimitExceededException');
  const small = concat([enc.update(random(5)), enc.finish()]);
  assert.equal(decryptMessage(kr, small).plaintext.length, 5);
  assert.equal(decryptMessage(kr, encryptMessage(kr, random(5), options)).plaintext.length, 5);
});

test('plaintext does not stay behind in the module memory', () => {
  // A second instance of the glue, whose memory the test can read.
  const require = createRequire(import.meta.url);
  const glue = path.join(path.dirname(require.resolve('strongroom/package.json')), 'node/strongroom.js');
  const Instance = WebAssembly.Instance;
  let memory;
  WebAssembly.Instance = function (module, imports) {
    const instance = new Instance(module, imports);
    memory = instance.exports.memory;
    return instance;
  };
  let w;
  try {
    delete require.cache[glue];
    w = require(glue);
  } finally {
    WebAssembly.Instance = Instance;
    delete require.cache[glue];
  }
  // A middle part: a freed block's first bytes hold the allocator's links.
  const secret = Buffer.from(random(256));
  const needle = secret.subarray(128, 160);
  const left = () => Buffer.from(memory.buffer).indexOf(needle) !== -1;
  const kr = w.Keyring.rawAes({ keyNamespace: 'n', keyName: 'k', wrappingKey: random(32) });
  const options = { algorithmSuite: UNSIGNED, frameLength: 64 };
  // encryptMessage's input and the encryptor's chunks were freed unwiped.
  const message = w.encryptMessage(kr, new Uint8Array(secret), options);
  assert.equal(left(), false, 'encryptMessage');
  const enc = new w.MessageEncryptor(kr, options);
  const streamed = concat([enc.update(new Uint8Array(secret)), enc.finish()]);
  assert.equal(left(), false, 'MessageEncryptor.update');
  // MessageDecryptor.update returned its plaintext Vec, freed unwiped.
  const dec = new w.MessageDecryptor(kr);
  assert.deepEqual(Buffer.from(dec.update(streamed)), secret);
  assert.equal(left(), false, 'MessageDecryptor.update');
  dec.finish();
  assert.deepEqual(Buffer.from(w.decryptMessage(kr, message).plaintext), secret);
  assert.equal(left(), false, 'decryptMessage');
});

test('frame lengths stop at 256 MiB; maxFrameBuffer bounds MessageDecryptor only', () => {
  const kr = aes();
  throwsCode(() => encryptMessage(kr, random(1), { frameLength: 2 ** 28 + 1 }), 'ValidationException');
  throwsCode(() => encryptMessage(kr, random(1), { frameLength: 2 ** 31 - 1 }), 'ValidationException');
  // The accepted range, and the value as given (2^32 was told as 2^32 - 1).
  for (const bad of [0, 2 ** 28 + 1, 2 ** 32, 2 ** 40]) {
    assert.throws(() => encryptMessage(kr, random(1), { frameLength: bad }), (e) => {
      assert.ok(e instanceof StrongroomError, `not a StrongroomError: ${e}`);
      assert.equal(e.code, 'ValidationException', e.message);
      assert.equal(e.message, 'frame length must be between 1 and 268435456 bytes (256 MiB, ' +
        `the largest frame a streaming decryptor buffers by default), not ${bad}`);
      return true;
    });
  }
  const big = encryptMessage(kr, random(5), { frameLength: 2 ** 28, algorithmSuite: UNSIGNED });
  const streamed = new MessageDecryptor(kr);
  assert.equal(streamed.update(big).length, 5);
  streamed.finish();
  const data = random(5000);
  const msg = encryptMessage(kr, data, { algorithmSuite: UNSIGNED });
  const dec = new MessageDecryptor(kr, { maxFrameBuffer: 100 });
  assert.throws(
    () => dec.update(msg),
    (e) => e instanceof StrongroomError && e.code === 'LimitExceededException' &&
      e.message.includes('max frame buffer: 100 bytes') && !e.message.includes('max_content_buffer'),
  );
  assert.deepEqual(decryptMessage(kr, msg, { maxFrameBuffer: 100 }).plaintext, data);
  // 0 and past 2^32 - 1 are refused by core's one rule, with its one
  // message (as in the CLI and Python), by both decryptions.
  const outOfRange = 'max frame buffer must be 1 to 4294967295 bytes (default 268435456, 256 MiB)';
  for (const bad of [0, 2 ** 32, 2 ** 60]) {
    for (const fn of [
      () => new MessageDecryptor(kr, { maxFrameBuffer: bad }),
      () => decryptMessage(kr, msg, { maxFrameBuffer: bad }),
    ]) {
      assert.throws(fn, (e) => {
        assert.ok(e instanceof StrongroomError, `not a StrongroomError: ${e}`);
        assert.equal(e.code, 'ValidationException', e.message);
        assert.equal(e.message, outOfRange);
        return true;
      });
    }
  }
  assert.equal(new MessageDecryptor(kr, { maxFrameBuffer: 2 ** 32 - 1 }).update(msg).length, 5000);
});
