/** KMS key specs. */
export type KeySpec =
  | "SYMMETRIC_DEFAULT"
  | "RSA_2048"
  | "RSA_3072"
  | "RSA_4096"
  | "ECC_NIST_P256"
  | "ECC_NIST_P384"
  | "ECC_NIST_P521"
  | "ECC_SECG_P256K1"
  | "HMAC_224"
  | "HMAC_256"
  | "HMAC_384"
  | "HMAC_512";
/** KMS key usages. */
export type KeyUsage = "ENCRYPT_DECRYPT" | "SIGN_VERIFY" | "GENERATE_VERIFY_MAC" | "KEY_AGREEMENT";
/** KMS key states. */
export type KeyState = "Enabled" | "Disabled" | "PendingDeletion" | "PendingImport";
/** Where key material came from. */
export type Origin = "AWS_KMS" | "EXTERNAL";
/** Encryption algorithms. */
export type EncryptionAlgorithm = "SYMMETRIC_DEFAULT" | "RSAES_OAEP_SHA_1" | "RSAES_OAEP_SHA_256";
/** Data key specs of GenerateDataKey. */
export type DataKeySpec = "AES_128" | "AES_256";
/** An encryption context: string keys to string values, matched exactly on decryption. */
export type EncryptionContext = Record<string, string>;

/** The KMS exception names that `StrongroomError.code` takes. */
export type StrongroomErrorCode =
  | "AccessDeniedException"
  | "AlreadyExistsException"
  | "DisabledException"
  | "DryRunOperationException"
  | "ExpiredImportTokenException"
  | "IncorrectKeyException"
  | "IncorrectKeyMaterialException"
  | "InvalidAliasNameException"
  | "InvalidArnException"
  | "InvalidCiphertextException"
  | "InvalidGrantIdException"
  | "InvalidGrantTokenException"
  | "InvalidImportTokenException"
  | "InvalidKeyUsageException"
  | "InvalidMarkerException"
  | "KMSInternalException"
  | "KMSInvalidMacException"
  | "KMSInvalidSignatureException"
  | "KMSInvalidStateException"
  | "KeyUnavailableException"
  | "LimitExceededException"
  | "MalformedPolicyDocumentException"
  | "NotFoundException"
  | "TagException"
  | "UnsupportedOperationException"
  | "ValidationException";

/** Options of `Keystore.create`. */
export interface CreateKeystoreOptions {
  /** The 32-byte root key that seals every key's material. */
  rootKey: Uint8Array;
  /** Region in ARNs (default "local-1"). */
  region?: string;
  /** 12-digit account ID in ARNs (default "000000000000"). */
  account?: string;
  /**
   * The administrator principal (an IAM ARN) that the default key policy
   * allows `kms:*` (default `arn:aws:iam::<account>:root`, which covers
   * every principal of the account).
   */
  adminPrincipal?: string;
}
/** Options of `Keystore.importSealed`. */
export interface ImportKeystoreOptions {
  /** The root key the export was sealed under. */
  rootKey: Uint8Array;
}

