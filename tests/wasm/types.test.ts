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
  type DataKeyPairSpec,
  type DescribeKeyResponse,
  type GenerateDataKeyPairResponse,
  type GetParametersForImportResponse,
  type EncryptionContext,
  type KeyMetadata,
  type StrongroomErrorCode,
  type AuditEvent,
  type AuditVerification,
  type CreateGrantResponse,
  type GetKeyPolicyResponse,
  type GrantListEntry,
  type GrantOperation,
  type ListGrantsResponse,
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
  const anyEdks: Uint8Array = decryptMessage(kr, msg, { maxEncryptedDataKeys: false }).plaintext;
  const tenEdks: Uint8Array = decryptMessage(kr, msg, { maxEncryptedDataKeys: 10 }).plaintext;
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
  const rsa = ks.createKey({ keySpec: "RSA_2048", keyUsage: "ENCRYPT_DECRYPT" }).keyMetadata.keyId;
  const oaep: Uint8Array = ks.encrypt({ keyId: rsa, plaintext: pt, encryptionAlgorithm: "RSAES_OAEP_SHA_256" }).ciphertextBlob;
  ks.decrypt({ ciphertextBlob: oaep, keyId: rsa, encryptionAlgorithm: "RSAES_OAEP_SHA_256" });
  const spec: DataKeyPairSpec = "ECC_NIST_P256";
  const k1: DataKeyPairSpec = "ECC_SECG_P256K1";
  ks.generateDataKeyPairWithoutPlaintext({ keyId: md.keyId, keyPairSpec: k1 });
  const p521 = ks.createKey({ keySpec: "ECC_NIST_P521", keyUsage: "SIGN_VERIFY" }).keyMetadata.keyId;
  ks.sign({ keyId: p521, message: pt, signingAlgorithm: "ECDSA_SHA_512" });
  const h224 = ks.createKey({ keySpec: "HMAC_224", keyUsage: "GENERATE_VERIFY_MAC" }).keyMetadata.keyId;
  ks.generateMac({ keyId: h224, message: pt, macAlgorithm: "HMAC_SHA_224" });
  const pair: GenerateDataKeyPairResponse = ks.generateDataKeyPair({ keyId: md.keyId, keyPairSpec: spec, encryptionContext: ctx });
  const pkcs8: Uint8Array = pair.privateKeyPlaintext;
  const pub: Uint8Array = ks.generateDataKeyPairWithoutPlaintext({ keyId: md.keyId, keyPairSpec: "RSA_2048" }).publicKey;
  const ext = ks.createKey({ origin: "EXTERNAL" }).keyMetadata.keyId;
  const params: GetParametersForImportResponse = ks.getParametersForImport({ keyId: ext, wrappingAlgorithm: "RSA_AES_KEY_WRAP_SHA_256", wrappingKeySpec: "RSA_4096" });
  const until: Date = params.parametersValidTo;
  ks.importKeyMaterial({ keyId: ext, importToken: params.importToken, encryptedKeyMaterial: oaep, expirationModel: "KEY_MATERIAL_EXPIRES", validTo: new Date() });
  ks.importKeyMaterial({ keyId: ext, importToken: params.importToken, encryptedKeyMaterial: oaep, importType: "EXISTING_KEY_MATERIAL" });
  const described: KeyMetadata = ks.describeKey({ keyId: md.keyId, grantTokens: ["t"] }).keyMetadata;
  const spki: Uint8Array = ks.getPublicKey({ keyId: md.keyId, grantTokens: [] }).publicKey;
  ks.deleteImportedKeyMaterial({ keyId: ext });
  const kms: Keyring = Keyring.kms(ks, { keyIds: [md.keyId, "alias/x"] });
  const discovery: Keyring = Keyring.kmsDiscovery(ks);
  decryptMessage(discovery, encryptMessage(kms.withChild(kr), pt));
  void [when, re, next, status, deletion, random, id, suite, signed, pkcs8, pub, until];
}

