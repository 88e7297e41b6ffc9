// Type-checked with `tsc --noEmit` (scripts/test-wasm.sh): the package's
// declarations describe the API as the tests use it. Never executed.
import {
  Keystore,
  Keyring,
  MessageDecryptor,
  MessageEncryptor,
  StrongroomError,
  decryptMessage,
  encryptMessage,
  type DescribeKeyResponse,
  type EncryptionContext,
  type KeyMetadata,
  type StrongroomErrorCode,
} from "strongroom";

export function exercise(rootKey: Uint8Array): void {
  const ks: Keystore = Keystore.create({ rootKey, region: "local-1" });
  const created: DescribeKeyResponse = ks.createKey({ keySpec: "SYMMETRIC_DEFAULT", tags: [{ tagKey: "a", tagValue: "b" }] });
  const md: KeyMetadata = created.keyMetadata;
  const when: Date = md.creationDate;
  const ctx: EncryptionContext = { purpose: "types" };
  const blob: Uint8Array = ks.encrypt({ keyId: md.keyId, plaintext: new Uint8Array([1]), encryptionContext: ctx }).ciphertextBlob;
  const pt: Uint8Array = ks.decrypt({ ciphertextBlob: blob, encryptionContext: ctx }).plaintext;
  const dk = ks.generateDataKey({ keyId: md.keyId, keySpec: "AES_256" });
  const re = ks.reEncrypt({ ciphertextBlob: dk.ciphertextBlob, destinationKeyId: md.keyId });
  const page = ks.listKeys({ limit: 10 });
  const next: string | undefined = page.nextMarker;
  ks.createAlias({ aliasName: "alias/x", targetKeyId: md.keyId });
  ks.listAliases().aliases.forEach((a) => a.aliasArn.toUpperCase());
  ks.enableKeyRotation({ keyId: md.keyId, rotationPeriodInDays: 365 });
  const status: boolean = ks.getKeyRotationStatus({ keyId: md.keyId }).keyRotationEnabled;
  const deletion: Date = ks.scheduleKeyDeletion({ keyId: md.keyId, pendingWindowInDays: 7 }).deletionDate;
  const random: Uint8Array = ks.generateRandom({ numberOfBytes: 16 }).plaintext;
  const sealed: Uint8Array = ks.exportSealed();
  const back: Keystore = Keystore.importSealed(sealed, { rootKey });
  const id: string = back.keystoreId;
  back.free();

  const kr: Keyring = Keyring.rawAes({ keyNamespace: "ns", keyName: "k", wrappingKey: new Uint8Array(32) });
  const multi: Keyring = Keyring.multi(kr).withChild(kr);
  const msg: Uint8Array = encryptMessage(multi, pt, { encryptionContext: ctx, algorithmSuite: "AES_256_GCM_HKDF_SHA512_COMMIT_KEY" });
  const suite: string = decryptMessage(kr, msg).messageHeader.algorithmSuite;
  const enc = new MessageEncryptor(kr, { frameLength: 4096 });
  const head: Uint8Array = enc.update(pt);
  const tail: Uint8Array = enc.finish();
  const dec = new MessageDecryptor(kr, { commitmentPolicy: "REQUIRE_ENCRYPT_REQUIRE_DECRYPT" });
  dec.update(head);
  dec.update(tail);
  const signed: boolean | undefined = dec.isSigned;
  dec.finish();

  try {
    ks.describeKey({ keyId: "alias/none" });
  } catch (e) {
    if (e instanceof StrongroomError) {
      const code: StrongroomErrorCode = e.code;
      void code;
    }
  }
  void [when, re, next, status, deletion, random, id, suite, signed];
}

// @ts-expect-error keyId is required
export const missingKeyId = (ks: Keystore) => ks.describeKey({});
// @ts-expect-error plaintext must be bytes, not a string
export const stringPlaintext = (ks: Keystore) => ks.encrypt({ keyId: "k", plaintext: "text" });
// @ts-expect-error not a key spec
export const badSpec = (ks: Keystore) => ks.createKey({ keySpec: "AES_999" });