export interface Tag {
  tagKey: string;
  tagValue: string;
}
export interface CreateKeyRequest {
  description?: string;
  keySpec?: KeySpec;
  customerMasterKeySpec?: KeySpec;
  keyUsage?: KeyUsage;
  origin?: Origin;
  policy?: string;
  bypassPolicyLockoutSafetyCheck?: boolean;
  tags?: Tag[];
  multiRegion?: boolean;
}
export interface KeyIdRequest {
  /**
   * Key ID or key ARN; the cryptographic operations, describeKey and
   * getPublicKey also take an alias name ("alias/…") or alias ARN. Elsewhere
   * an alias is NotFoundException ("Invalid keyId"), as in AWS KMS.
   */
  keyId: string;
}
export interface DescribeKeyRequest extends KeyIdRequest {
  /** At most 10; checked as encrypt's are. */
  grantTokens?: string[];
}
export interface GetPublicKeyRequest extends KeyIdRequest {
  /** At most 10; checked as encrypt's are. */
  grantTokens?: string[];
}
export interface ListRequest {
  /** 1–1000 (default 100). */
  limit?: number;
  /** `nextMarker` of the previous page. */
  marker?: string;
}
export interface KeyIdListRequest extends KeyIdRequest, ListRequest {}
export interface ListAliasesRequest extends ListRequest {
  keyId?: string;
  /** 1–100 (default 50), as KMS ListAliases. */
  limit?: number;
}
export interface UpdateKeyDescriptionRequest extends KeyIdRequest {
  description: string;
}
export interface ScheduleKeyDeletionRequest extends KeyIdRequest {
  /** 7–30 (default 30). */
  pendingWindowInDays?: number;
}
export interface EnableKeyRotationRequest extends KeyIdRequest {
  /** 90–2560 (default 365). */
  rotationPeriodInDays?: number;
}
export interface AliasRequest {
  /** "alias/…" */
  aliasName: string;
  /** Key ID or key ARN (not an alias). */
  targetKeyId: string;
}
export interface DeleteAliasRequest {
  aliasName: string;
}
/** The tag operations take a key, never an alias (as KMS). */
export interface TagKeyRequest {
  /** Key ID or key ARN: an alias name or alias ARN is NotFoundException ("Invalid keyId"). */
  keyId: string;
}
export interface TagResourceRequest extends TagKeyRequest {
  tags: Tag[];
}
export interface UntagResourceRequest extends TagKeyRequest {
  tagKeys: string[];
}
export interface ListResourceTagsRequest extends TagKeyRequest, ListRequest {
  /** 1–50 (default 50). */
  limit?: number;
}
export interface EncryptRequest extends KeyIdRequest {
  /** 1–4096 bytes. */
  plaintext: Uint8Array;
  encryptionContext?: EncryptionContext;
  encryptionAlgorithm?: EncryptionAlgorithm;
  grantTokens?: string[];
}
export interface DecryptRequest {
  ciphertextBlob: Uint8Array;
  encryptionContext?: EncryptionContext;
  /** When given, must name the key that made the blob. */
  keyId?: string;
  encryptionAlgorithm?: EncryptionAlgorithm;
  grantTokens?: string[];
}
export interface ReEncryptRequest {
  ciphertextBlob: Uint8Array;
  sourceEncryptionContext?: EncryptionContext;
  sourceKeyId?: string;
  destinationKeyId: string;
  destinationEncryptionContext?: EncryptionContext;
  sourceEncryptionAlgorithm?: EncryptionAlgorithm;
  destinationEncryptionAlgorithm?: EncryptionAlgorithm;
  grantTokens?: string[];
}
export interface GenerateDataKeyRequest extends KeyIdRequest {
  /** Exactly one of keySpec and numberOfBytes (1–1024). */
  keySpec?: DataKeySpec;
  numberOfBytes?: number;
  encryptionContext?: EncryptionContext;
  grantTokens?: string[];
}
export interface GenerateRandomRequest {
  /** 1–1024. */
  numberOfBytes: number;
}

export interface KeyMetadata {
  awsAccountId: string;
  keyId: string;
  arn: string;
  creationDate: Date;
  enabled: boolean;
  description: string;
  keyUsage: KeyUsage;
  keyState: KeyState;
  deletionDate?: Date;
  validTo?: Date;
  origin: Origin;
  keyManager: "CUSTOMER";
  customerMasterKeySpec: KeySpec;
  keySpec: KeySpec;
  encryptionAlgorithms?: string[];
  signingAlgorithms?: string[];
  macAlgorithms?: string[];
  /** `["ECDH"]` for KEY_AGREEMENT keys. */
  keyAgreementAlgorithms?: string[];
  multiRegion: boolean;
  pendingDeletionWindowInDays?: number;
  expirationModel?: string;
}
export interface DescribeKeyResponse {
  keyMetadata: KeyMetadata;
}
export interface ListKeysResponse {
  keys: { keyId: string; keyArn: string }[];
  nextMarker?: string;
  truncated: boolean;
}
export interface AliasListEntry {
  aliasName: string;
  aliasArn: string;
  targetKeyId: string;
  creationDate: Date;
  lastUpdatedDate: Date;
}
export interface ListAliasesResponse {
  aliases: AliasListEntry[];
  nextMarker?: string;
  truncated: boolean;
}
export interface ListResourceTagsResponse {
  tags: Tag[];
  nextMarker?: string;
  truncated: boolean;
}
export interface ScheduleKeyDeletionResponse {
  keyId: string;
  deletionDate: Date;
  keyState: KeyState;
  pendingWindowInDays: number;
}
export interface KeyIdResponse {
  keyId: string;
}
export interface GetKeyRotationStatusResponse {
  keyId: string;
  keyRotationEnabled: boolean;
  rotationPeriodInDays?: number;
  nextRotationDate?: Date;
  onDemandRotationStartDate?: Date;
}
export interface ListKeyRotationsResponse {
  rotations: { keyId: string; rotationDate: Date; rotationType: "AUTOMATIC" | "ON_DEMAND" }[];
  nextMarker?: string;
  truncated: boolean;
}
export interface EncryptResponse {
  ciphertextBlob: Uint8Array;
  keyId: string;
  encryptionAlgorithm: EncryptionAlgorithm;
}
export interface DecryptResponse {
  keyId: string;
  plaintext: Uint8Array;
  encryptionAlgorithm: EncryptionAlgorithm;
}
export interface ReEncryptResponse {
  ciphertextBlob: Uint8Array;
  sourceKeyId: string;
  keyId: string;
  sourceEncryptionAlgorithm: EncryptionAlgorithm;
  destinationEncryptionAlgorithm: EncryptionAlgorithm;
}
export interface GenerateDataKeyResponse {
  ciphertextBlob: Uint8Array;
  plaintext: Uint8Array;
  keyId: string;
}
export interface GenerateDataKeyWithoutPlaintextResponse {
  ciphertextBlob: Uint8Array;
  keyId: string;
}
export interface GenerateRandomResponse {
  plaintext: Uint8Array;
}