export function accessControl(ks: Keystore): void {
  const admin: string = ks.adminPrincipal;
  const bob: Keystore = ks.asPrincipal("arn:aws:iam::444455556666:user/bob");
  const who: string = bob.principal;
  const dry: Keystore = bob.dryRun();
  const isDry: boolean = dry.isDryRun;
  const keyId = ks.createKey().keyMetadata.keyId;
  ks.putKeyPolicy({ keyId, policy: "{}", bypassPolicyLockoutSafetyCheck: true });
  const doc: GetKeyPolicyResponse = ks.getKeyPolicy({ keyId, policyName: "default" });
  const names: string[] = ks.listKeyPolicies({ keyId, limit: 1 }).policyNames;
  const op: GrantOperation = "ReEncryptFrom";
  const grant: CreateGrantResponse = ks.createGrant({
    keyId,
    granteePrincipal: who,
    operations: [op, "Decrypt"],
    constraints: { encryptionContextSubset: { a: "b" } },
    name: "n",
  });
  const grants: ListGrantsResponse = ks.listGrants({ keyId, granteePrincipal: who });
  const entry: GrantListEntry = grants.grants[0];
  const created: Date = entry.creationDate;
  const retirable: GrantListEntry[] = ks.listRetirableGrants({ retiringPrincipal: admin }).grants;
  bob.decrypt({ ciphertextBlob: new Uint8Array(1), grantTokens: [grant.grantToken] });
  bob.retireGrant({ grantToken: grant.grantToken });
  ks.revokeGrant({ keyId, grantId: grant.grantId });
  Keyring.kms(bob, { keyIds: [keyId], grantTokens: [grant.grantToken] });
  Keyring.kmsDiscovery(bob, { grantTokens: [grant.grantToken] });
  const events: AuditEvent[] = ks.auditEvents();
  const failed: StrongroomErrorCode | undefined = events[0].errorCode;
  const check: AuditVerification = ks.verifyAuditLog(events);
  const fromLines: boolean = ks.verifyAuditLog(events.map((e) => JSON.stringify(e))).intact;
  const count: number = ks.verifyAuditLog().count;
  void [doc, names, entry, created, retirable, failed, check, fromLines, count, isDry];
}

// @ts-expect-error not a grant operation
export const badGrantOp = (ks: Keystore) => ks.createGrant({ keyId: "k", granteePrincipal: "p", operations: ["Fly"] });
// @ts-expect-error the policy document is a string
export const objectPolicy = (ks: Keystore) => ks.putKeyPolicy({ keyId: "k", policy: {} });

// @ts-expect-error keyId is required
export const missingKeyId = (ks: Keystore) => ks.describeKey({});
// @ts-expect-error plaintext must be bytes, not a string
export const stringPlaintext = (ks: Keystore) => ks.encrypt({ keyId: "k", plaintext: "text" });
// @ts-expect-error not a key spec
export const badSpec = (ks: Keystore) => ks.createKey({ keySpec: "AES_999" });
// @ts-expect-error not a key pair spec
export const badPairSpec = (ks: Keystore) => ks.generateDataKeyPair({ keyId: "k", keyPairSpec: "AES_256" });
// @ts-expect-error validTo is a Date
export const numberValidTo = (ks: Keystore) => ks.importKeyMaterial({ keyId: "k", importToken: new Uint8Array(1), encryptedKeyMaterial: new Uint8Array(1), validTo: 5 });
// @ts-expect-error not an import type
export const badImportType = (ks: Keystore) => ks.importKeyMaterial({ keyId: "k", importToken: new Uint8Array(1), encryptedKeyMaterial: new Uint8Array(1), importType: "NEW" });
// @ts-expect-error grant tokens are a list
export const tokenString = (ks: Keystore) => ks.describeKey({ keyId: "k", grantTokens: "t" });
// @ts-expect-error a KMS keyring needs keyIds
export const noKeyIds = (ks: Keystore) => Keyring.kms(ks, {});