/** AWS Encryption SDK algorithm suites Strongroom writes (the first two) and reads. */
export type AlgorithmSuite =
  | "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384"
  | "AES_256_GCM_HKDF_SHA512_COMMIT_KEY"
  | "AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384"
  | "AES_256_GCM_IV12_TAG16_HKDF_SHA256";
/** ESDK commitment policies. */
export type CommitmentPolicy =
  | "REQUIRE_ENCRYPT_REQUIRE_DECRYPT"
  | "REQUIRE_ENCRYPT_ALLOW_DECRYPT"
  | "FORBID_ENCRYPT_ALLOW_DECRYPT";
/** Raw RSA keyring paddings (PKCS1: decryption of old data only). */
export type RsaPadding =
  | "OAEP_SHA1_MGF1"
  | "OAEP_SHA256_MGF1"
  | "OAEP_SHA384_MGF1"
  | "OAEP_SHA512_MGF1"
  | "PKCS1";
export interface RawAesKeyringOptions {
  keyNamespace: string;
  keyName: string;
  /** 16, 24 or 32 bytes. */
  wrappingKey: Uint8Array;
}
/** Options of `Keyring.kms`. */
export interface KmsKeyringOptions {
  /**
   * Key IDs, key ARNs, alias names or alias ARNs of the keystore (at least
   * one); the first generates the data key, each can decrypt.
   */
  keyIds: string[];
  /** Grant tokens passed on every KMS call of the keyring (at most 10). */
  grantTokens?: string[];
}
/** Options of `Keyring.kmsDiscovery`. */
export interface KmsDiscoveryOptions {
  /** Grant tokens passed on every KMS call of the keyring (at most 10). */
  grantTokens?: string[];
}
export interface RawRsaKeyringOptions {
  keyNamespace: string;
  keyName: string;
  padding: RsaPadding;
  /** SubjectPublicKeyInfo DER; needed to encrypt (derived from privateKey if absent). */
  publicKey?: Uint8Array;
  /** PKCS#8 DER; needed to decrypt. */
  privateKey?: Uint8Array;
}
export interface EncryptMessageOptions {
  encryptionContext?: EncryptionContext;
  /** Default AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384. */
  algorithmSuite?: AlgorithmSuite;
  /**
   * Plaintext bytes per frame, 1 to 268435456 (256 MiB, the largest frame a
   * streaming decryptor buffers by default); default 4096.
   */
  frameLength?: number;
  /**
   * Throw ValidationException if the keyring would write more encrypted data
   * keys, 1 to 65535 (default: no limit). 0 throws ValidationException before
   * the keyring is called, as the AWS Encryption SDKs refuse it.
   */
  maxEncryptedDataKeys?: number;
}
export interface DecryptMessageOptions {
  /** Default REQUIRE_ENCRYPT_REQUIRE_DECRYPT. */
  commitmentPolicy?: CommitmentPolicy;
  /**
   * Refuse (ValidationException, once the header is read, before any data
   * key is unwrapped) a message with more encrypted data keys than this,
   * 1 to 65535; default 10, since each one the keyring tries may cost a KMS
   * Decrypt call. `false`: no limit (the AWS Encryption SDKs' default). 0
   * (which the AWS Encryption SDKs refuse) throws ValidationException.
   */
  maxEncryptedDataKeys?: number | false;
  /** Pairs that must be in the message's encryption context. */
  requiredEncryptionContext?: EncryptionContext;
  /**
   * The max frame buffer: the largest frame (or non-framed body), in bytes,
   * a `MessageDecryptor` buffers, 1 to 2^32 − 1 (ValidationException
   * outside); default 268435456 (256 MiB, the largest frame length
   * Strongroom writes). A message with larger
   * frames (another writer's) throws LimitExceededException once its header
   * is read. `decryptMessage` has the whole message in memory and reads
   * every frame length whatever this says.
   */
  maxFrameBuffer?: number;
  /**
   * Accept only unsigned algorithm suites: a signed message throws
   * ValidationException once its header is read, before any data key is
   * unwrapped (the AWS Encryption SDK's unsigned-only streaming mode, for
   * callers that use each frame from `update` at once).
   */
  unsignedOnly?: boolean;
}
export interface MessageHeader {
  algorithmSuite: AlgorithmSuite;
  messageId: Uint8Array;
  /** Includes aws-crypto-public-key for signing suites. */
  encryptionContext: EncryptionContext;
  encryptedDataKeys: { providerId: string; providerInfo: Uint8Array }[];
  frameLength: number;
}
export interface DecryptMessageResult {
  plaintext: Uint8Array;
  messageHeader: MessageHeader;
}

/** Signing algorithms of sign / verify. */
export type SigningAlgorithm =
  | "RSASSA_PSS_SHA_256" | "RSASSA_PSS_SHA_384" | "RSASSA_PSS_SHA_512"
  | "RSASSA_PKCS1_V1_5_SHA_256" | "RSASSA_PKCS1_V1_5_SHA_384" | "RSASSA_PKCS1_V1_5_SHA_512"
  | "ECDSA_SHA_256" | "ECDSA_SHA_384" | "ECDSA_SHA_512";
/** MAC algorithms of generateMac / verifyMac. */
export type MacAlgorithm = "HMAC_SHA_224" | "HMAC_SHA_256" | "HMAC_SHA_384" | "HMAC_SHA_512";
export interface SignRequest extends KeyIdRequest {
  /** The message (RAW, up to 4096 bytes) or its digest (DIGEST). */
  message: Uint8Array;
  messageType?: "RAW" | "DIGEST";
  signingAlgorithm: SigningAlgorithm;
  grantTokens?: string[];
}
export interface SignResponse {
  keyId: string;
  signature: Uint8Array;
  signingAlgorithm: SigningAlgorithm;
}
export interface VerifyRequest extends SignRequest {
  signature: Uint8Array;
}
export interface VerifyResponse {
  keyId: string;
  signatureValid: boolean;
  signingAlgorithm: SigningAlgorithm;
}
export interface GetPublicKeyResponse {
  keyId: string;
  /** SubjectPublicKeyInfo DER. */
  publicKey: Uint8Array;
  customerMasterKeySpec: KeySpec;
  keySpec: KeySpec;
  keyUsage: KeyUsage;
  encryptionAlgorithms?: string[];
  signingAlgorithms?: string[];
  /** `["ECDH"]` for KEY_AGREEMENT keys. */
  keyAgreementAlgorithms?: string[];
}
/** Key agreement algorithms of deriveSharedSecret. */
export type KeyAgreementAlgorithm = "ECDH";
export interface DeriveSharedSecretRequest extends KeyIdRequest {
  keyAgreementAlgorithm: KeyAgreementAlgorithm;
  /** The peer's DER SubjectPublicKeyInfo, on the key's curve. */
  publicKey: Uint8Array;
  grantTokens?: string[];
  /** Nitro Enclaves attestation: not supported (UnsupportedOperationException). */
  recipient?: { keyEncryptionAlgorithm?: string; attestationDocument?: Uint8Array };
}
export interface DeriveSharedSecretResponse {
  keyId: string;
  /** The raw ECDH shared secret: 32 bytes (P-256) or 48 (P-384). */
  sharedSecret: Uint8Array;
  keyAgreementAlgorithm: KeyAgreementAlgorithm;
  keyOrigin: Origin;
}
export interface GenerateMacRequest extends KeyIdRequest {
  /** 1–4096 bytes. */
  message: Uint8Array;
  macAlgorithm: MacAlgorithm;
  grantTokens?: string[];
}
export interface GenerateMacResponse {
  mac: Uint8Array;
  macAlgorithm: MacAlgorithm;
  keyId: string;
}
export interface VerifyMacRequest extends GenerateMacRequest {
  mac: Uint8Array;
}
export interface VerifyMacResponse {
  keyId: string;
  macValid: boolean;
  macAlgorithm: MacAlgorithm;
}

/** Key pair specs of generateDataKeyPair. */
export type DataKeyPairSpec =
  | "RSA_2048"
  | "RSA_3072"
  | "RSA_4096"
  | "ECC_NIST_P256"
  | "ECC_NIST_P384"
  | "ECC_NIST_P521"
  | "ECC_SECG_P256K1";
/** How imported key material is wrapped (getParametersForImport). */
export type WrappingAlgorithm =
  | "RSAES_OAEP_SHA_1"
  | "RSAES_OAEP_SHA_256"
  | "RSA_AES_KEY_WRAP_SHA_1"
  | "RSA_AES_KEY_WRAP_SHA_256";
/** The RSA wrapping key's size (getParametersForImport). */
export type WrappingKeySpec = "RSA_2048" | "RSA_3072" | "RSA_4096";
/** Whether imported key material expires (importKeyMaterial). */
export type ExpirationModel = "KEY_MATERIAL_EXPIRES" | "KEY_MATERIAL_DOES_NOT_EXPIRE";
/** Which material an import brings (importKeyMaterial). */
export type ImportType = "NEW_KEY_MATERIAL" | "EXISTING_KEY_MATERIAL";
export interface GenerateDataKeyPairRequest extends KeyIdRequest {
  keyPairSpec: DataKeyPairSpec;
  encryptionContext?: EncryptionContext;
  grantTokens?: string[];
}
export interface GenerateDataKeyPairResponse {
  /** The private key (PKCS#8 DER) encrypted under keyId with the encryption context. */
  privateKeyCiphertextBlob: Uint8Array;
  /** PKCS#8 DER. */
  privateKeyPlaintext: Uint8Array;
  /** SubjectPublicKeyInfo DER. */
  publicKey: Uint8Array;
  keyId: string;
  keyPairSpec: DataKeyPairSpec;
}
export interface GenerateDataKeyPairWithoutPlaintextResponse {
  privateKeyCiphertextBlob: Uint8Array;
  publicKey: Uint8Array;
  keyId: string;
  keyPairSpec: DataKeyPairSpec;
}
export interface GetParametersForImportRequest extends KeyIdRequest {
  wrappingAlgorithm: WrappingAlgorithm;
  wrappingKeySpec: WrappingKeySpec;
}
export interface GetParametersForImportResponse {
  keyId: string;
  /** Opaque; give it back to importKeyMaterial before parametersValidTo. */
  importToken: Uint8Array;
  /** The RSA wrapping public key, SubjectPublicKeyInfo DER. */
  publicKey: Uint8Array;
  /** 24 hours after the call. */
  parametersValidTo: Date;
}
export interface ImportKeyMaterialRequest extends KeyIdRequest {
  importToken: Uint8Array;
  /** The key material wrapped with the wrapping public key and algorithm. */
  encryptedKeyMaterial: Uint8Array;
  /** Default KEY_MATERIAL_EXPIRES when validTo is given, else KEY_MATERIAL_DOES_NOT_EXPIRE. */
  expirationModel?: ExpirationModel;
  /** In the future, at most 365 days away. */
  validTo?: Date;
  /**
   * NEW_KEY_MATERIAL only on the key's first import (after it
   * UnsupportedOperationException); EXISTING_KEY_MATERIAL only once material
   * was imported (before it IncorrectKeyMaterialException). Omitted: either.
   */
  importType?: ImportType;
}

/** KMS grant operations. */
export type GrantOperation =
  | "Decrypt"
  | "Encrypt"
  | "GenerateDataKey"
  | "GenerateDataKeyWithoutPlaintext"
  | "ReEncryptFrom"
  | "ReEncryptTo"
  | "Sign"
  | "Verify"
  | "GetPublicKey"
  | "CreateGrant"
  | "RetireGrant"
  | "DescribeKey"
  | "GenerateDataKeyPair"
  | "GenerateDataKeyPairWithoutPlaintext"
  | "GenerateMac"
  | "VerifyMac"
  | "DeriveSharedSecret";
export interface PutKeyPolicyRequest extends KeyIdRequest {
  /** The key policy document (JSON, at most 32 KiB). */
  policy: string;
  /** Only "default". */
  policyName?: "default";
  /** Skip the check that the new policy still lets the caller call PutKeyPolicy. */
  bypassPolicyLockoutSafetyCheck?: boolean;
}
export interface GetKeyPolicyRequest extends KeyIdRequest {
  /** Only "default". */
  policyName?: "default";
}
export interface GetKeyPolicyResponse {
  /** The policy document (the default key policy when none was set). */
  policy: string;
  policyName: "default";
}
export interface ListKeyPoliciesResponse {
  policyNames: string[];
  nextMarker?: string;
  truncated: boolean;
}
/**
 * Encryption context a grant's operations require. As in AWS KMS, keys are
 * compared case-insensitively (ASCII letters) and values case-sensitively;
 * a request context that spells a constrained key twice in different case
 * does not meet the constraint.
 */
export interface GrantConstraints {
  /** The request's encryption context must equal this one. */
  encryptionContextEquals?: EncryptionContext;
  /** The request's encryption context must contain every pair of this one. */
  encryptionContextSubset?: EncryptionContext;
}
export interface CreateGrantRequest extends KeyIdRequest {
  /** The principal (IAM ARN, or an account ID / account root for every principal of it). */
  granteePrincipal: string;
  operations: GrantOperation[];
  retiringPrincipal?: string;
  /** Only for operations that take an encryption context. */
  constraints?: GrantConstraints;
  /** Idempotency: the same name and parameters return the existing grant. */
  name?: string;
  grantTokens?: string[];
}
export interface CreateGrantResponse {
  /** Works at once, in `grantTokens` of the grantee's calls. */
  grantToken: string;
  /** 64 hexadecimal characters. */
  grantId: string;
}
export interface ListGrantsRequest extends KeyIdRequest {
  grantId?: string;
  granteePrincipal?: string;
  /** 1–100 (default 50). */
  limit?: number;
  marker?: string;
}
export interface ListRetirableGrantsRequest {
  retiringPrincipal: string;
  /** 1–100 (default 50). */
  limit?: number;
  marker?: string;
}
export interface GrantListEntry {
  /** The key ARN. */
  keyId: string;
  grantId: string;
  name?: string;
  creationDate: Date;
  granteePrincipal: string;
  retiringPrincipal?: string;
  /** `arn:aws:iam::<account>:root`. */
  issuingAccount: string;
  operations: GrantOperation[];
  constraints?: GrantConstraints;
}
export interface ListGrantsResponse {
  grants: GrantListEntry[];
  nextMarker?: string;
  truncated: boolean;
}
/** `{ grantToken }`, or `{ keyId, grantId }`. */
export interface RetireGrantRequest {
  grantToken?: string;
  keyId?: string;
  grantId?: string;
}
export interface RevokeGrantRequest extends KeyIdRequest {
  grantId: string;
}
/**
 * One audit record in the AWS CloudTrail shape, with CloudTrail's field
 * names, and its HMAC chain value `strongroomChain` (docs/FORMAT.md,
 * "Audit log"). Holds no plaintext, key material or grant token.
 */
export interface AuditEvent {
  eventVersion: string;
  userIdentity: { type: string; arn: string; accountId?: string };
  /** RFC 3339 UTC, second precision. */
  eventTime: string;
  eventSource: "kms.amazonaws.com";
  /** The KMS operation, e.g. "Encrypt". */
  eventName: string;
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  /** The KMS exception name of a failed or denied call. */
  errorCode?: StrongroomErrorCode;
  errorMessage?: string;
  requestID: string;
  eventID: string;
  readOnly: boolean;
  resources: { ARN: string; accountId?: string; type: "AWS::KMS::Key" }[];
  eventType: "AwsApiCall";
  managementEvent: true;
  eventCategory: "Management";
  recipientAccountId?: string;
  /** 64 hexadecimal characters. */
  strongroomChain: string;
}
/** The result of `verifyAuditLog`. */
export interface AuditVerification {
  /**
   * Whether every record's chain value verifies and none was cut off. For
   * saved `events`, records cut off the end cannot be seen (the result is
   * still `true`): compare `count` with the number of events you saved.
   */
  intact: boolean;
  /** Records verified (when not intact: records before the first bad one). */
  count: number;
  /** 0-based index of the first bad record, when not intact. */
  firstBadIndex?: number;
  /** Why that record is bad, when not intact. */
  reason?: string;
}
