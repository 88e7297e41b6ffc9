/*
 * strongroom.h — the C API of Strongroom, an embeddable key management
 * library with the AWS KMS model.
 *
 * Link with -lstrongroom (pkg-config --cflags --libs strongroom).
 *
 * CONVENTIONS (every function follows them; each function's comment adds
 * its own parameters and errors):
 *
 * Results. Every fallible function returns an sr_result. SR_OK (0) is
 * success; the KMS exceptions have their own codes (SR_NOT_FOUND,
 * SR_INVALID_CIPHERTEXT, ...) and sr_result_name() gives the exception name
 * ("NotFoundException"). sr_last_error_message() gives the message of the
 * last failure on the calling thread. No Rust panic crosses into C: a bug
 * surfaces as SR_PANIC.
 *
 * Pointers. Every pointer parameter is checked: NULL where a value is
 * required gives SR_NULL_PARAMETER (the message names the parameter).
 * A (pointer, length) pair may have a NULL pointer when the length is 0.
 * A length above the parameter's AWS KMS maximum (plaintext and messages
 * 4096 bytes, ciphertext blobs, signatures and MACs 6144, ...; each
 * function says) is SR_VALIDATION before the memory is read, and so is
 * an array's count above SR_MAX_ARRAY_LEN (65535; less where a function
 * says) and a root key's root_len above SR_ROOT_MAX_LEN (4096; a
 * passphrase SR_PASSPHRASE_MAX_LEN, 1 MiB); any other length or count
 * must be the true size of the buffer or array.
 * Parameters documented as "NULL for ..." are optional. Strings are
 * NUL-terminated UTF-8 (SR_INVALID_UTF8 otherwise); file paths are bytes.
 * Inputs are only read during the call and are never retained.
 *
 * Outputs are written only on success (SR_OK); on failure they are left
 * untouched (the three documented exceptions: *out_len on
 * SR_BUFFER_TOO_SMALL; sr_verify_audit_log()'s report on
 * SR_AUDIT_LOG_NOT_INTACT; and the _into envelope functions, which write
 * into buf as they go and overwrite with zeros what they wrote after a
 * failure part-way through: the part of buf the message could use for
 * encryption, the frames decrypted before the failure for decryption).
 * One rule per kind of output:
 *   - Byte strings (ciphertext blobs, plaintext, data keys, random bytes)
 *     and JSON documents (responses that carry metadata, in the AWS KMS JSON
 *     shape with dates as Unix seconds) are allocated by the library as an
 *     sr_bytes that the caller owns and releases with sr_bytes_free(), which
 *     zeroizes the bytes. Every sr_bytes is followed by a NUL byte (not
 *     counted in len), so JSON can be used as a C string. Initialise each
 *     sr_bytes with SR_BYTES_INIT so that freeing is always safe.
 *   - Short strings (key IDs, grant IDs and tokens, region, account,
 *     principal, error messages) are copied
 *     into a caller buffer (buf, len) with size_t *out_len. *out_len receives
 *     the size the string needs INCLUDING its NUL, both on SR_OK and on
 *     SR_BUFFER_TOO_SMALL (then nothing is copied). buf may be NULL with
 *     len 0 to ask for the size.
 *   - Envelope messages and plaintexts in one call
 *     (sr_envelope_*_message*_into) go into a caller buffer (buf, len) of
 *     bytes, without a NUL, with size_t *out_len: the length written on
 *     SR_OK; on SR_BUFFER_TOO_SMALL the length needed (exact, except for
 *     the signed suite's messages, where it is an upper bound). buf must
 *     not overlap the call's input (SR_VALIDATION).
 *   - Handles (sr_keystore *) are owned by the caller and released with
 *     their _free function; _free(NULL) is a no-op.
 *   - Static strings (sr_result_name(), sr_version()) are never freed.
 *
 * Errors every KMS operation on a handle can return besides those its
 * comment lists: SR_ACCESS_DENIED (the key policy and grants do not allow
 * the handle's principal), SR_INVALID_GRANT_TOKEN (on the calls that send
 * the handle's grant tokens, a token this keystore did not issue),
 * SR_DRY_RUN_OPERATION, or SR_VALIDATION for an operation without DryRun,
 * on a handle from sr_keystore_dry_run(), SR_VALIDATION for a handle used
 * in a process made by fork() from the one that opened it (each process
 * opens its own handle) or whose principal is not a principal ARN (a
 * keystore whose administrator principal is malformed), and SR_PANIC (a
 * bug).
 *
 * Optional numbers (limits, windows, periods, number_of_bytes) use 0 for
 * "not given", as the AWS API's absent member.
 *
 * Threads. An sr_keystore may be used from many threads at once; it must
 * not be freed while in use. The last error message is per thread.
 *
 * Encryption context is given as parallel arrays of strings:
 * (const char *const *keys, const char *const *values, size_t n).
 *
 * Principals and grant tokens. Every operation runs for the handle's
 * principal (by default the keystore's administrator) and is authorized by
 * the key policy and grants, then recorded in the audit log.
 * sr_keystore_as_principal() returns a new handle acting for another
 * principal; sr_keystore_with_grant_tokens() returns one that sends grant
 * tokens with every call that accepts GrantTokens (so the crypto functions
 * keep their signatures). Derived handles share the open keystore and are
 * freed with sr_keystore_free() like any other.
 *
 * Streaming envelope encryption (AWS Encryption SDK message format v2) of
 * data of any size in constant memory, through sr_read_fn/sr_write_fn
 * callbacks or on files: sr_envelope_encrypt() / sr_envelope_decrypt()
 * (and the _file variants) wrap the data key with KMS keys of the keystore
 * (provider ID "aws-kms", as the CLI's encrypt-file / decrypt-file);
 * sr_envelope_encrypt_raw_aes() / sr_envelope_decrypt_raw_aes() with a raw
 * AES keyring. On decrypt, a signed suite's plaintext reaches the write
 * callback only after the signature has verified; an unsigned suite's is
 * released frame by frame as each frame authenticates. Either way the output
 * is valid only when the call returns SR_OK.
 * The same messages in one call, in memory: sr_envelope_encrypt_message() /
 * sr_envelope_decrypt_message() (and _raw_aes variants) return an sr_bytes;
 * their _into variants write into a caller buffer (uint8_t *buf, size_t
 * len) with size_t *out_len, which receives the output's length on SR_OK
 * and the length needed on SR_BUFFER_TOO_SMALL (then nothing is written).
 * One-call decryption releases nothing before the whole message, signature
 * included, has authenticated.
 *
 * ABI. The shared library's SONAME is libstrongroom.so.STRONGROOM_SOVERSION;
 * it changes only when something already in this header changes
 * incompatibly. Functions are added without changing it; a struct passed by
 * pointer never grows, except those whose first member is struct_size (set
 * it with the struct's _INIT macro), which get new members at their end
 * only and are read as far as the caller's struct_size says.
 */


#ifndef STRONGROOM_H
#define STRONGROOM_H

/* Generated by cbindgen from bindings/c (strongroom-ffi). Do not edit: run `make -C bindings/c header`. */

#include <stddef.h>
#include <stdint.h>

#define SR_STRINGIFY_(x) #x
#define SR_STRINGIFY(x) SR_STRINGIFY_(x)
/** This header's version, "MAJOR.MINOR.PATCH", from Cargo.toml (see STRONGROOM_VERSION_MAJOR etc.). */
#define STRONGROOM_VERSION SR_STRINGIFY(STRONGROOM_VERSION_MAJOR) "." SR_STRINGIFY(STRONGROOM_VERSION_MINOR) "." SR_STRINGIFY(STRONGROOM_VERSION_PATCH)

/** Initialiser for an sr_bytes output: `sr_bytes b = SR_BYTES_INIT;` */
#define SR_BYTES_INIT { NULL, 0 }

/** Initialiser for sr_envelope_decrypt_options_ex: every option at its
 * default and struct_size set to this header's size of the struct:
 * `sr_envelope_decrypt_options_ex o = SR_ENVELOPE_DECRYPT_OPTIONS_EX_INIT;` */
#define SR_ENVELOPE_DECRYPT_OPTIONS_EX_INIT { sizeof(sr_envelope_decrypt_options_ex), { NULL, NULL, 0, 0, 0, 0 }, 0 }


/**
 * Major part of `STRONGROOM_VERSION` (the Cargo.toml version of this header).
 */
#define STRONGROOM_VERSION_MAJOR 0

/**
 * Minor part of `STRONGROOM_VERSION`.
 */
#define STRONGROOM_VERSION_MINOR 1

/**
 * Patch part of `STRONGROOM_VERSION`.
 */
#define STRONGROOM_VERSION_PATCH 0

/**
 * The ABI version of this header and library: the number in the shared
 * library's SONAME, `libstrongroom.so.0`. It changes only when something
 * already in the header changes incompatibly (new functions keep it), so a
 * program linked against `libstrongroom.so.N` runs with any later library
 * of the same N.
 */
#define STRONGROOM_SOVERSION 0

/**
 * Largest element count of an array parameter (an encryption context's
 * `ctx_keys`/`ctx_values`, tag arrays, grant tokens, grant operations,
 * key IDs, archive paths): 65535, the most pairs an encryption context
 * can hold (its encoding counts them in 16 bits) and more than any other
 * list a KMS parameter takes (50 tags per key, 10 grant tokens). A larger
 * count is `SR_VALIDATION` before the array is read; parameters with a
 * smaller maximum say so and are refused at it.
 */
#define SR_MAX_ARRAY_LEN 65535

/**
 * Size of a buffer that holds any grant ID this library issues: 64
 * hexadecimal characters and the NUL.
 */
#define SR_GRANT_ID_LEN 65

/**
 * Size of a buffer that holds any grant token this library issues: 130
 * base64url characters and the NUL.
 */
#define SR_GRANT_TOKEN_LEN 131

/**
 * `sr_envelope_decrypt_options::commitment_policy`: decrypt committing
 * suites only (`0x0478`, `0x0578`); the default, and the AWS Encryption
 * SDK's `REQUIRE_ENCRYPT_REQUIRE_DECRYPT`.
 */
#define SR_COMMITMENT_POLICY_REQUIRE_ENCRYPT_REQUIRE_DECRYPT 0

/**
 * `sr_envelope_decrypt_options::commitment_policy`: also decrypt the
 * non-committing message format version 1 suites (`0x0178`, `0x0378`)
 * written by older AWS Encryption SDKs (`REQUIRE_ENCRYPT_ALLOW_DECRYPT`).
 */
#define SR_COMMITMENT_POLICY_REQUIRE_ENCRYPT_ALLOW_DECRYPT 1

/**
 * `sr_envelope_decrypt_options::commitment_policy`: as
 * `SR_COMMITMENT_POLICY_REQUIRE_ENCRYPT_ALLOW_DECRYPT` for decryption
 * (`FORBID_ENCRYPT_ALLOW_DECRYPT`; Strongroom never encrypts without
 * key commitment).
 */
#define SR_COMMITMENT_POLICY_FORBID_ENCRYPT_ALLOW_DECRYPT 2

/**
 * The limit on encrypted data keys that `max_encrypted_data_keys` 0 (the
 * default) stands for in the envelope decryption functions: 10
 * (`strongroom::core::envelope::DEFAULT_MAX_ENCRYPTED_DATA_KEYS`). Each
 * encrypted data key the keyring tries may cost a KMS Decrypt call, so a
 * crafted message with thousands of them would cost thousands of calls.
 */
#define SR_DEFAULT_MAX_ENCRYPTED_DATA_KEYS 10

/**
 * `max_encrypted_data_keys` of the envelope decryption functions for no
 * limit (65535, the largest count a message can hold; the AWS Encryption
 * SDKs' default).
 */
#define SR_NO_MAX_ENCRYPTED_DATA_KEYS 65535

/**
 * The max frame buffer that `sr_envelope_decrypt_options_ex::max_frame_buffer`
 * 0 (the default) stands for: 268435456 bytes (256 MiB,
 * `strongroom::core::envelope::DEFAULT_MAX_CONTENT_BUFFER`), the largest
 * frame length Strongroom writes, so every message it writes decrypts.
 */
#define SR_DEFAULT_MAX_FRAME_BUFFER 268435456

/**
 * Size of a buffer that holds any key ID written by `sr_create_key()`: a
 * 36-character UUID and its NUL.
 */
#define SR_KEY_ID_LEN 37

/**
 * `root` holds the 32 root key bytes, or their hex or base64 text.
 */
#define SR_ROOT_KEY_BYTES 0

/**
 * `root` holds the path of a root key file (32 raw bytes, hex or base64).
 */
#define SR_ROOT_KEY_FILE 1

/**
 * `root` holds the name of an environment variable with the hex or base64 key.
 */
#define SR_ROOT_KEY_ENV_VAR 2

/**
 * `root` holds a passphrase; the root key is derived with Argon2id (RFC 9106)
 * using a salt stored in the keystore (slow by design: about 64 MiB and a
 * fraction of a second).
 */
#define SR_ROOT_KEY_PASSPHRASE 3

/**
 * Flag of `sr_keystore_open_with_anchor()`: create a missing anchor file
 * from the keystore as it is (trust on first use, for this open only).
 */
#define SR_ANCHOR_INIT 1

/**
 * Flag of `sr_keystore_open_with_anchor()` and
 * `sr_keystore_import_sealed_with_anchor()` (with `anchor_path` NULL):
 * open an anchored keystore without its anchor. Audited
 * (`OpenKeystoreWithoutAnchor`); the handle neither checks nor moves the
 * anchor, so its writes on a keystore file put back to an earlier state
 * make the rollback pass (docs/FORMAT.md, "Anchored keystores").
 */
#define SR_WITHOUT_ANCHOR 2

/**
 * Flag of `sr_keystore_open_with_anchor()` (with an `anchor_path`):
 * re-anchor an anchored keystore whose anchor is lost with `anchor_path`,
 * which must hold no record (created from the keystore as it is, trust on
 * first use). The keystore gets a new anchor ID, so every earlier anchor
 * is refused after; audited (`ReinitializeKeystoreAnchor`).
 * `SR_ANCHOR_INIT` alone does not re-anchor an anchored keystore
 * (`SR_KMS_INVALID_STATE`; docs/FORMAT.md, "Anchored keystores").
 */
#define SR_ANCHOR_REINIT 4

/**
 * Largest `root_len` of `SR_ROOT_KEY_BYTES`, `SR_ROOT_KEY_FILE` and
 * `SR_ROOT_KEY_ENV_VAR`, in bytes: 4096. A key's text (32 bytes, or their
 * hex or base64 text with whitespace around it) is refused past it as a
 * key file is; a path is at most `PATH_MAX` (4096 on Linux, with its
 * NUL); an environment variable's name is far shorter. A longer
 * `root_len` is `SR_VALIDATION` before `root` is read.
 */
#define SR_ROOT_MAX_LEN 4096

/**
 * Largest `root_len` of `SR_ROOT_KEY_PASSPHRASE`, in bytes: 1 MiB (1048576),
 * more than any passphrase the CLI takes (an environment variable holds at
 * most 128 KiB on Linux). A longer `root_len` is `SR_VALIDATION` before
 * `root` is read.
 */
#define SR_PASSPHRASE_MAX_LEN (1 << 20)

/**
 * The outcome of every fallible Strongroom function.
 *
 * The numbers are stable and never reused: `SR_OK` is 0, the binding's own
 * failures are 1–99, and the AWS KMS exceptions start at 100 (new
 * exceptions get new numbers at the end). `sr_result_name()` gives the KMS
 * exception name of a code and `sr_last_error_message()` the message of the
 * last failure on the calling thread.
 */
enum sr_result
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * Success; every output has been written.
   */
  SR_OK = 0,
  /**
   * A pointer that must not be NULL was NULL (the message names the parameter).
   */
  SR_NULL_PARAMETER = 1,
  /**
   * A caller buffer is too small; `*out_len` holds the size needed.
   */
  SR_BUFFER_TOO_SMALL = 2,
  /**
   * A C string (key ID, alias, context key or value, ...) is not UTF-8.
   */
  SR_INVALID_UTF8 = 3,
  /**
   * Reading or writing through a caller's callback or file failed.
   */
  SR_IO = 4,
  /**
   * A bug: a Rust panic was stopped at the library boundary. No output is
   * released: no out-parameter is set, and the plaintext
   * `sr_envelope_decrypt_message_into()` wrote to the caller's buffer is
   * overwritten with zeros (as on any failure).
   */
  SR_PANIC = 5,
  /**
   * `sr_verify_audit_log()`: the audit log was read and does not verify
   * (a record was edited, deleted, inserted or reordered, or the log was
   * cut short); the message names the first bad record and why.
   */
  SR_AUDIT_LOG_NOT_INTACT = 6,
  /**
   * `AccessDeniedException`, e.g. the root key does not open the keystore.
   */
  SR_ACCESS_DENIED = 100,
  /**
   * `AlreadyExistsException`.
   */
  SR_ALREADY_EXISTS = 101,
  /**
   * `DisabledException`: the key is disabled.
   */
  SR_DISABLED = 102,
  /**
   * `DryRunOperationException`.
   */
  SR_DRY_RUN_OPERATION = 103,
  /**
   * `ExpiredImportTokenException`.
   */
  SR_EXPIRED_IMPORT_TOKEN = 104,
  /**
   * `IncorrectKeyException`: the ciphertext was not made with the key named.
   */
  SR_INCORRECT_KEY = 105,
  /**
   * `IncorrectKeyMaterialException`.
   */
  SR_INCORRECT_KEY_MATERIAL = 106,
  /**
   * `InvalidAliasNameException`.
   */
  SR_INVALID_ALIAS_NAME = 107,
  /**
   * `InvalidArnException`.
   */
  SR_INVALID_ARN = 108,
  /**
   * `InvalidCiphertextException`: every decryption failure (detail-free by design).
   */
  SR_INVALID_CIPHERTEXT = 109,
  /**
   * `InvalidGrantIdException`.
   */
  SR_INVALID_GRANT_ID = 110,
  /**
   * `InvalidGrantTokenException`.
   */
  SR_INVALID_GRANT_TOKEN = 111,
  /**
   * `InvalidImportTokenException`.
   */
  SR_INVALID_IMPORT_TOKEN = 112,
  /**
   * `InvalidKeyUsageException`.
   */
  SR_INVALID_KEY_USAGE = 113,
  /**
   * `InvalidMarkerException`.
   */
  SR_INVALID_MARKER = 114,
  /**
   * `KMSInternalException`: storage or I/O failure inside the keystore.
   */
  SR_KMS_INTERNAL = 115,
  /**
   * `KMSInvalidMacException`.
   */
  SR_KMS_INVALID_MAC = 116,
  /**
   * `KMSInvalidSignatureException`.
   */
  SR_KMS_INVALID_SIGNATURE = 117,
  /**
   * `KMSInvalidStateException`: the key's state does not allow the operation.
   */
  SR_KMS_INVALID_STATE = 118,
  /**
   * `KeyUnavailableException`.
   */
  SR_KEY_UNAVAILABLE = 119,
  /**
   * `LimitExceededException`.
   */
  SR_LIMIT_EXCEEDED = 120,
  /**
   * `MalformedPolicyDocumentException`.
   */
  SR_MALFORMED_POLICY_DOCUMENT = 121,
  /**
   * `NotFoundException`: no such key, alias or keystore.
   */
  SR_NOT_FOUND = 122,
  /**
   * `TagException`.
   */
  SR_TAG = 123,
  /**
   * `UnsupportedOperationException`.
   */
  SR_UNSUPPORTED_OPERATION = 124,
  /**
   * `ValidationException`: a parameter is missing, malformed or out of range.
   */
  SR_VALIDATION = 125,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum sr_result sr_result;
#else
typedef uint32_t sr_result;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * An open keystore (opaque).
 *
 * Create one with `sr_keystore_create()` or `sr_keystore_open()` and
 * release it with `sr_keystore_free()`. One handle may be used by many
 * threads at once; it must not be freed while another thread uses it.
 * Several handles (and processes) may open the same file.
 *
 * A handle acts for one principal (`sr_keystore_as_principal()`; by default
 * the keystore's administrator) and may carry grant tokens
 * (`sr_keystore_with_grant_tokens()`) that it sends with every call that
 * accepts them. Derived handles share the open keystore with the handle
 * they came from; each is freed on its own, in any order.
 */
typedef struct sr_keystore sr_keystore;

/**
 * A byte string allocated by Strongroom: ciphertext blobs, plaintexts, data
 * keys, random bytes and JSON documents.
 *
 * Ownership: the caller owns it after a successful call and must release
 * it exactly once with `sr_bytes_free()`, which overwrites the bytes with
 * zeros first. `ptr[len]` is always a NUL byte that is not counted in
 * `len`, so JSON documents can be used directly as C strings. Do not modify
 * `ptr` or `len`. Outputs are written only on success: initialise with
 * `SR_BYTES_INIT` so that freeing after a failure is harmless.
 *
 * An output must be empty when passed in (`SR_BYTES_INIT`, or freed:
 * `sr_bytes_free()` resets it to `{NULL, 0}`, so a freed value can be
 * reused). One still holding bytes is overwritten on success without
 * being freed: those bytes leak, and a secret among them is never wiped.
 * The library does not refuse a non-empty output, since it cannot tell one
 * from an uninitialised value (which a caller that does not free after a
 * failure may pass).
 */
typedef struct {
  /**
   * `len` bytes followed by a NUL; NULL only in a freed or initial value.
   */
  uint8_t *ptr;
  /**
   * Number of bytes, not counting the trailing NUL.
   */
  size_t len;
} sr_bytes;

/**
 * What `sr_verify_audit_log()` found.
 */
typedef struct {
  /**
   * Records that verified: every record when `intact` is 1; otherwise the
   * 0-based index of the first bad record (for a log cut short, the
   * number of records found), or, when the log verified and only an
   * archive did not (`sr_verify_audit_log_archives()`), every record of
   * the log. Counted over every record the log ever held: after
   * `sr_rotate_audit_log()`, the archived records too.
   */
  uint64_t records;
  /**
   * Records the sealed checkpoint in the keystore covers.
   */
  uint64_t checkpoint_records;
  /**
   * 1 when the whole log (and the archives given to
   * `sr_verify_audit_log_archives()`) verified, 0 when it did not.
   */
  uint32_t intact;
  /**
   * How many intent records among those that verified have no outcome
   * record after them: a change of keys, aliases or grants is preceded in
   * the log by the intent record of its call (its own `eventID`, and
   * `"strongroomIntent": {"eventID": <the outcome's>}`, counted in
   * `records`), and a crash between the change and the call's own record
   * leaves the intent alone (not a fault). `sr_audit_events()` lists
   * these intents (and no other).
   */
  uint64_t outcome_unknown;
} sr_audit_verification;

/**
 * Reads up to `len` bytes into `buf` and stores the number read in
 * `*out_read` (0 means end of input). Returns 0 on success and any other
 * value on failure (the Strongroom call then fails with `SR_IO`).
 */
typedef int (*sr_read_fn)(void *user, uint8_t *buf, size_t len, size_t *out_read);

/**
 * Writes all `len` bytes of `buf`. Returns 0 on success and any other value
 * on failure (the Strongroom call then fails with `SR_IO`).
 */
typedef int (*sr_write_fn)(void *user, const uint8_t *buf, size_t len);

/**
 * Options of the `sr_envelope_decrypt*_with_options()` functions. A
 * zero-initialized struct (`sr_envelope_decrypt_options o = {0};`), or a
 * NULL pointer, gives the defaults of `sr_envelope_decrypt()`.
 */
typedef struct {
  /**
   * Keys of pairs that must be present, with the values below, in the
   * message's encryption context (NULL when `required_ctx_len` is 0).
   */
  const char *const *required_ctx_keys;
  /**
   * Values of those pairs, in the same order.
   */
  const char *const *required_ctx_values;
  /**
   * Number of required pairs.
   */
  size_t required_ctx_len;
  /**
   * Refuse (`SR_VALIDATION`, before any key is unwrapped) a message with
   * more encrypted data keys than this, 1 to 65535; 0 for the default,
   * `SR_DEFAULT_MAX_ENCRYPTED_DATA_KEYS` (10), so that a zero-initialized
   * struct gets it (a limit of 0, which the AWS Encryption SDKs and the
   * other Strongroom bindings refuse, cannot be asked for);
   * `SR_NO_MAX_ENCRYPTED_DATA_KEYS` (65535) for no limit.
   */
  uint16_t max_encrypted_data_keys;
  /**
   * One of the `SR_COMMITMENT_POLICY_*` values; 0 for the default.
   */
  uint32_t commitment_policy;
  /**
   * Non-zero: the AWS Encryption SDK's streaming unsigned-only mode.
   * A message of a signed suite (`0x0578`, `0x0378`) is refused with
   * `SR_VALIDATION` before any plaintext is produced, and no staging
   * file is used: plaintext reaches `write` once its frames are
   * authenticated, without waiting for the end of the message (if the
   * message turns out truncated, `write` has seen an authenticated prefix).
   */
  uint8_t unsigned_only;
} sr_envelope_decrypt_options;

/**
 * Options of the `sr_envelope_decrypt*_with_options_ex()` functions: those
 * of `sr_envelope_decrypt_options` (in `base`) and the max frame buffer, in
 * a struct that records its own size so that it can grow. Initialise it
 * with `SR_ENVELOPE_DECRYPT_OPTIONS_EX_INIT` (the defaults, `struct_size`
 * set, the others zero), then set the fields wanted:
 *
 * ```c
 * sr_envelope_decrypt_options_ex o = SR_ENVELOPE_DECRYPT_OPTIONS_EX_INIT;
 * o.max_frame_buffer = 1u << 30; // accept frames up to 1 GiB
 * ```
 *
 * Why a second struct: `sr_envelope_decrypt_options` has no size or
 * version field, so a field added to it would be read past the end of the
 * struct of a program compiled against an older header. This one starts
 * with its size as the caller's header declares it, and the library reads
 * that many bytes and no more (the scheme of Linux's `openat2()` and
 * `clone3()` arguments): fields are only ever added at the end; a field
 * past the caller's `struct_size` takes its default, so a program keeps
 * working with later libraries (fields are added in 8-byte units, with
 * explicit reserved members where a smaller one needs room, so that no
 * version has padding bytes past `base`, which C leaves unspecified and a
 * later library would check); a `struct_size` above this library's is
 * accepted only when the bytes past the fields it knows are all zero, so a
 * program built against a later header that sets an option this library
 * lacks gets `SR_VALIDATION` instead of having it ignored.
 */
typedef struct {
  /**
   * `sizeof(sr_envelope_decrypt_options_ex)` as the caller compiled it
   * (`SR_ENVELOPE_DECRYPT_OPTIONS_EX_INIT` sets it): at least the size of
   * the struct's first version (this one: 56 bytes on LP64 targets), at
   * most 4096 (`SR_VALIDATION` otherwise, e.g. for a
   * struct zero-initialised with `{0}`). Fields past it take their
   * defaults.
   */
  size_t struct_size;
  /**
   * The options of `sr_envelope_decrypt_with_options()`, with the same
   * meaning and defaults.
   */
  sr_envelope_decrypt_options base;
  /**
   * The max frame buffer: the largest frame length (or, for a non-framed
   * message, content length) in bytes that the streaming decryption
   * agrees to buffer, 1 to 4294967295 (2^32 − 1, the largest frame
   * length a message can declare; above is `SR_VALIDATION`); 0 for the
   * default, `SR_DEFAULT_MAX_FRAME_BUFFER` (268435456, 256 MiB). A
   * message with a larger frame is refused with `SR_LIMIT_EXCEEDED`
   * once its header is read, before any key is unwrapped or anything
   * written. The decryption holds one frame in memory: raise this to
   * read another writer's messages with larger frames, lower it to
   * bound the memory a message from an untrusted source can make it
   * use. As the CLI's `decrypt-file --max-frame-buffer`, Python's
   * `max_frame_buffer` and JavaScript's `maxFrameBuffer`.
   */
  uint64_t max_frame_buffer;
} sr_envelope_decrypt_options_ex;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * The version of the linked library, e.g. `"0.1.0"`; compare with the
 * header's `STRONGROOM_VERSION` to detect a header/library mismatch.
 *
 * Ownership: static; never free it. Never fails, never NULL.
 */
const char *sr_version(void);

/**
 * PutKeyPolicy: replaces the key policy of `key_id` with the JSON document
 * `policy` (the IAM policy grammar of KMS key policies, at most 32 KiB).
 *
 * Parameters:
 * - `key_id`: key ID or key ARN (an alias name or alias ARN is
 *   `SR_NOT_FOUND`, as in KMS).
 * - `policy_name`: NULL or `"default"` (the only key policy name).
 * - `bypass_policy_lockout_safety_check`: 0 to refuse a policy that would
 *   no longer allow the calling principal `kms:PutKeyPolicy` (the lockout
 *   safety check, as KMS), 1 to skip that check. Other values are
 *   `SR_VALIDATION`.
 *
 * Errors: `SR_MALFORMED_POLICY_DOCUMENT` (invalid document, over 32 KiB, or
 * the lockout safety check; the message says what is wrong),
 * `SR_NOT_FOUND` (key, or a policy name other than `"default"`),
 * `SR_ACCESS_DENIED`, `SR_KMS_INVALID_STATE`, `SR_NULL_PARAMETER`,
 * `SR_INVALID_UTF8`, `SR_VALIDATION`, `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; strings NULL or NUL-terminated as documented.
 */
sr_result sr_put_key_policy(const sr_keystore *ks,
                            const char *key_id,
                            const char *policy_name,
                            const char *policy,
                            uint32_t bypass_policy_lockout_safety_check);

/**
 * GetKeyPolicy: `*out_policy` receives the key policy document of `key_id`
 * (JSON text; the default key policy when none was set), as `sr_bytes` to
 * free with `sr_bytes_free()`.
 *
 * `policy_name`: NULL or `"default"`.
 *
 * Errors: `SR_NOT_FOUND` (key or policy name), `SR_ACCESS_DENIED`,
 * `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; strings NULL or NUL-terminated as documented;
 * `out_policy` valid for a write.
 */
sr_result sr_get_key_policy(const sr_keystore *ks,
                            const char *key_id,
                            const char *policy_name,
                            sr_bytes *out_policy);

/**
 * ListKeyPolicies: `*out_json` receives `{"PolicyNames": ["default"],
 * "Truncated": false}` (as KMS; `NextMarker` when truncated).
 *
 * `limit`: 1–1000, or 0 for the default. `marker`: NULL, or the
 * `NextMarker` of the previous page.
 *
 * Errors: `SR_NOT_FOUND`, `SR_ACCESS_DENIED`, `SR_VALIDATION`,
 * `SR_INVALID_MARKER`, `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; strings NULL or NUL-terminated as documented;
 * `out_json` valid for a write.
 */
sr_result sr_list_key_policies(const sr_keystore *ks,
                               const char *key_id,
                               uint32_t limit,
                               const char *marker,
                               sr_bytes *out_json);

/**
 * CreateGrant: allows `grantee_principal` the `operations` on `key_id`,
 * optionally only for requests whose encryption context equals, or
 * contains, the given pairs. The grant applies as soon as this returns;
 * the grant ID and a grant token are copied into the caller's buffers.
 *
 * Parameters:
 * - `key_id`: key ID or key ARN (an alias name or alias ARN is
 *   `SR_NOT_FOUND`, as in KMS).
 * - `grantee_principal`: the principal ARN the grant allows (1–256 characters).
 * - `operations`, `operations_len`: 1 or more KMS grant operation names,
 *   spelled as KMS does: `"Decrypt"`, `"Encrypt"`, `"GenerateDataKey"`,
 *   `"GenerateDataKeyWithoutPlaintext"`, `"ReEncryptFrom"`, `"ReEncryptTo"`,
 *   `"Sign"`, `"Verify"`, `"GetPublicKey"`, `"CreateGrant"`,
 *   `"RetireGrant"`, `"DescribeKey"`, `"GenerateDataKeyPair"`,
 *   `"GenerateDataKeyPairWithoutPlaintext"`, `"GenerateMac"`,
 *   `"VerifyMac"`, `"DeriveSharedSecret"`.
 * - `retiring_principal`: NULL, or a principal that may retire the grant.
 * - `name`: NULL, or a name (1–256 of `[a-zA-Z0-9:/_-]`) that makes the
 *   call idempotent: the same name and parameters return the existing
 *   grant's ID (and a new token) instead of creating another.
 * - `equals_*` arrays: the `EncryptionContextEquals` constraint, as parallel
 *   key/value arrays; 0 pairs for none. `subset_*` arrays: the
 *   `EncryptionContextSubset` constraint, likewise. (A constraint with no
 *   pairs cannot be expressed; it would not differ from none for a
 *   `Subset`.)
 * - `grant_id_buf`/`grant_id_len`: at least `SR_GRANT_ID_LEN` bytes;
 *   `token_buf`/`token_len`: at least `SR_GRANT_TOKEN_LEN` bytes. Both are
 *   checked *before* the grant is created: a short buffer creates nothing
 *   and returns `SR_BUFFER_TOO_SMALL` with the needed size in its
 *   `*out_..._len`. `out_grant_id_len` and `out_token_len` receive the
 *   sizes used, including the NUL.
 *
 * The handle's grant tokens (`sr_keystore_with_grant_tokens()`) are sent
 * as `GrantTokens`.
 *
 * Errors: `SR_VALIDATION` (unknown, repeated or no operation; principal or
 * name malformed; a constraint with an operation that takes no encryption
 * context, such as `"Sign"`), `SR_NOT_FOUND`, `SR_ACCESS_DENIED`,
 * `SR_KMS_INVALID_STATE` (key pending deletion), `SR_INVALID_GRANT_TOKEN`,
 * `SR_LIMIT_EXCEEDED` (50,000 grants per key), `SR_BUFFER_TOO_SMALL`,
 * `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; strings NULL or NUL-terminated as documented; arrays
 * valid for their lengths; buffers valid for their lengths; `out_*_len`
 * valid for a write.
 */
sr_result sr_create_grant(const sr_keystore *ks,
                          const char *key_id,
                          const char *grantee_principal,
                          const char *const *operations,
                          size_t operations_len,
                          const char *retiring_principal,
                          const char *name,
                          const char *const *equals_keys,
                          const char *const *equals_values,
                          size_t equals_len,
                          const char *const *subset_keys,
                          const char *const *subset_values,
                          size_t subset_len,
                          char *grant_id_buf,
                          size_t grant_id_len,
                          size_t *out_grant_id_len,
                          char *token_buf,
                          size_t token_len,
                          size_t *out_token_len);

/**
 * ListGrants: `*out_json` receives `{"Grants": [...], "Truncated": bool,
 * "NextMarker": "..."}` in the AWS shape (each grant: `KeyId` (ARN),
 * `GrantId`, `Name`, `CreationDate` (Unix seconds), `GranteePrincipal`,
 * `RetiringPrincipal`, `IssuingAccount`, `Operations`, `Constraints`).
 *
 * Parameters: `key_id` (required); `limit` 1–100 or 0 for the default (50);
 * `marker` NULL or the previous page's `NextMarker`; `grant_id` NULL or
 * only that grant; `grantee_principal` NULL or only that grantee's grants.
 *
 * Errors: `SR_NOT_FOUND`, `SR_ACCESS_DENIED`, `SR_VALIDATION`,
 * `SR_INVALID_MARKER`, `SR_INVALID_GRANT_ID`, `SR_NULL_PARAMETER`,
 * `SR_INVALID_UTF8`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; strings NULL or NUL-terminated as documented;
 * `out_json` valid for a write.
 */
sr_result sr_list_grants(const sr_keystore *ks,
                         const char *key_id,
                         uint32_t limit,
                         const char *marker,
                         const char *grant_id,
                         const char *grantee_principal,
                         sr_bytes *out_json);

/**
 * ListRetirableGrants: the grants, across keys, whose retiring principal is
 * `retiring_principal`; `*out_json` as for `sr_list_grants()`. Allowed for
 * every principal (IAM-only in AWS KMS) and audited.
 *
 * Errors: `SR_VALIDATION`, `SR_INVALID_MARKER`, `SR_NULL_PARAMETER`,
 * `SR_INVALID_UTF8`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * As `sr_list_grants()`.
 */
sr_result sr_list_retirable_grants(const sr_keystore *ks,
                                   const char *retiring_principal,
                                   uint32_t limit,
                                   const char *marker,
                                   sr_bytes *out_json);

/**
 * RetireGrant: deletes a grant named by its token (`grant_token`), or by
 * `key_id` and `grant_id` (give either the token, or both of the others;
 * NULL for the ones not given). Allowed for the grant's retiring
 * principal, its grantee when the grant includes `"RetireGrant"`, the
 * account's root principal, or a principal the key policy allows
 * `kms:RetireGrant`.
 *
 * Errors: `SR_INVALID_GRANT_TOKEN`, `SR_INVALID_GRANT_ID`, `SR_VALIDATION`
 * (neither a token nor key and grant ID), `SR_NOT_FOUND`,
 * `SR_ACCESS_DENIED`, `SR_INVALID_UTF8`, `SR_NULL_PARAMETER`, `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; strings NULL or NUL-terminated.
 */
sr_result sr_retire_grant(const sr_keystore *ks,
                          const char *grant_token,
                          const char *key_id,
                          const char *grant_id);

/**
 * RevokeGrant: deletes grant `grant_id` of `key_id`; authorized by the key
 * policy (`kms:RevokeGrant`).
 *
 * Errors: `SR_INVALID_GRANT_ID`, `SR_NOT_FOUND` (key or grant),
 * `SR_ACCESS_DENIED`, `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; strings NUL-terminated.
 */
sr_result sr_revoke_grant(const sr_keystore *ks, const char *key_id, const char *grant_id);

/**
 * Verifies the keystore's audit log (`<keystore>.audit.jsonl`): every
 * record against the HMAC chain (under a key derived from the root key) and
 * the log against the sealed checkpoint in the keystore, so that an edited,
 * deleted, inserted or reordered record, or a log cut short, is found.
 * Reading the log is not itself audited.
 *
 * Results:
 * - `SR_OK`: the log is intact; `*out` is written with `intact` 1.
 * - `SR_AUDIT_LOG_NOT_INTACT`: the log was read and does not verify;
 *   `*out` is written too (an exception to "outputs only on success"),
 *   with `intact` 0 and `records` the index of the first bad record;
 *   `sr_last_error_message()` gives that index and the reason.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_KMS_INTERNAL` (the checkpoint fails
 * authentication, or the log cannot be read; `*out` untouched).
 *
 * # Safety
 * `ks` a live handle; `out` valid for a write.
 */
sr_result sr_verify_audit_log(const sr_keystore *ks, sr_audit_verification *out);

/**
 * Verifies the audit log as `sr_verify_audit_log()` does, then the
 * archive files `archives[0]` .. `archives[archives_len - 1]` (paths,
 * oldest first, as `sr_rotate_audit_log()` made them; any contiguous run
 * of them, up to the current log): each archive's chain verifies from its
 * own first record, and the file after it (the next archive, or the
 * current log for the last one) starts with a `RotateAuditLog` record
 * that names it with its record range, length, SHA-256 and last chain
 * value. With `archives_len` 0 (`archives` may then be NULL), as
 * `sr_verify_audit_log()`. Not audited.
 *
 * Results: as `sr_verify_audit_log()`:
 * - `SR_OK`: the log and the archives are intact; `*out` is written with
 *   `intact` 1.
 * - `SR_AUDIT_LOG_NOT_INTACT`: `*out` is written too, with `intact` 0;
 *   `sr_last_error_message()` names the first bad record of the log, or,
 *   when the log verified, the problem with the archives ("the audit
 *   archives are not intact: " and the file, the record number when there
 *   is one, and why): a modified, truncated, extended, missing,
 *   unreadable or misordered archive.
 *
 * Errors: `SR_NULL_PARAMETER` (`ks`, `out`, `archives` with a non-zero
 * `archives_len`, or one of its elements), `SR_VALIDATION`
 * (`archives_len` too large for an array), `SR_KMS_INTERNAL` (as
 * `sr_verify_audit_log()`; `*out` untouched).
 *
 * # Safety
 * `ks` a live handle; `archives` NULL or valid for `archives_len` reads,
 * each a NUL-terminated string; `out` valid for a write.
 */
sr_result sr_verify_audit_log_archives(const sr_keystore *ks,
                                       const char *const *archives,
                                       size_t archives_len,
                                       sr_audit_verification *out);

/**
 * Verifies the audit log of the keystore file at `path` as
 * `sr_verify_audit_log()` does, without a handle and writing nothing: for
 * a keystore and log this process cannot or must not write (a read-only
 * file system or files, a copy kept as evidence), and for a keystore
 * that other handles or processes have open. As the CLI's
 * `strongroom audit verify`.
 *
 * Writing nothing means: the keystore is opened read only, symbolic
 * links resolved: through its WAL, with SQLite's locks, while a `-wal` or
 * `-shm` file exists beside it (a writer's latest commits, and the
 * checkpoint sealed with them, are read there), otherwise as an immutable
 * file, creating no file; nothing is flushed first, so records past the
 * sealed checkpoint (the unsealed tail of a process that crashed) are
 * checked by the chain alone, where `sr_verify_audit_log()` would seal
 * them first; the keystore integrity state is verified, and checked
 * against the anchor without moving or creating it; no audit event is
 * appended and no anchoring begun. The keystore, its WAL, its audit log
 * and its anchor are never written; but while a `-wal` file exists (a
 * writer has the keystore open, or crashed), SQLite may create or update
 * the shared-memory index `-shm` beside it, as it does for any reader.
 *
 * Parameters:
 * - `path`, `root_kind`, `root`, `root_len`: as for `sr_keystore_open()`.
 * - `anchor_path`: the keystore's anchor file (NUL-terminated path,
 *   bytes), or NULL for none; as for `sr_keystore_open_with_anchor()`.
 * - `flags`: 0, or `SR_WITHOUT_ANCHOR` (with `anchor_path` NULL: verify
 *   an anchored keystore without checking its anchor). `SR_ANCHOR_INIT`
 *   and `SR_ANCHOR_REINIT` would create an anchor: `SR_VALIDATION`.
 * - `out`: receives the result, as for `sr_verify_audit_log()`.
 *
 * Results: as `sr_verify_audit_log()`: `SR_OK` with `intact` 1, or
 * `SR_AUDIT_LOG_NOT_INTACT` with `*out` written (`intact` 0, `records` the
 * index of the first bad record) and the same index and reason in
 * `sr_last_error_message()`.
 *
 * Errors (`*out` untouched): `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`,
 * `SR_VALIDATION` (malformed root key; unknown `root_kind` or flags;
 * `root_len` above its maximum;
 * `SR_ANCHOR_INIT`, `SR_ANCHOR_REINIT`; `SR_WITHOUT_ANCHOR` with an
 * `anchor_path`; an anchor that is one of the keystore's files or not a
 * regular file), `SR_NOT_FOUND` (no keystore, or no root key file),
 * `SR_ACCESS_DENIED` (the root key does not open this keystore),
 * `SR_KMS_INVALID_STATE` (the keystore is anchored and neither
 * `anchor_path` nor `SR_WITHOUT_ANCHOR` was given, or `anchor_path` is not
 * its anchor), `SR_KMS_INTERNAL` (the keystore or the checkpoint fails
 * authentication; the keystore is behind its anchor; the anchor is
 * missing or fails authentication; a keystore of an older format
 * version, which is never migrated here; the log, or a `-wal` file
 * beside the keystore, cannot be read).
 *
 * # Safety
 * `path` NUL-terminated; `root` valid for `root_len` bytes; `anchor_path`
 * NULL or NUL-terminated; `out` valid for a write.
 */
sr_result sr_verify_audit_log_read_only(const char *path,
                                        uint32_t root_kind,
                                        const uint8_t *root,
                                        size_t root_len,
                                        const char *anchor_path,
                                        uint32_t flags,
                                        sr_audit_verification *out);

/**
 * The audit records that match the filters, oldest first: `*out_json`
 * receives a JSON array of CloudTrail-shaped event objects (`eventTime`,
 * `eventName`, `userIdentity`, `requestParameters`, `responseElements`,
 * `resources`, `errorCode`, ...), one per operation: the intent record of
 * a change (member `strongroomIntent`, see `sr_audit_verification`) only
 * while its outcome record is missing. No record holds plaintext, key material,
 * data keys or ciphertext. This reads the log without verifying it (see
 * `sr_verify_audit_log()`), and is not itself audited.
 *
 * Filters (each NULL for "any"): `key_id` (key ID or ARN the event names),
 * `event_name` (the KMS operation, e.g. `"Encrypt"`), `principal` (the
 * caller ARN, exact), `start_time` and `end_time` (RFC 3339 UTC such as
 * `"2024-01-01T00:00:00Z"`, or a date prefix such as `"2024-01-01"`;
 * both ends included).
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (a time
 * that is not such text, or `start_time` after `end_time`, a range no
 * event can fall in: CloudTrail's LookupEvents calls it
 * `InvalidTimeRangeException`, which KMS and Strongroom do not have; the
 * log is not read), `SR_KMS_INTERNAL` (the log cannot be read).
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; strings NULL or NUL-terminated; `out_json` valid for a write.
 */
sr_result sr_audit_events(const sr_keystore *ks,
                          const char *key_id,
                          const char *event_name,
                          const char *principal,
                          const char *start_time,
                          const char *end_time,
                          sr_bytes *out_json);

/**
 * Moves the keystore's audit log's records to an archive file beside it
 * and starts a new log whose first record, `RotateAuditLog`, is chained
 * from the last archived record and names the archive with its record
 * range, length and SHA-256, as CloudTrail ends one log file and starts
 * the next (docs/FORMAT.md, "Audit log rotation and archives"). The
 * archive is `<keystore>.audit.<first>-<last>.jsonl` (record numbers in 20
 * digits, so names sort by age; mode 0400); it may then be moved or
 * deleted: the keystore never reads it again. Other handles and processes
 * continue in the new log at their next call. `sr_verify_audit_log()`
 * then verifies the new file from the record it starts at (`records`
 * counts every record the log ever held).
 *
 * `*out_json` receives a JSON object: `Archive` (the archive's path),
 * `FirstRecord` and `LastRecord` (its first and last record numbers,
 * 1-based over every record the log ever held), `Bytes` (its length) and
 * `Sha256` (its SHA-256, 64 lowercase hex digits).
 *
 * A rotation of the same records already copying them (its `.partial`
 * file locked) is waited for 5 s at most; other calls are not held up
 * while the records are copied.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_KMS_INVALID_STATE` (the log holds no
 * record, a `.partial` file of the same records stayed locked for 5 s:
 * another rotation copying, or a process such as a `fork()`ed child
 * holding its lock, or the rotation gave up after 64 attempts because
 * the log kept changing under it: rotate again), `SR_VALIDATION` (a dry-run handle, or a keystore file
 * name over 193 bytes or not UTF-8), `SR_KMS_INTERNAL` (the log's records
 * do not verify, a file that is not a copy of them already has the
 * archive's name — move it away, nothing is deleted —, the directory or a
 * `.partial` file cannot be read or locked, or the log cannot be locked,
 * read, written or synced, or no longer holds what its sealed checkpoint
 * covers; nothing is archived or deleted then).
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; `out_json` valid for a write.
 */
sr_result sr_rotate_audit_log(const sr_keystore *ks,
                              sr_bytes *out_json);

/**
 * Sign: signs `message` (or, with `message_type` `"DIGEST"`, a digest)
 * with an asymmetric `SIGN_VERIFY` key; `*out_signature` receives the
 * signature (RSA: modulus length; ECDSA: DER `ECDSA-Sig-Value`).
 *
 * `message`: 1 to 4096 bytes (a longer `message_len` is `SR_VALIDATION`
 * before `message` is read); for `"DIGEST"`, the digest's length.
 * `message_type`: NULL or `"RAW"`, or `"DIGEST"`. `signing_algorithm`: e.g.
 * `"ECDSA_SHA_256"`, `"RSASSA_PSS_SHA_256"` (required by KMS; NULL lets the
 * library report `SR_VALIDATION`).
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`,
 * `SR_NOT_FOUND`, `SR_DISABLED`, `SR_KMS_INVALID_STATE`,
 * `SR_INVALID_KEY_USAGE`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; strings NULL or NUL-terminated as documented;
 * `message` valid for `message_len` bytes; `out_signature` valid for a write.
 */
sr_result sr_sign(const sr_keystore *ks,
                  const char *key_id,
                  const uint8_t *message,
                  size_t message_len,
                  const char *message_type,
                  const char *signing_algorithm,
                  sr_bytes *out_signature);

/**
 * Verify: `SR_OK` when `signature` is valid for `message` under the key's
 * public key; `SR_KMS_INVALID_SIGNATURE` when it is not. Parameters as
 * `sr_sign()`; `signature` 1 to 6144 bytes (KMS; an empty or longer one
 * is `SR_VALIDATION`, a longer one before it is read).
 *
 * Errors: as `sr_sign()`, and `SR_KMS_INVALID_SIGNATURE`.
 *
 * # Safety
 * As `sr_sign()`; `signature` valid for `signature_len` bytes.
 */
sr_result sr_verify(const sr_keystore *ks,
                    const char *key_id,
                    const uint8_t *message,
                    size_t message_len,
                    const char *message_type,
                    const uint8_t *signature,
                    size_t signature_len,
                    const char *signing_algorithm);

/**
 * GetPublicKey: `*out_public_key` receives the DER SubjectPublicKeyInfo
 * (RFC 5280) of an asymmetric key. `key_id` is a key ID, key ARN, alias
 * name or alias ARN. The handle's grant tokens
 * (`sr_keystore_with_grant_tokens()`) are sent and checked as Encrypt's are.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
 * `SR_DISABLED`, `SR_KMS_INVALID_STATE`, `SR_UNSUPPORTED_OPERATION`
 * (symmetric or HMAC key), `SR_INVALID_GRANT_TOKEN`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; `key_id` NUL-terminated; `out_public_key` valid for a write.
 */
sr_result sr_get_public_key(const sr_keystore *ks, const char *key_id, sr_bytes *out_public_key);

/**
 * DeriveSharedSecret: `*out_shared_secret` receives the raw ECDH shared
 * secret (the x-coordinate of the shared point: 32 bytes on P-256, 48 on
 * P-384, 66 on P-521) of the NIST ECC `KEY_AGREEMENT` key `key_id` and the peer's
 * `public_key`, a DER SubjectPublicKeyInfo (RFC 5280) on the same curve
 * (1 to 8192 bytes; an empty one is `SR_VALIDATION`, and a longer
 * `public_key_len` too, before it is read).
 * The secret is zeroized by `sr_bytes_free()`.
 *
 * `key_agreement_algorithm`: `"ECDH"` (required by KMS; NULL lets the
 * library report `SR_VALIDATION`). The handle's grant tokens are sent.
 * KMS's `Recipient` (Nitro Enclaves attestation) is not offered.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (no
 * algorithm; `public_key` not DER SPKI, not an EC key, on another curve,
 * or not a valid point), `SR_NOT_FOUND`, `SR_DISABLED`,
 * `SR_KMS_INVALID_STATE`, `SR_INVALID_KEY_USAGE` (not a `KEY_AGREEMENT`
 * key), `SR_ACCESS_DENIED`, `SR_INVALID_GRANT_TOKEN`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; strings NULL or NUL-terminated as documented;
 * `public_key` valid for `public_key_len` bytes; `out_shared_secret`
 * valid for a write.
 */
sr_result sr_derive_shared_secret(const sr_keystore *ks,
                                  const char *key_id,
                                  const char *key_agreement_algorithm,
                                  const uint8_t *public_key,
                                  size_t public_key_len,
                                  sr_bytes *out_shared_secret);

/**
 * GenerateMac: `*out_mac` receives the HMAC of `message` (1–4096 bytes; a
 * longer `message_len` is `SR_VALIDATION` before `message` is read) under
 * an HMAC key. `mac_algorithm`: e.g. `"HMAC_SHA_256"`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`,
 * `SR_NOT_FOUND`, `SR_DISABLED`, `SR_KMS_INVALID_STATE`,
 * `SR_INVALID_KEY_USAGE`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; strings NUL-terminated; `message` valid for
 * `message_len` bytes; `out_mac` valid for a write.
 */
sr_result sr_generate_mac(const sr_keystore *ks,
                          const char *key_id,
                          const uint8_t *message,
                          size_t message_len,
                          const char *mac_algorithm,
                          sr_bytes *out_mac);

/**
 * VerifyMac: `SR_OK` when `mac` is the HMAC of `message`;
 * `SR_KMS_INVALID_MAC` when it is not. Parameters as `sr_generate_mac()`;
 * `mac` 1 to 6144 bytes (KMS; an empty or longer one is `SR_VALIDATION`, a
 * longer one before it is read).
 *
 * Errors: as `sr_generate_mac()`, and `SR_KMS_INVALID_MAC`.
 *
 * # Safety
 * As `sr_generate_mac()`; `mac` valid for `mac_len` bytes.
 */
sr_result sr_verify_mac(const sr_keystore *ks,
                        const char *key_id,
                        const uint8_t *message,
                        size_t message_len,
                        const char *mac_algorithm,
                        const uint8_t *mac,
                        size_t mac_len);

/**
 * GenerateDataKeyPair: a fresh key pair of `key_pair_spec` (e.g.
 * `"ECC_NIST_P256"`, `"RSA_2048"`): `*out_public_key` (DER
 * SubjectPublicKeyInfo), `*out_private_key` (PKCS#8 DER; secret, zeroized
 * by `sr_bytes_free()`) and `*out_private_key_blob` (the private key
 * encrypted under the symmetric key `key_id` with the context; decrypt with
 * `sr_decrypt()`). All three are written on success, none on failure.
 *
 * Errors: `SR_VALIDATION` (spec; two outputs the same `sr_bytes`, refused
 * before the call runs), and those of `sr_encrypt()`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; strings NUL-terminated; context arrays valid for
 * `ctx_len` strings; outputs valid for a write.
 */
sr_result sr_generate_data_key_pair(const sr_keystore *ks,
                                    const char *key_id,
                                    const char *key_pair_spec,
                                    const char *const *ctx_keys,
                                    const char *const *ctx_values,
                                    size_t ctx_len,
                                    sr_bytes *out_public_key,
                                    sr_bytes *out_private_key,
                                    sr_bytes *out_private_key_blob);

/**
 * GenerateDataKeyPairWithoutPlaintext: as `sr_generate_data_key_pair()`
 * without the plaintext private key.
 *
 * Errors: as `sr_generate_data_key_pair()`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * As `sr_generate_data_key_pair()`.
 */
sr_result sr_generate_data_key_pair_without_plaintext(const sr_keystore *ks,
                                                      const char *key_id,
                                                      const char *key_pair_spec,
                                                      const char *const *ctx_keys,
                                                      const char *const *ctx_values,
                                                      size_t ctx_len,
                                                      sr_bytes *out_public_key,
                                                      sr_bytes *out_private_key_blob);

/**
 * GetParametersForImport for a key created with origin `EXTERNAL`
 * (`sr_create_key_json()` with `{"Origin":"EXTERNAL"}`): `*out_json`
 * receives `{"KeyId", "ImportToken" (base64), "PublicKey" (base64 DER
 * SubjectPublicKeyInfo), "ParametersValidTo"}`. `wrapping_algorithm` (e.g.
 * `"RSAES_OAEP_SHA_256"`) and `wrapping_key_spec` (e.g. `"RSA_2048"`) as in KMS.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`,
 * `SR_NOT_FOUND`, `SR_UNSUPPORTED_OPERATION`, `SR_KMS_INVALID_STATE`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; strings NULL or NUL-terminated; `out_json` valid for a write.
 */
sr_result sr_get_parameters_for_import(const sr_keystore *ks,
                                       const char *key_id,
                                       const char *wrapping_algorithm,
                                       const char *wrapping_key_spec,
                                       sr_bytes *out_json);

/**
 * ImportKeyMaterial: imports `encrypted_key_material` (wrapped under the
 * public key from `sr_get_parameters_for_import()`) with its
 * `import_token` (each 1 to 6144 bytes, as KMS; an empty or longer one is
 * `SR_VALIDATION`, a longer one before it is read). `valid_to`: Unix seconds when the material expires,
 * or 0 for `KEY_MATERIAL_DOES_NOT_EXPIRE`.
 *
 * KMS's `ImportType` is omitted (either kind of import, as the key
 * requires); `sr_import_key_material_with_type()` sends one.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`,
 * `SR_NOT_FOUND`, `SR_INVALID_IMPORT_TOKEN`, `SR_EXPIRED_IMPORT_TOKEN`,
 * `SR_INCORRECT_KEY_MATERIAL`, `SR_INVALID_CIPHERTEXT`,
 * `SR_UNSUPPORTED_OPERATION`, `SR_KMS_INVALID_STATE`, `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; `key_id` NUL-terminated; byte arrays valid for their lengths.
 */
sr_result sr_import_key_material(const sr_keystore *ks,
                                 const char *key_id,
                                 const uint8_t *import_token,
                                 size_t import_token_len,
                                 const uint8_t *encrypted_key_material,
                                 size_t encrypted_key_material_len,
                                 uint64_t valid_to);

/**
 * ImportKeyMaterial with KMS's `ImportType`: as
 * `sr_import_key_material()`, and `import_type` is NULL (omitted),
 * `"NEW_KEY_MATERIAL"` (only on the key's first import) or
 * `"EXISTING_KEY_MATERIAL"` (only once material was imported: the same
 * material again). Added after ABI 0.1.0; `sr_import_key_material()` keeps
 * its signature.
 *
 * Errors: those of `sr_import_key_material()`; an unknown `import_type` is
 * `SR_VALIDATION`, `"EXISTING_KEY_MATERIAL"` on a key that never had
 * material `SR_INCORRECT_KEY_MATERIAL`, `"NEW_KEY_MATERIAL"` after the
 * first import `SR_UNSUPPORTED_OPERATION`.
 *
 * # Safety
 * As `sr_import_key_material()`; `import_type` NULL or NUL-terminated.
 */
sr_result sr_import_key_material_with_type(const sr_keystore *ks,
                                           const char *key_id,
                                           const uint8_t *import_token,
                                           size_t import_token_len,
                                           const uint8_t *encrypted_key_material,
                                           size_t encrypted_key_material_len,
                                           uint64_t valid_to,
                                           const char *import_type);

/**
 * DeleteImportedKeyMaterial: the key becomes `PendingImport`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
 * `SR_UNSUPPORTED_OPERATION` (key not of origin `EXTERNAL`),
 * `SR_KMS_INVALID_STATE`, `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; `key_id` NUL-terminated.
 */
sr_result sr_delete_imported_key_material(const sr_keystore *ks, const char *key_id);

/**
 * Zeroizes and frees the bytes of `*bytes`, then sets `bytes->ptr` to NULL
 * and `bytes->len` to 0.
 *
 * `sr_bytes_free(NULL)` and freeing an `SR_BYTES_INIT` or already-freed
 * value are no-ops. Never fails.
 *
 * # Safety
 * `bytes`, if non-NULL, must point to an `sr_bytes` that is either
 * `{NULL, 0}` or was filled by a Strongroom function and not modified.
 */
void sr_bytes_free(sr_bytes *bytes);

/**
 * Encrypt: encrypts `plaintext_len` (1–4096) bytes under a symmetric KMS
 * key, binding the encryption context, and returns the ciphertext blob in
 * `*out_blob` (free with `sr_bytes_free()`).
 *
 * Parameters:
 * - `key_id`: key ID, key ARN, alias name or alias ARN.
 * - `plaintext`: may be NULL only when `plaintext_len` is 0 (which fails
 *   with `SR_VALIDATION`, as KMS does). A `plaintext_len` over 4096 is
 *   `SR_VALIDATION` before `plaintext` is read.
 * - `ctx_keys`, `ctx_values`, `ctx_len`: the encryption context as parallel
 *   arrays of NUL-terminated UTF-8 strings (`ctx_keys[i]` = `ctx_values[i]`);
 *   both may be NULL when `ctx_len` is 0. The same pairs, in any order, are
 *   needed to decrypt.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`,
 * `SR_NOT_FOUND`, `SR_DISABLED`, `SR_KMS_INVALID_STATE`,
 * `SR_INVALID_KEY_USAGE`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; `key_id` NUL-terminated; `plaintext` valid for
 * `plaintext_len` bytes; context arrays valid for `ctx_len` strings;
 * `out_blob` valid for a write.
 */
sr_result sr_encrypt(const sr_keystore *ks,
                     const char *key_id,
                     const uint8_t *plaintext,
                     size_t plaintext_len,
                     const char *const *ctx_keys,
                     const char *const *ctx_values,
                     size_t ctx_len,
                     sr_bytes *out_blob);

/**
 * Decrypt: decrypts a ciphertext blob made by `sr_encrypt()`,
 * `sr_re_encrypt()` or `sr_generate_data_key()` (or by the CLI, Python or
 * Rust) and returns the plaintext in `*out_plaintext` (secret: free with
 * `sr_bytes_free()`, which zeroizes it).
 *
 * Parameters:
 * - `blob`, `blob_len`: the ciphertext blob, 1 to 6144 bytes (`blob` may be
 *   NULL when `blob_len` is 0; a longer `blob_len` is `SR_VALIDATION`
 *   before `blob` is read).
 * - context arrays: exactly the pairs given to encrypt (order does not matter).
 * - `key_id`: NULL to use the key named in the blob; otherwise it must name
 *   that key (key ID, ARN or alias) or the call fails with `SR_INCORRECT_KEY`.
 *
 * Errors: `SR_INVALID_CIPHERTEXT` (every authentication failure: wrong
 * context, flipped bit, truncation, unknown key; detail-free by design, and
 * no plaintext is released), `SR_INCORRECT_KEY`, `SR_DISABLED`,
 * `SR_KMS_INVALID_STATE`, `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`,
 * `SR_VALIDATION`, `SR_NOT_FOUND` (for `key_id`), `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; `blob` valid for `blob_len` bytes; context arrays
 * valid for `ctx_len` strings; `key_id` NULL or NUL-terminated;
 * `out_plaintext` valid for a write.
 */
sr_result sr_decrypt(const sr_keystore *ks,
                     const uint8_t *blob,
                     size_t blob_len,
                     const char *const *ctx_keys,
                     const char *const *ctx_values,
                     size_t ctx_len,
                     const char *key_id,
                     sr_bytes *out_plaintext);

/**
 * ReEncrypt: decrypts `blob` under its key and the source context, and
 * encrypts the plaintext under `destination_key_id` and the destination
 * context, without releasing the plaintext. `*out_blob` receives the new
 * blob (free with `sr_bytes_free()`).
 *
 * `source_key_id`: NULL, or the key that must have made `blob`. Context
 * arrays as in `sr_encrypt()`; each pair of arrays may be NULL when its
 * length is 0.
 *
 * Errors: those of `sr_decrypt()` for the source and of `sr_encrypt()` for
 * the destination.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * As `sr_decrypt()` and `sr_encrypt()`.
 */
sr_result sr_re_encrypt(const sr_keystore *ks,
                        const uint8_t *blob,
                        size_t blob_len,
                        const char *const *source_ctx_keys,
                        const char *const *source_ctx_values,
                        size_t source_ctx_len,
                        const char *source_key_id,
                        const char *destination_key_id,
                        const char *const *destination_ctx_keys,
                        const char *const *destination_ctx_values,
                        size_t destination_ctx_len,
                        sr_bytes *out_blob);

/**
 * GenerateDataKey: a fresh data key, returned in plaintext in
 * `*out_plaintext` (secret: free with `sr_bytes_free()`, which zeroizes it)
 * and encrypted under `key_id` in `*out_blob` (decrypt it later with
 * `sr_decrypt()` and the same context).
 *
 * Give exactly one of `key_spec` (`"AES_256"` or `"AES_128"`; NULL for
 * none) and `number_of_bytes` (1–1024; 0 for none). Context arrays as in
 * `sr_encrypt()`. Both outputs are written on success, neither on failure.
 *
 * Errors: `SR_VALIDATION` (neither or both of key_spec/number_of_bytes;
 * `out_plaintext` and `out_blob` the same `sr_bytes`, refused before the
 * call runs), and those of `sr_encrypt()`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; strings NULL or NUL-terminated as documented;
 * context arrays valid for `ctx_len` strings; both outputs valid for a write.
 */
sr_result sr_generate_data_key(const sr_keystore *ks,
                               const char *key_id,
                               const char *key_spec,
                               uint32_t number_of_bytes,
                               const char *const *ctx_keys,
                               const char *const *ctx_values,
                               size_t ctx_len,
                               sr_bytes *out_plaintext,
                               sr_bytes *out_blob);

/**
 * GenerateDataKeyWithoutPlaintext: as `sr_generate_data_key()` but only the
 * encrypted data key is returned, in `*out_blob`.
 *
 * Errors: as `sr_generate_data_key()`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * As `sr_generate_data_key()`.
 */
sr_result sr_generate_data_key_without_plaintext(const sr_keystore *ks,
                                                 const char *key_id,
                                                 const char *key_spec,
                                                 uint32_t number_of_bytes,
                                                 const char *const *ctx_keys,
                                                 const char *const *ctx_values,
                                                 size_t ctx_len,
                                                 sr_bytes *out_blob);

/**
 * GenerateRandom: `number_of_bytes` (1–1024) bytes from the operating
 * system's CSPRNG in `*out_random` (free with `sr_bytes_free()`).
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_VALIDATION`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; `out_random` valid for a write.
 */
sr_result sr_generate_random(const sr_keystore *ks, uint32_t number_of_bytes, sr_bytes *out_random);

/**
 * Envelope-encrypts everything `read` yields into one AWS Encryption SDK
 * message (format version 2, committing suite) passed to `write`, in
 * constant memory, with the data key wrapped by KMS keys of the keystore:
 * the message is the one the CLI's `encrypt-file` writes, and
 * `decrypt-file` (or `sr_envelope_decrypt()`, or an AWS Encryption SDK
 * with an AWS KMS keyring pointed at a Strongroom endpoint) decrypts it.
 *
 * The first key generates the data key (`GenerateDataKey`), every other key
 * wraps it too (`Encrypt`); each becomes an encrypted data key with provider
 * ID `aws-kms` and the key ARN as provider info. The calls run for the
 * handle's principal (key policy and grants apply, and each is audited)
 * and send the handle's grant tokens (`sr_keystore_with_grant_tokens()`).
 *
 * Parameters:
 * - `key_ids`, `key_ids_len`: 1 or more key IDs, key ARNs, alias names or
 *   alias ARNs of symmetric `ENCRYPT_DECRYPT` keys.
 * - context arrays: the encryption context, as in `sr_encrypt()`; stored
 *   (authenticated, not encrypted) in the message header and bound to
 *   every wrapped data key.
 * - `frame_length`: plaintext bytes per frame, 1 to 268435456 (256 MiB;
 *   `SR_VALIDATION` otherwise, before anything is written), 0 for the
 *   default (4096). 256 MiB is what the streaming decryption functions
 *   (`sr_envelope_decrypt*()`, the CLI) buffer of a frame by default (their
 *   max frame buffer), so every message written decrypts with them; a
 *   message of another writer with larger frames is refused there
 *   (`SR_LIMIT_EXCEEDED`) unless the max frame buffer is raised
 *   (`sr_envelope_decrypt_with_options_ex()`), while the one-call
 *   `sr_envelope_decrypt_message*()` accept every frame length.
 * - `suite_id`: 0 for the default `0x0578` (signed with ECDSA P-384), or
 *   `0x0478` (unsigned).
 * - `read`/`read_user`, `write`/`write_user`: the callbacks and the
 *   pointers passed back to them (may be NULL; never dereferenced here).
 *   `read` is asked for 64 KiB at a time; `write` gets the message in pieces.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (no key,
 * frame length, suite), `SR_NOT_FOUND`, `SR_DISABLED`,
 * `SR_KMS_INVALID_STATE`, `SR_INVALID_KEY_USAGE`, `SR_ACCESS_DENIED` (the
 * principal may not use a key), `SR_INVALID_GRANT_TOKEN` (a grant token of
 * the handle was not issued by this keystore), `SR_IO` (a callback failed; the output is
 * incomplete and must be discarded), `SR_KMS_INTERNAL`. On any failure the
 * output written so far must be discarded.
 *
 * # Safety
 * `ks` a live handle; strings NUL-terminated; arrays valid for their
 * lengths; the callbacks must follow their contracts (`sr_read_fn`,
 * `sr_write_fn`).
 */
sr_result sr_envelope_encrypt(const sr_keystore *ks,
                              const char *const *key_ids,
                              size_t key_ids_len,
                              const char *const *ctx_keys,
                              const char *const *ctx_values,
                              size_t ctx_len,
                              uint32_t frame_length,
                              uint16_t suite_id,
                              sr_read_fn read,
                              void *read_user,
                              sr_write_fn write,
                              void *write_user);

/**
 * Decrypts one AWS Encryption SDK message that `read` yields (made by
 * `sr_envelope_encrypt()`, the CLI's `encrypt-file`, or any ESDK with a
 * KMS keyring naming keys of this keystore), passing the plaintext to
 * `write`, in constant memory. Each data key is unwrapped with `Decrypt`
 * for the handle's principal (key policy and grants apply, and each call
 * is audited), sending the handle's grant tokens
 * (`sr_keystore_with_grant_tokens()`).
 *
 * When plaintext reaches `write` (this is the facade's
 * `strongroom::envelope::decrypt_stream`):
 * - signed suites (`0x0578`, the default, and `0x0378`): nothing is passed
 *   to `write` until the whole message, including its ECDSA signature, has
 *   verified. The plaintext is staged meanwhile in an anonymous temporary
 *   file in the system temporary directory (`$TMPDIR`, else `/tmp`), which
 *   the operating system deletes when it is closed; memory stays constant.
 *   A tampered, truncated or wrongly keyed message therefore fails without
 *   any call to `write`.
 * - unsigned suites (`0x0478`, `0x0178`): each frame is passed to `write`
 *   as soon as AES-GCM authenticates it. If a later frame fails or the
 *   message is truncated, the call fails after `write` has received an
 *   authenticated prefix, which the caller must discard.
 *
 * In every case the plaintext is valid only if this function returns
 * `SR_OK`.
 *
 * Parameters:
 * - `key_ids`, `key_ids_len`: the keys that may be used (strict; key IDs,
 *   ARNs or aliases), or NULL and 0 for any key of this keystore
 *   (discovery).
 * - `required_*` arrays: pairs that must be present, with these values, in
 *   the message's encryption context (both NULL and 0 for none).
 * - `max_encrypted_data_keys`: refuse messages with more encrypted data
 *   keys than this (`SR_VALIDATION`, before any is unwrapped), 1 to 65535;
 *   0 for the default, `SR_DEFAULT_MAX_ENCRYPTED_DATA_KEYS` (10: each one
 *   the keyring tries may cost a KMS Decrypt call), not a limit of 0
 *   (which the AWS Encryption SDKs refuse); `SR_NO_MAX_ENCRYPTED_DATA_KEYS`
 *   (65535) for no limit.
 * - callbacks as for `sr_envelope_encrypt()`.
 *
 * Errors: `SR_INVALID_CIPHERTEXT` (anything that does not authenticate or
 * parse, truncation, no encrypted data key that a usable key unwraps, a
 * required context pair missing or different), `SR_VALIDATION` (too many
 * encrypted data keys, a non-committing suite, a header above 4 MiB),
 * `SR_LIMIT_EXCEEDED` (a frame length above 256 MiB, which Strongroom
 * never writes: raise the max frame buffer with
 * `sr_envelope_decrypt_with_options_ex()`, or decrypt such a message in
 * one call), `SR_DISABLED`,
 * `SR_KMS_INVALID_STATE` or `SR_ACCESS_DENIED` (the only key that could
 * unwrap the data key refused), `SR_INVALID_GRANT_TOKEN` (a grant token of
 * the handle was not issued by this keystore), `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`,
 * `SR_IO` (a callback failed), `SR_KMS_INTERNAL` (staging file).
 *
 * # Safety
 * As `sr_envelope_encrypt()`.
 */
sr_result sr_envelope_decrypt(const sr_keystore *ks,
                              const char *const *key_ids,
                              size_t key_ids_len,
                              const char *const *required_ctx_keys,
                              const char *const *required_ctx_values,
                              size_t required_ctx_len,
                              uint16_t max_encrypted_data_keys,
                              sr_read_fn read,
                              void *read_user,
                              sr_write_fn write,
                              void *write_user);

/**
 * As `sr_envelope_decrypt()`, with the options in `*options` (NULL for the
 * defaults): required encryption context pairs, the encrypted data key
 * limit, the commitment policy (`SR_COMMITMENT_POLICY_*`; to read version 1
 * messages of older AWS Encryption SDKs) and the unsigned-only mode, in
 * which a signed message is refused before any plaintext is produced and
 * plaintext reaches `write` as its frames authenticate.
 *
 * Errors: as `sr_envelope_decrypt()`; `SR_VALIDATION` also for an unknown
 * `commitment_policy`, for a non-committing suite under the default
 * policy, and for a signed suite with `unsigned_only`.
 *
 * # Safety
 * As `sr_envelope_decrypt()`; `options` NULL or valid for a read, its
 * arrays valid for `required_ctx_len` strings.
 */
sr_result sr_envelope_decrypt_with_options(const sr_keystore *ks,
                                           const char *const *key_ids,
                                           size_t key_ids_len,
                                           const sr_envelope_decrypt_options *options,
                                           sr_read_fn read,
                                           void *read_user,
                                           sr_write_fn write,
                                           void *write_user);

/**
 * As `sr_envelope_decrypt_with_options()`, with the options in an
 * `sr_envelope_decrypt_options_ex` (NULL for the defaults): those of
 * `sr_envelope_decrypt_options` in `base`, and `max_frame_buffer`, the
 * largest frame this streaming decryption buffers (default 256 MiB).
 * The one-call `sr_envelope_decrypt_message*()` functions take no max
 * frame buffer: the whole message is in memory already, and they accept
 * every frame length.
 *
 * Errors: as `sr_envelope_decrypt_with_options()`; `SR_LIMIT_EXCEEDED`
 * for a message whose frame length (or non-framed content length) is
 * above `max_frame_buffer`, once its header is read (before any key is
 * unwrapped or anything written; the message names the max frame
 * buffer); `SR_VALIDATION` also for a `struct_size` below the size of the
 * struct's first version or above 4096, for options set past the fields this
 * library knows (a `struct_size` from a newer header with non-zero bytes
 * past them), and for a `max_frame_buffer` above 4294967295.
 *
 * # Safety
 * As `sr_envelope_decrypt()`; `options` NULL or valid for reads of its
 * `struct_size` bytes, the arrays of its `base` valid for
 * `required_ctx_len` strings.
 */
sr_result sr_envelope_decrypt_with_options_ex(const sr_keystore *ks,
                                              const char *const *key_ids,
                                              size_t key_ids_len,
                                              const sr_envelope_decrypt_options_ex *options,
                                              sr_read_fn read,
                                              void *read_user,
                                              sr_write_fn write,
                                              void *write_user);

/**
 * Reads the header of the message that `read` yields and writes it to
 * `*out_json` as UTF-8 JSON (free with `sr_bytes_free()`): no key is
 * unwrapped and nothing is authenticated, so every field is untrusted.
 * `read` is asked for up to 4 KiB at a time until the header parses (at
 * most 4 MiB in all), so it may have consumed bytes past the header: the
 * stream is not left at the message body (read the message again to
 * decrypt it). The JSON is the CLI's `decrypt-file --show-header` output:
 * `{"AlgorithmSuiteId": "0x0578", "AlgorithmSuite": "...",
 * "MessageFormatVersion": 2, "MessageId": "<hex>", "EncryptionContext":
 * {...}, "EncryptedDataKeys": [{"ProviderId": "aws-kms", "ProviderInfo":
 * "<key ARN>", "CiphertextLength": 184}], "ContentType": "Framed",
 * "FrameLength": 4096}`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_CIPHERTEXT` (no well-formed
 * header), `SR_IO` (the callback failed).
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `read` must follow its contract (`sr_read_fn`); `out_json` valid for a write.
 */
sr_result sr_envelope_read_header(sr_read_fn read, void *read_user, sr_bytes *out_json);

/**
 * `sr_envelope_encrypt()` from the file `in_path` to the file `out_path`:
 * the message is written to a temporary file in `out_path`'s directory,
 * synced, and renamed to `out_path` only on success (a failure leaves
 * `out_path` as it was). A symbolic link `out_path` is written through:
 * the file it names is opened through it and rewritten in place once the
 * output is complete (its mode and owner kept; staged in `TMPDIR` until
 * then; its space reserved first, so on file systems that reserve a full
 * disk leaves it unchanged, but an I/O error during that copy can leave
 * it partly rewritten), the link kept. Paths are NUL-terminated
 * bytes.
 *
 * Errors: as `sr_envelope_encrypt()`; `SR_VALIDATION`, naming the path,
 * before anything is written, when `in_path` is missing, unreadable or a
 * directory, `out_path` is a directory, a symbolic link that names no
 * file, or in a missing or unwritable
 * directory, both name the same file, or `out_path` is a file of a
 * keystore open in this process (the keystore, its `-wal`/`-shm`/`-journal`
 * file, audit log, root key file or the default one beside it, anchor
 * file; also through a link: writing it would destroy every key);
 * `SR_KMS_INTERNAL` only when the output cannot be written for another
 * reason (a full disk).
 *
 * # Safety
 * As `sr_envelope_encrypt()`; paths NUL-terminated.
 */
sr_result sr_envelope_encrypt_file(const sr_keystore *ks,
                                   const char *in_path,
                                   const char *out_path,
                                   const char *const *key_ids,
                                   size_t key_ids_len,
                                   const char *const *ctx_keys,
                                   const char *const *ctx_values,
                                   size_t ctx_len,
                                   uint32_t frame_length,
                                   uint16_t suite_id);

/**
 * `sr_envelope_decrypt()` from the file `in_path` to the file `out_path`,
 * for any suite: the plaintext goes to a temporary file in `out_path`'s
 * directory, which is synced and renamed to `out_path` only once the whole
 * message (and, for signed suites, its signature) has verified. On any
 * failure `out_path` is not created or changed, so it never holds
 * unauthenticated or partial plaintext. A symbolic link `out_path` is
 * written through, as `sr_envelope_encrypt_file()` says: the file it
 * names keeps its mode and is rewritten in place once the message has
 * verified (space reserved first; an I/O error during that last copy can
 * leave it partly rewritten).
 *
 * Errors: as `sr_envelope_decrypt()`; the path errors of
 * `sr_envelope_encrypt_file()`.
 *
 * # Safety
 * As `sr_envelope_decrypt()`; paths NUL-terminated.
 */
sr_result sr_envelope_decrypt_file(const sr_keystore *ks,
                                   const char *in_path,
                                   const char *out_path,
                                   const char *const *key_ids,
                                   size_t key_ids_len,
                                   const char *const *required_ctx_keys,
                                   const char *const *required_ctx_values,
                                   size_t required_ctx_len,
                                   uint16_t max_encrypted_data_keys);

/**
 * As `sr_envelope_decrypt_file()`, with the options of
 * `sr_envelope_decrypt_with_options()`. With `unsigned_only`, a message of
 * a signed suite is refused (`SR_VALIDATION`) once its header is read,
 * before any key is unwrapped (the input is opened and read once); the
 * output is still staged and renamed only once the whole message is
 * authenticated.
 *
 * Errors: as `sr_envelope_decrypt_with_options()`; the path errors of
 * `sr_envelope_encrypt_file()`.
 *
 * # Safety
 * As `sr_envelope_decrypt_with_options()`; paths NUL-terminated.
 */
sr_result sr_envelope_decrypt_file_with_options(const sr_keystore *ks,
                                                const char *in_path,
                                                const char *out_path,
                                                const char *const *key_ids,
                                                size_t key_ids_len,
                                                const sr_envelope_decrypt_options *options);

/**
 * As `sr_envelope_decrypt_file_with_options()`, with the options of
 * `sr_envelope_decrypt_with_options_ex()` (`max_frame_buffer` too; on
 * `SR_LIMIT_EXCEEDED` `out_path` is not created or changed).
 *
 * Errors: as `sr_envelope_decrypt_with_options_ex()`; the path errors of
 * `sr_envelope_encrypt_file()`.
 *
 * # Safety
 * As `sr_envelope_decrypt_with_options_ex()`; paths NUL-terminated.
 */
sr_result sr_envelope_decrypt_file_with_options_ex(const sr_keystore *ks,
                                                   const char *in_path,
                                                   const char *out_path,
                                                   const char *const *key_ids,
                                                   size_t key_ids_len,
                                                   const sr_envelope_decrypt_options_ex *options);

/**
 * As `sr_envelope_encrypt()`, with the data key wrapped by a raw AES
 * keyring instead of KMS keys (no keystore involved): the message is the
 * one the AWS Encryption SDKs' raw AES keyring reads and writes.
 *
 * Parameters:
 * - `key_namespace`, `key_name`: the raw AES keyring's provider ID and key
 *   name (as in the AWS Encryption SDKs' raw AES keyring; the namespace must
 *   not start with `aws-kms`). The same pair is needed to decrypt.
 * - `wrapping_key`: 16, 24 or 32 bytes, copied and zeroized after use (a
 *   longer `wrapping_key_len` is `SR_VALIDATION` before it is read).
 * - the others as for `sr_envelope_encrypt()`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (key
 * length, names, frame length, suite), `SR_IO` (a callback failed; the
 * output is incomplete and must be discarded), `SR_KMS_INTERNAL`.
 *
 * # Safety
 * Strings NUL-terminated; `wrapping_key` valid for `wrapping_key_len`
 * bytes; context arrays valid for `ctx_len` strings; the callbacks must
 * follow their contracts (`sr_read_fn`, `sr_write_fn`).
 */
sr_result sr_envelope_encrypt_raw_aes(const char *key_namespace,
                                      const char *key_name,
                                      const uint8_t *wrapping_key,
                                      size_t wrapping_key_len,
                                      const char *const *ctx_keys,
                                      const char *const *ctx_values,
                                      size_t ctx_len,
                                      uint32_t frame_length,
                                      uint16_t suite_id,
                                      sr_read_fn read,
                                      void *read_user,
                                      sr_write_fn write,
                                      void *write_user);

/**
 * As `sr_envelope_decrypt()` (the same rules for when plaintext reaches
 * `write`: signed suites only after the signature verifies, unsigned ones
 * frame by frame), with a raw AES keyring: the keyring as for
 * `sr_envelope_encrypt_raw_aes()`; `required_*` arrays: pairs that must be
 * present, with these values, in the message's encryption context (both
 * NULL and 0 for none).
 *
 * Errors: `SR_INVALID_CIPHERTEXT` (anything that does not authenticate,
 * wrong keyring, malformed or truncated message; detail-free),
 * `SR_VALIDATION`, `SR_LIMIT_EXCEEDED` (a frame length above 256 MiB, as
 * for `sr_envelope_decrypt()`), `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`,
 * `SR_IO`, `SR_KMS_INTERNAL` (staging file).
 *
 * # Safety
 * As `sr_envelope_encrypt_raw_aes()`.
 */
sr_result sr_envelope_decrypt_raw_aes(const char *key_namespace,
                                      const char *key_name,
                                      const uint8_t *wrapping_key,
                                      size_t wrapping_key_len,
                                      const char *const *required_ctx_keys,
                                      const char *const *required_ctx_values,
                                      size_t required_ctx_len,
                                      sr_read_fn read,
                                      void *read_user,
                                      sr_write_fn write,
                                      void *write_user);

/**
 * As `sr_envelope_decrypt_raw_aes()`, with the options of
 * `sr_envelope_decrypt_with_options()` (its `max_encrypted_data_keys`,
 * commitment policy and unsigned-only mode apply here too).
 *
 * Errors: as `sr_envelope_decrypt_raw_aes()`; `SR_VALIDATION` also as
 * `sr_envelope_decrypt_with_options()`.
 *
 * # Safety
 * As `sr_envelope_decrypt_raw_aes()`; `options` NULL or valid for a read,
 * its arrays valid for `required_ctx_len` strings.
 */
sr_result sr_envelope_decrypt_raw_aes_with_options(const char *key_namespace,
                                                   const char *key_name,
                                                   const uint8_t *wrapping_key,
                                                   size_t wrapping_key_len,
                                                   const sr_envelope_decrypt_options *options,
                                                   sr_read_fn read,
                                                   void *read_user,
                                                   sr_write_fn write,
                                                   void *write_user);

/**
 * As `sr_envelope_decrypt_raw_aes_with_options()`, with the options of
 * `sr_envelope_decrypt_with_options_ex()` (`max_frame_buffer` too).
 *
 * Errors: as `sr_envelope_decrypt_raw_aes()`; `SR_LIMIT_EXCEEDED` and
 * `SR_VALIDATION` also as `sr_envelope_decrypt_with_options_ex()`.
 *
 * # Safety
 * As `sr_envelope_decrypt_raw_aes()`; `options` as for
 * `sr_envelope_decrypt_with_options_ex()`.
 */
sr_result sr_envelope_decrypt_raw_aes_with_options_ex(const char *key_namespace,
                                                      const char *key_name,
                                                      const uint8_t *wrapping_key,
                                                      size_t wrapping_key_len,
                                                      const sr_envelope_decrypt_options_ex *options,
                                                      sr_read_fn read,
                                                      void *read_user,
                                                      sr_write_fn write,
                                                      void *write_user);

/**
 * CreateKey: creates a KMS key and copies its key ID (a UUID) into `key_id_buf`.
 *
 * Parameters:
 * - `description`: NULL for none.
 * - `key_spec`: e.g. `"SYMMETRIC_DEFAULT"`; NULL for the default
 *   (`SYMMETRIC_DEFAULT`). Other specs are accepted as the Rust library accepts them.
 * - `key_usage`: e.g. `"ENCRYPT_DECRYPT"`; NULL for the spec's default.
 * - `key_id_buf`/`key_id_len`: at least `SR_KEY_ID_LEN` bytes. This is
 *   checked *before* the key is created: a short buffer creates nothing and
 *   returns `SR_BUFFER_TOO_SMALL` with `*out_len = SR_KEY_ID_LEN`.
 * - `out_len`: receives the size used including the NUL (37).
 *
 * For tags, a policy or an origin use `sr_create_key_json()`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_BUFFER_TOO_SMALL`,
 * `SR_VALIDATION` (unknown spec or usage, description too long),
 * `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; strings NUL-terminated; `key_id_buf` valid for
 * `key_id_len` bytes; `out_len` valid for a write.
 */
sr_result sr_create_key(const sr_keystore *ks,
                        const char *description,
                        const char *key_spec,
                        const char *key_usage,
                        char *key_id_buf,
                        size_t key_id_len,
                        size_t *out_len);

/**
 * CreateKey with the full AWS request: `request_json` is a `CreateKey`
 * request document in the AWS KMS JSON shape (`{"Description": ...,
 * "KeySpec": ..., "KeyUsage": ..., "Origin": ..., "Policy": ..., "Tags":
 * [{"TagKey": ..., "TagValue": ...}]}`; `"{}"` for the defaults).
 * `*out_json` receives the response, `{"KeyMetadata": {...}}` (dates in
 * Unix seconds), as `sr_bytes` to free with `sr_bytes_free()`.
 *
 * A member the request does not have, at the top or in a tag
 * (`"Keyusage"`, `"Tag"`, `"TagValu"`), is refused by name, never
 * ignored (as the AWS SDKs' "Unknown parameter in input"); so are members
 * of KMS features Strongroom does not have (`CustomKeyStoreId`,
 * `XksKeyId`). `CustomerMasterKeySpec` (the old name of `KeySpec`),
 * `BypassPolicyLockoutSafetyCheck` and `MultiRegion` are members.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`
 * (not a JSON object, malformed JSON or member, an unknown member: the
 * message names it and the accepted ones), `SR_TAG`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; `request_json` NUL-terminated; `out_json` valid for a write.
 */
sr_result sr_create_key_json(const sr_keystore *ks, const char *request_json, sr_bytes *out_json);

/**
 * DescribeKey: `*out_json` receives `{"KeyMetadata": {...}}` in the AWS
 * shape (`KeyId`, `Arn`, `KeyState`, `Enabled`, `KeySpec`, `CreationDate`
 * in Unix seconds, ...), as `sr_bytes` (free with `sr_bytes_free()`).
 *
 * `key_id` is a key ID, key ARN, alias name (`alias/...`) or alias ARN.
 * The handle's grant tokens (`sr_keystore_with_grant_tokens()`) are sent
 * and checked as Encrypt's are (KMS's `GrantTokens` of DescribeKey).
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
 * `SR_INVALID_ARN`, `SR_INVALID_GRANT_TOKEN`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; `key_id` NUL-terminated; `out_json` valid for a write.
 */
sr_result sr_describe_key(const sr_keystore *ks, const char *key_id, sr_bytes *out_json);

/**
 * ListKeys: `*out_json` receives `{"Keys": [{"KeyId", "KeyArn"}, ...],
 * "Truncated": bool, "NextMarker": "..."}` (NextMarker only when truncated).
 *
 * `limit`: 1–1000, or 0 for the default (100). `marker`: NULL, or the
 * `NextMarker` of the previous page.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`,
 * `SR_INVALID_MARKER`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; `marker` NULL or NUL-terminated; `out_json` valid for a write.
 */
sr_result sr_list_keys(const sr_keystore *ks,
                       uint32_t limit,
                       const char *marker,
                       sr_bytes *out_json);

/**
 * UpdateKeyDescription: sets the description (`""` clears it).
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
 * `SR_VALIDATION` (over 8192 characters), `SR_KMS_INVALID_STATE`, `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; strings NUL-terminated.
 */
sr_result sr_update_key_description(const sr_keystore *ks,
                                    const char *key_id,
                                    const char *description);

/**
 * EnableKey. Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
 * `SR_KMS_INVALID_STATE` (pending deletion), `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; `key_id` NUL-terminated.
 */
sr_result sr_enable_key(const sr_keystore *ks, const char *key_id);

/**
 * DisableKey: cryptographic operations with the key then fail with
 * `SR_DISABLED`. Errors as `sr_enable_key()`.
 *
 * # Safety
 * `ks` a live handle; `key_id` NUL-terminated.
 */
sr_result sr_disable_key(const sr_keystore *ks, const char *key_id);

/**
 * ScheduleKeyDeletion: `pending_window_in_days` 7–30, or 0 for the default
 * (30). `*out_json` receives `{"KeyId", "DeletionDate" (Unix seconds),
 * "KeyState": "PendingDeletion", "PendingWindowInDays"}`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`,
 * `SR_NOT_FOUND`, `SR_KMS_INVALID_STATE`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; `key_id` NUL-terminated; `out_json` valid for a write.
 */
sr_result sr_schedule_key_deletion(const sr_keystore *ks,
                                   const char *key_id,
                                   uint32_t pending_window_in_days,
                                   sr_bytes *out_json);

/**
 * CancelKeyDeletion: the key returns to the `Disabled` state.
 * Errors as `sr_enable_key()`.
 *
 * # Safety
 * `ks` a live handle; `key_id` NUL-terminated.
 */
sr_result sr_cancel_key_deletion(const sr_keystore *ks, const char *key_id);

/**
 * EnableKeyRotation: `rotation_period_in_days` 90–2560, or 0 for the default (365).
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`,
 * `SR_NOT_FOUND`, `SR_DISABLED`, `SR_KMS_INVALID_STATE`,
 * `SR_UNSUPPORTED_OPERATION`, `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; `key_id` NUL-terminated.
 */
sr_result sr_enable_key_rotation(const sr_keystore *ks,
                                 const char *key_id,
                                 uint32_t rotation_period_in_days);

/**
 * DisableKeyRotation. Errors as `sr_enable_key_rotation()`.
 *
 * # Safety
 * `ks` a live handle; `key_id` NUL-terminated.
 */
sr_result sr_disable_key_rotation(const sr_keystore *ks, const char *key_id);

/**
 * GetKeyRotationStatus: `*out_json` receives `{"KeyId",
 * "KeyRotationEnabled": bool, "RotationPeriodInDays", "NextRotationDate",
 * "OnDemandRotationStartDate"}` (the last three only when set).
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
 * `SR_UNSUPPORTED_OPERATION`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; `key_id` NUL-terminated; `out_json` valid for a write.
 */
sr_result sr_get_key_rotation_status(const sr_keystore *ks, const char *key_id, sr_bytes *out_json);

/**
 * RotateKeyOnDemand: new key material now; blobs made before keep decrypting.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
 * `SR_DISABLED`, `SR_KMS_INVALID_STATE`, `SR_UNSUPPORTED_OPERATION`,
 * `SR_LIMIT_EXCEEDED` (more than 10 on-demand rotations), `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; `key_id` NUL-terminated.
 */
sr_result sr_rotate_key_on_demand(const sr_keystore *ks, const char *key_id);

/**
 * ListKeyRotations: `*out_json` receives `{"Rotations": [{"KeyId",
 * "RotationDate", "RotationType": "AUTOMATIC"|"ON_DEMAND"}, ...],
 * "Truncated", "NextMarker"}`. `limit` 1–1000 or 0 (100); `marker` NULL or
 * the previous `NextMarker`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
 * `SR_VALIDATION`, `SR_INVALID_MARKER`, `SR_UNSUPPORTED_OPERATION`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; strings NULL or NUL-terminated as documented; `out_json` valid for a write.
 */
sr_result sr_list_key_rotations(const sr_keystore *ks,
                                const char *key_id,
                                uint32_t limit,
                                const char *marker,
                                sr_bytes *out_json);

/**
 * CreateAlias: `alias_name` (`"alias/..."`) for `target_key_id` (a key ID or
 * key ARN, not an alias).
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_INVALID_ALIAS_NAME`,
 * `SR_VALIDATION`, `SR_ALREADY_EXISTS`, `SR_NOT_FOUND`,
 * `SR_KMS_INVALID_STATE`, `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; strings NUL-terminated.
 */
sr_result sr_create_alias(const sr_keystore *ks, const char *alias_name, const char *target_key_id);

/**
 * UpdateAlias: points an existing alias at another key of the same key
 * type (both symmetric, both asymmetric or both HMAC) and key usage, as in
 * AWS KMS; the key spec may differ. Errors as `sr_create_alias()`, with
 * `SR_NOT_FOUND` for an absent alias and `SR_VALIDATION` for a key of
 * another type or usage.
 *
 * # Safety
 * `ks` a live handle; strings NUL-terminated.
 */
sr_result sr_update_alias(const sr_keystore *ks, const char *alias_name, const char *target_key_id);

/**
 * DeleteAlias. Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`,
 * `SR_INVALID_ALIAS_NAME`, `SR_NOT_FOUND`, `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; `alias_name` NUL-terminated.
 */
sr_result sr_delete_alias(const sr_keystore *ks, const char *alias_name);

/**
 * ListAliases: `*out_json` receives `{"Aliases": [{"AliasName",
 * "AliasArn", "TargetKeyId", "CreationDate", "LastUpdatedDate"}, ...],
 * "Truncated", "NextMarker"}`. `key_id`: NULL for all aliases, or only those
 * of that key. `limit` 1–100 or 0 (50); `marker` NULL or the previous `NextMarker`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
 * `SR_VALIDATION`, `SR_INVALID_MARKER`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; strings NULL or NUL-terminated; `out_json` valid for a write.
 */
sr_result sr_list_aliases(const sr_keystore *ks,
                          const char *key_id,
                          uint32_t limit,
                          const char *marker,
                          sr_bytes *out_json);

/**
 * TagResource: adds or replaces `n` tags given as parallel arrays
 * `tag_keys[i]` = `tag_values[i]` (both may be NULL when `n` is 0).
 *
 * Errors: `SR_NULL_PARAMETER` (an array or element), `SR_INVALID_UTF8`,
 * `SR_VALIDATION` (a key not 1 to 128 characters or a value over 256, the
 * KMS `Tag` shape's constraints), `SR_TAG` (an `aws:` key, over 50 tags),
 * `SR_NOT_FOUND`, `SR_KMS_INVALID_STATE`, `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; `key_id` NUL-terminated; when `n > 0` both arrays
 * valid for `n` elements, each a NUL-terminated string.
 */
sr_result sr_tag_resource(const sr_keystore *ks,
                          const char *key_id,
                          const char *const *tag_keys,
                          const char *const *tag_values,
                          size_t n);

/**
 * UntagResource: removes the `n` tags named in `tag_keys` (absent ones are
 * ignored; `tag_keys` may be NULL when `n` is 0).
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (a key
 * not 1 to 128 characters), `SR_NOT_FOUND`, `SR_KMS_INVALID_STATE`,
 * `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; `key_id` NUL-terminated; `tag_keys` valid for `n`
 * NUL-terminated strings.
 */
sr_result sr_untag_resource(const sr_keystore *ks,
                            const char *key_id,
                            const char *const *tag_keys,
                            size_t n);

/**
 * ListResourceTags: `*out_json` receives `{"Tags": [{"TagKey",
 * "TagValue"}, ...], "Truncated", "NextMarker"}`. `limit` 1–50 or 0 (50);
 * `marker` NULL or the previous `NextMarker`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
 * `SR_VALIDATION`, `SR_INVALID_MARKER`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; strings NULL or NUL-terminated as documented; `out_json` valid for a write.
 */
sr_result sr_list_resource_tags(const sr_keystore *ks,
                                const char *key_id,
                                uint32_t limit,
                                const char *marker,
                                sr_bytes *out_json);

/**
 * Creates a new keystore file at `path`, protected by a root key, and
 * returns a handle to it in `*out`.
 *
 * Parameters:
 * - `path`: NUL-terminated file path (bytes, need not be UTF-8). Must not exist.
 * - `root_kind`: one of `SR_ROOT_KEY_BYTES`, `SR_ROOT_KEY_FILE`,
 *   `SR_ROOT_KEY_ENV_VAR`, `SR_ROOT_KEY_PASSPHRASE`; says what the
 *   `root_len` bytes at `root` are (key, path, variable name, passphrase).
 *   The bytes are copied; secret copies are zeroized when no longer needed.
 *   `root_len` is at most `SR_ROOT_MAX_LEN` (4096) bytes, or
 *   `SR_PASSPHRASE_MAX_LEN` (1 MiB) for a passphrase: a longer one is
 *   `SR_VALIDATION` before `root` is read.
 * - `region`, `account`: used in ARNs; NULL for `"local-1"` and
 *   `"000000000000"` (12 digits).
 * - `out`: receives the handle on success; free it with `sr_keystore_free()`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_ALREADY_EXISTS` (path,
 * its audit log or a non-empty leftover `-wal`/`-journal` of an earlier
 * keystore exists), `SR_VALIDATION` (malformed root key, region or
 * account, unknown `root_kind`, `root_len` above its maximum, a missing or
 * unwritable directory), `SR_NOT_FOUND` (unreadable key file),
 * `SR_KMS_INTERNAL` (other I/O failures).
 *
 * # Safety
 * Strings NUL-terminated; `root` valid for `root_len` bytes; `out` valid for a write.
 */
sr_result sr_keystore_create(const char *path,
                             uint32_t root_kind,
                             const uint8_t *root,
                             size_t root_len,
                             const char *region,
                             const char *account,
                             sr_keystore **out);

/**
 * As `sr_keystore_create()`, naming the keystore's administrator: the
 * principal that the default key policy of every key allows `kms:*`, and
 * that handles act for unless `sr_keystore_as_principal()` says otherwise.
 *
 * `admin_principal`: NULL for `arn:aws:iam::<account>:root` (every
 * principal of the account, as the default key policy of AWS KMS), or an
 * IAM ARN such as `arn:aws:iam::111122223333:role/KeyAdmin`. It is stored
 * in the keystore (sealed configuration) and kept by sealed export/import.
 *
 * Errors: as `sr_keystore_create()`; `SR_VALIDATION`, before anything is
 * written, when `admin_principal` is not a principal a call can act as
 * (an IAM user, role or account root ARN, an assumed role or a federated
 * user; not a bare account ID, not a wildcard).
 *
 * # Safety
 * As `sr_keystore_create()`; `admin_principal` NULL or NUL-terminated.
 */
sr_result sr_keystore_create_with_admin(const char *path,
                                        uint32_t root_kind,
                                        const uint8_t *root,
                                        size_t root_len,
                                        const char *region,
                                        const char *account,
                                        const char *admin_principal,
                                        sr_keystore **out);

/**
 * As `sr_keystore_create_with_admin()`, with an external anchor file of
 * the keystore's integrity state (docs/FORMAT.md, "Keystore anchor"):
 * created with the keystore (it must hold no record), moved forward by
 * every write, and checked by every open, verification and write, so a
 * keystore file put back to an earlier state is refused. The keystore is
 * anchored: it opens only with `sr_keystore_open_with_anchor()` and the
 * anchor (or `SR_WITHOUT_ANCHOR`). Keep the anchor on other storage than
 * the keystore.
 *
 * `anchor_path`: NUL-terminated path (bytes), or NULL for none (as
 * `sr_keystore_create_with_admin()`).
 *
 * Errors: as `sr_keystore_create_with_admin()`; `SR_ALREADY_EXISTS` when
 * the anchor holds a record; `SR_VALIDATION` when it is one of the
 * keystore's own files or not a regular file.
 *
 * # Safety
 * As `sr_keystore_create_with_admin()`; `anchor_path` NULL or NUL-terminated.
 */
sr_result sr_keystore_create_with_anchor(const char *path,
                                         uint32_t root_kind,
                                         const uint8_t *root,
                                         size_t root_len,
                                         const char *region,
                                         const char *account,
                                         const char *admin_principal,
                                         const char *anchor_path,
                                         sr_keystore **out);

/**
 * Opens an existing keystore file at `path` and returns a handle in `*out`.
 *
 * Parameters as for `sr_keystore_create()`; for `SR_ROOT_KEY_PASSPHRASE` the
 * keystore must have been created with a passphrase.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND` (no keystore
 * or key file), `SR_ACCESS_DENIED` (the root key does not open this keystore;
 * nothing is modified), `SR_VALIDATION` (`path` is a directory; malformed
 * root key, unknown `root_kind`, `root_len` above its maximum; a
 * passphrase keystore given a root key, whatever it holds, or a passphrase
 * for one made with a key), `SR_KMS_INVALID_STATE` (the keystore is
 * anchored: open it with `sr_keystore_open_with_anchor()`; nothing is
 * written),
 * `SR_KMS_INTERNAL` (not a keystore, or its settings fail authentication,
 * or its audit log is missing while its sealed checkpoint covers records:
 * opened by another name, such as a hard link, or the log deleted; nothing
 * is created).
 *
 * # Safety
 * As `sr_keystore_create()`.
 */
sr_result sr_keystore_open(const char *path,
                           uint32_t root_kind,
                           const uint8_t *root,
                           size_t root_len,
                           sr_keystore **out);

/**
 * As `sr_keystore_open()`, with the keystore's external anchor file
 * (docs/FORMAT.md, "Keystore anchor"): checked on open and by every
 * verification and write (a keystore behind it, put back to an earlier
 * state, is `SR_KMS_INTERNAL`), and moved forward by every write. Opening
 * with an anchor anchors the keystore: later opens need it too.
 *
 * - `anchor_path`: NUL-terminated path (bytes), or NULL for none.
 * - `flags`: 0, or `SR_ANCHOR_INIT` (with `anchor_path`: create a missing
 *   anchor from the keystore as it is, trust on first use; without it a
 *   missing anchor is `SR_KMS_INTERNAL`; it does not re-anchor an
 *   anchored keystore), or `SR_ANCHOR_REINIT` (with `anchor_path`:
 *   re-anchor an anchored keystore whose anchor is lost, audited; see the
 *   flag), or `SR_WITHOUT_ANCHOR` (with `anchor_path` NULL: open an
 *   anchored keystore without its anchor, audited; see the flag).
 *
 * Errors: as `sr_keystore_open()`; `SR_KMS_INVALID_STATE` (the keystore is
 * anchored and neither `anchor_path` nor `SR_WITHOUT_ANCHOR` was given,
 * nothing is read or written past its configuration; or `anchor_path` is
 * not the anchored keystore's anchor: it holds no record and
 * `SR_ANCHOR_REINIT` was not given, or a record of another anchor ID);
 * `SR_KMS_INTERNAL`
 * (the keystore is behind the anchor, or the anchor is missing or fails
 * authentication); `SR_VALIDATION` (unknown flags, `SR_ANCHOR_INIT`
 * without `anchor_path`, `SR_WITHOUT_ANCHOR` with it, an anchor that is one
 * of the keystore's own files or not a regular file).
 *
 * # Safety
 * As `sr_keystore_open()`; `anchor_path` NULL or NUL-terminated.
 */
sr_result sr_keystore_open_with_anchor(const char *path,
                                       uint32_t root_kind,
                                       const uint8_t *root,
                                       size_t root_len,
                                       const char *anchor_path,
                                       uint32_t flags,
                                       sr_keystore **out);

/**
 * As `sr_keystore_open_with_anchor()`, with the handle acting for
 * `principal` from the start (as `sr_keystore_as_principal()`): the events
 * the open itself records (`AnchorKeystore` with `SR_ANCHOR_INIT`,
 * `ReinitializeKeystoreAnchor`, `OpenKeystoreWithoutAnchor`) are audited as
 * it, not as the keystore's administrator.
 *
 * - `principal`: a principal ARN of the forms `sr_keystore_as_principal()`
 *   takes, or NULL for the administrator (then exactly
 *   `sr_keystore_open_with_anchor()`).
 *
 * Errors: as `sr_keystore_open_with_anchor()`; `SR_INVALID_UTF8`,
 * `SR_VALIDATION` (empty, longer than 256 characters, or not a principal
 * ARN; refused before the keystore is opened, so nothing is written).
 *
 * # Safety
 * As `sr_keystore_open_with_anchor()`; `principal` NULL or NUL-terminated.
 */
sr_result sr_keystore_open_as_principal(const char *path,
                                        uint32_t root_kind,
                                        const uint8_t *root,
                                        size_t root_len,
                                        const char *anchor_path,
                                        uint32_t flags,
                                        const char *principal,
                                        sr_keystore **out);

/**
 * Removes the keystore's anchoring (docs/FORMAT.md, "Anchored
 * keystores"): it then opens without an anchor, and a keystore file put
 * back to an earlier state is no longer detected. The handle must have
 * been opened with the anchor, which is checked again first. Audited as
 * `RemoveKeystoreAnchor`. The anchor file is left in place.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_VALIDATION` (a handle opened without the
 * anchor, or a dry-run handle), `SR_KMS_INTERNAL` (the keystore is behind
 * the anchor; I/O).
 *
 * # Safety
 * `ks` a live handle.
 */
sr_result sr_keystore_remove_anchor(const sr_keystore *ks);

/**
 * Writes the whole keystore as one sealed byte string to `*out_export`
 * (free with `sr_bytes_free()`): the sealed keystore export, format version
 * 2 of `docs/FORMAT.md` ("Sealed keystore export"), the same bytes as
 * `strongroom export-keystore`. It holds the configuration and every key,
 * alias and grant record as stored, key material still sealed under the
 * root key, all authenticated by an HMAC under the root key. Not secret
 * material in itself, but a snapshot as sensitive as the keystore file.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_KMS_INTERNAL` (storage failure, or a
 * stored record fails authentication: a tampered keystore is not exported).
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; `out_export` valid for a write.
 */
sr_result sr_keystore_export_sealed(const sr_keystore *ks, sr_bytes *out_export);

/**
 * Creates a new keystore file at `path` from a sealed export
 * (`sr_keystore_export_sealed()`, `strongroom export-keystore`, or the
 * WebAssembly package's `exportSealed()`; format version 1 or 2) and
 * returns a handle to it in `*out`. The new keystore has the export's
 * keystore ID, region, account, keys, aliases and grants (grant tokens
 * issued before the export keep working) and starts a new audit log beside
 * `path`.
 *
 * Parameters:
 * - `path`: NUL-terminated file path (bytes, need not be UTF-8). Must not exist.
 * - `sealed`/`sealed_len`: the export bytes.
 * - `root_kind`, `root`, `root_len`: as for `sr_keystore_create()`; they
 *   must give the root key the export was sealed under (a passphrase uses
 *   the Argon2id parameters carried in the export).
 * - `out`: receives the handle on success; free it with `sr_keystore_free()`.
 *
 * Every byte is authenticated before anything is written: on any error no
 * file is left at `path`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_ALREADY_EXISTS`
 * (path, its audit log or a non-empty leftover `-wal`/`-journal` exists),
 * `SR_VALIDATION` (not a sealed export, an unsupported
 * format version, malformed root key, unknown `root_kind`, `root_len`
 * above its maximum, a missing or unwritable directory; the export of a passphrase keystore given a root
 * key, or the other way round), `SR_NOT_FOUND`
 * (unreadable key file), `SR_ACCESS_DENIED` (another root key),
 * `SR_KMS_INVALID_STATE` (the export of an anchored keystore: import it
 * with `sr_keystore_import_sealed_with_anchor()`; no file is written),
 * `SR_KMS_INTERNAL` (an altered, truncated or extended export; I/O).
 *
 * # Safety
 * `path` NUL-terminated; `sealed` valid for `sealed_len` bytes; `root`
 * valid for `root_len` bytes; `out` valid for a write.
 */
sr_result sr_keystore_import_sealed(const char *path,
                                    const uint8_t *sealed,
                                    size_t sealed_len,
                                    uint32_t root_kind,
                                    const uint8_t *root,
                                    size_t root_len,
                                    sr_keystore **out);

/**
 * As `sr_keystore_import_sealed()`, with an anchor for the new keystore:
 * `anchor_path` (NUL-terminated, or NULL) names a new anchor file, which
 * must hold no record (the original keystore's is not taken over), created
 * from the imported state; the new keystore is anchored. The export of an
 * anchored keystore is refused without one (`SR_KMS_INVALID_STATE`, before
 * the file is created) unless `flags` is `SR_WITHOUT_ANCHOR`: the new
 * keystore is then still anchored, opened (audited) without its anchor,
 * and its first anchored open must pass `SR_ANCHOR_INIT`. `flags` is 0 or
 * `SR_WITHOUT_ANCHOR` (with `anchor_path` NULL).
 *
 * Errors: as `sr_keystore_import_sealed()`; `SR_KMS_INVALID_STATE`;
 * `SR_ALREADY_EXISTS` (the anchor holds a record); `SR_VALIDATION`
 * (unknown flags, an anchor that is one of the keystore's own files or not
 * a regular file).
 *
 * # Safety
 * As `sr_keystore_import_sealed()`; `anchor_path` NULL or NUL-terminated.
 */
sr_result sr_keystore_import_sealed_with_anchor(const char *path,
                                                const uint8_t *sealed,
                                                size_t sealed_len,
                                                uint32_t root_kind,
                                                const uint8_t *root,
                                                size_t root_len,
                                                const char *anchor_path,
                                                uint32_t flags,
                                                sr_keystore **out);

/**
 * Closes a keystore handle and frees it; the in-memory root key is zeroized.
 *
 * `sr_keystore_free(NULL)` is a no-op. The handle must not be used (by any
 * thread) during or after this call. Never fails.
 *
 * # Safety
 * `ks` must be NULL or a handle from this library that is not yet freed.
 */
void sr_keystore_free(sr_keystore *ks);

/**
 * Copies the keystore's region (as used in ARNs) into `buf` as a
 * NUL-terminated string; `*out_len` receives the size needed including the
 * NUL (on `SR_OK` and `SR_BUFFER_TOO_SMALL`). `buf` may be NULL when `len` is 0.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_BUFFER_TOO_SMALL`.
 *
 * # Safety
 * `ks` a live handle; `buf` valid for `len` bytes; `out_len` valid for a write.
 */
sr_result sr_keystore_region(const sr_keystore *ks, char *buf, size_t len, size_t *out_len);

/**
 * Copies the keystore's 12-digit account ID into `buf`; as `sr_keystore_region()`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_BUFFER_TOO_SMALL`.
 *
 * # Safety
 * As `sr_keystore_region()`.
 */
sr_result sr_keystore_account(const sr_keystore *ks, char *buf, size_t len, size_t *out_len);

/**
 * Deletes the key material of every key whose deletion date has passed and
 * writes how many keys were deleted to `*out_count`. (Keys due for deletion
 * are also purged when next touched; this is the explicit sweep.)
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_KMS_INTERNAL`.
 *
 * # Safety
 * `ks` a live handle; `out_count` valid for a write.
 */
sr_result sr_purge_deleted_keys(const sr_keystore *ks, size_t *out_count);

/**
 * Checks the keystore integrity state: that the key, alias and grant
 * records and the audit checkpoint are exactly those Strongroom last wrote
 * (no row added, deleted or rolled back, alone or with other old rows).
 * `sr_keystore_open()` already does this; call it to re-check a
 * long-lived handle.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_KMS_INTERNAL` (mismatch or I/O).
 *
 * # Safety
 * `ks` a live handle.
 */
sr_result sr_keystore_verify_digest(const sr_keystore *ks);

/**
 * A new handle on the same open keystore that acts for `principal`: every
 * operation through it is authorized (key policy and grants) for, and
 * audited as, that principal. The new handle keeps `ks`'s grant tokens
 * (and dry-run mode, for a handle from `sr_keystore_dry_run()`).
 *
 * Parameters:
 * - `principal`: a principal ARN, 1 to 256 characters: an account
 *   (`"arn:aws:iam::111122223333:root"`), an IAM user or role
 *   (`"arn:aws:iam::111122223333:user/app"`, `"...:role/worker"`), an
 *   assumed role (`"arn:aws:sts::111122223333:assumed-role/role/session"`)
 *   or a federated user (`"arn:aws:sts::111122223333:federated-user/name"`);
 *   no wildcards, no bare account ID. The default key policy allows the
 *   keystore's administrator principal (`sr_keystore_admin_principal()`;
 *   by default `arn:aws:iam::<keystore account>:root`, which covers every
 *   principal of the keystore's account, as KMS's default policy does); a
 *   principal it does not cover (another account's, say) is refused
 *   (`SR_ACCESS_DENIED`) unless a key policy or grant allows it.
 * - `out`: receives the new handle on success; free it with
 *   `sr_keystore_free()`. It shares the open keystore with `ks` (no file is
 *   opened), and `ks` and the new handle may be freed in any order.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (empty,
 * longer than 256 characters, or not a principal ARN of those forms).
 *
 * # Safety
 * `ks` a live handle; `principal` NUL-terminated; `out` valid for a write.
 */
sr_result sr_keystore_as_principal(const sr_keystore *ks, const char *principal, sr_keystore **out);

/**
 * A new handle on the same open keystore with AWS KMS's `DryRun` set on
 * every request: the operations that take `DryRun` in KMS (`sr_encrypt`,
 * `sr_decrypt`, `sr_re_encrypt`, `sr_generate_data_key*`,
 * `sr_generate_data_key_pair*`, `sr_sign`, `sr_verify`, `sr_generate_mac`,
 * `sr_verify_mac`, `sr_derive_shared_secret`, `sr_create_grant`,
 * `sr_retire_grant`, `sr_revoke_grant`)
 * run every check — key, key state, key policy and grants, grant tokens,
 * parameters — and return `SR_DRY_RUN_OPERATION` instead of a result when
 * the request would have succeeded, or the error the real call would
 * return. Nothing changes and no output is written; each call is audited.
 * Other operations on the handle return `SR_VALIDATION` without running.
 * The new handle keeps `ks`'s principal and grant tokens.
 *
 * `out`: receives the new handle; free it with `sr_keystore_free()` (in
 * any order with `ks`).
 *
 * Errors: `SR_NULL_PARAMETER`.
 *
 * # Safety
 * `ks` a live handle; `out` valid for a write.
 */
sr_result sr_keystore_dry_run(const sr_keystore *ks, sr_keystore **out);

/**
 * A new handle on the same open keystore, acting for the same principal as
 * `ks` (and, for a handle from `sr_keystore_dry_run()`, in dry-run mode too), that sends `tokens` as `GrantTokens` with every request that takes
 * them: `sr_encrypt()`, `sr_decrypt()`, `sr_re_encrypt()`,
 * `sr_generate_data_key()` and `_without_plaintext()`,
 * `sr_generate_data_key_pair()` and `_without_plaintext()`, `sr_sign()`,
 * `sr_verify()`, `sr_generate_mac()`, `sr_verify_mac()`,
 * `sr_derive_shared_secret()`, `sr_describe_key()`, `sr_get_public_key()`,
 * `sr_create_grant()`, and the KMS-keyring envelope functions
 * (`sr_envelope_encrypt()`, `sr_envelope_decrypt()` and their `_file`
 * forms, with each `GenerateDataKey` / `Encrypt` / `Decrypt` they make).
 * Each token is authenticated on every such call: a token that was not
 * issued by this keystore fails the call with `SR_INVALID_GRANT_TOKEN`. (A
 * grant takes effect as soon as `sr_create_grant()` returns, so tokens are
 * not needed for a grant to apply; they are accepted for compatibility
 * with KMS code.) The key management calls do not send grant tokens.
 *
 * This is how grant tokens are given from C: the crypto functions keep
 * their signatures. The tokens replace those of `ks`, if any.
 *
 * Parameters:
 * - `tokens`, `n`: up to 10 NUL-terminated grant tokens (as returned by
 *   `sr_create_grant()`); `tokens` may be NULL when `n` is 0, which gives a
 *   handle without tokens. The strings are copied.
 * - `out`: receives the new handle; free it with `sr_keystore_free()`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (more than
 * 10 tokens).
 *
 * # Safety
 * `ks` a live handle; `tokens` valid for `n` NUL-terminated strings; `out`
 * valid for a write.
 */
sr_result sr_keystore_with_grant_tokens(const sr_keystore *ks,
                                        const char *const *tokens,
                                        size_t n,
                                        sr_keystore **out);

/**
 * Copies the keystore's administrator principal (see
 * `sr_keystore_create_with_admin()`) into `buf`; as `sr_keystore_region()`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_BUFFER_TOO_SMALL`.
 *
 * # Safety
 * As `sr_keystore_region()`.
 */
sr_result sr_keystore_admin_principal(const sr_keystore *ks,
                                      char *buf,
                                      size_t len,
                                      size_t *out_len);

/**
 * Copies the principal this handle acts for (the one given to
 * `sr_keystore_as_principal()`, else the keystore's administrator, by
 * default `arn:aws:iam::<account>:root`) into `buf`; as `sr_keystore_region()`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_BUFFER_TOO_SMALL`.
 *
 * # Safety
 * As `sr_keystore_region()`.
 */
sr_result sr_keystore_principal(const sr_keystore *ks, char *buf, size_t len, size_t *out_len);

/**
 * Envelope-encrypts `plaintext` in one call into one AWS Encryption SDK
 * message (format version 2, committing suite), written to `*out_message`
 * (free with `sr_bytes_free()`): a message of the same layout and length
 * as the one `sr_envelope_encrypt()` makes from the same plaintext and
 * arguments (exactly the same length for `0x0478`; for `0x0578` the DER
 * signature's length varies by a few bytes), which `sr_envelope_decrypt()`,
 * the CLI's `decrypt-file`, `sr_envelope_decrypt_message()` and the AWS
 * Encryption SDKs decrypt. The data key is generated and wrapped by the
 * KMS keys `key_ids` as in `sr_envelope_encrypt()` (for the handle's
 * principal, audited, sending the handle's grant tokens).
 *
 * Length of the message, for `p` plaintext bytes and frame length `f`:
 * - the header: 92 bytes, plus the encoded encryption context (0 bytes
 *   when it is empty, else 2 + for each pair 4 + its key's and value's
 *   lengths in UTF-8 bytes; for `0x0578` it also holds the pair
 *   `aws-crypto-public-key` = 68 base64 characters, 93 bytes), plus for
 *   each encrypted data key 6 bytes and the lengths of its provider ID,
 *   provider info and ciphertext (a KMS key: `aws-kms`, its key ARN, and
 *   its `sr_encrypt()` ciphertext blob of the 32-byte data key; a raw AES
 *   key: the namespace, the name plus 20, and 48);
 * - `r = max(p − 1, 0) / f` regular frames (integer division) of `f` + 32
 *   bytes each, and one final frame of `p − r·f` + 40 bytes;
 * - for `0x0578`, a footer of at most 106 bytes (2 + a DER ECDSA P-384
 *   signature of at most 104 bytes, usually 102 to 104).
 *
 * Memory: the plaintext and the message; the message is built in its own
 * allocation of exactly its length plus the trailing NUL (no other copy).
 * For data that does not fit in memory twice use `sr_envelope_encrypt()`.
 *
 * Parameters:
 * - `key_ids`, context arrays, `frame_length` (0 for 4096), `suite_id`
 *   (0 for `0x0578`, or `0x0478`): as for `sr_envelope_encrypt()`.
 * - `plaintext`, `plaintext_len`: the data, any length (NULL with 0 for
 *   none).
 *
 * Errors: as `sr_envelope_encrypt()` (without `SR_IO`): `SR_NULL_PARAMETER`,
 * `SR_INVALID_UTF8`, `SR_VALIDATION` (no key, frame length, suite, a
 * context key starting with `aws-crypto-`, more than 2^32 − 2 frames),
 * `SR_NOT_FOUND`, `SR_DISABLED`, `SR_KMS_INVALID_STATE`,
 * `SR_INVALID_KEY_USAGE`, `SR_ACCESS_DENIED`, `SR_INVALID_GRANT_TOKEN`,
 * `SR_LIMIT_EXCEEDED` (the message does not fit in memory: the
 * allocation failed, the call does not abort), `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; strings NUL-terminated; arrays and `plaintext`
 * valid for their lengths; `out_message` valid for a write.
 */
sr_result sr_envelope_encrypt_message(const sr_keystore *ks,
                                      const char *const *key_ids,
                                      size_t key_ids_len,
                                      const char *const *ctx_keys,
                                      const char *const *ctx_values,
                                      size_t ctx_len,
                                      uint32_t frame_length,
                                      uint16_t suite_id,
                                      const uint8_t *plaintext,
                                      size_t plaintext_len,
                                      sr_bytes *out_message);

/**
 * As `sr_envelope_encrypt_message()`, writing the message into the
 * caller's buffer `buf` of `len` bytes, where each frame is encrypted in
 * place (no allocation of the message's size).
 *
 * Size: the keys are called first (the data key is generated and wrapped,
 * and audited); then, if `len` is smaller than the message may be, nothing
 * is written to `buf`, `*out_len` receives the length needed and the call
 * returns `SR_BUFFER_TOO_SMALL`. That length is the formula at
 * `sr_envelope_encrypt_message()` with the longest footer (106 bytes):
 * exact for the unsigned suite `0x0478`; for the signed suite `0x0578` an
 * upper bound, usually at most 3 bytes above the message's length (the
 * DER signature is 102 to 104 bytes, now and then fewer), and a buffer of
 * that length always suffices for the same plaintext, keys, context,
 * frame length and suite. A size query (`buf` NULL, `len` 0) therefore
 * costs the keys' calls (for KMS keys a `GenerateDataKey` and an `Encrypt`
 * per further key, audited, the data key then thrown away); it can be
 * skipped by computing that formula. On `SR_OK`, `*out_len` receives the
 * message's length: the message is `buf[0 .. *out_len]`.
 *
 * On any failure, `buf` holds no part of the message: it is untouched,
 * except after a failure during the encryption itself (`SR_KMS_INTERNAL`),
 * when the first bytes of `buf` that the message could use (the length a
 * size query reports) are overwritten with zeros. `buf` must not overlap
 * `plaintext`: that is refused (`SR_VALIDATION` naming `buf`) before any
 * key is used.
 *
 * Errors: as `sr_envelope_encrypt_message()`, `SR_BUFFER_TOO_SMALL`;
 * `SR_VALIDATION` also for `buf` overlapping `plaintext` or `len` above
 * `PTRDIFF_MAX` (both before any key is used); `SR_LIMIT_EXCEEDED` only
 * when the message's length does not fit in `size_t` (32-bit platforms),
 * never for memory, since the message is written into `buf`.
 *
 * # Safety
 * As `sr_envelope_encrypt_message()`; `buf` valid for `len` bytes of
 * writes; `out_len` valid for a write.
 */
sr_result sr_envelope_encrypt_message_into(const sr_keystore *ks,
                                           const char *const *key_ids,
                                           size_t key_ids_len,
                                           const char *const *ctx_keys,
                                           const char *const *ctx_values,
                                           size_t ctx_len,
                                           uint32_t frame_length,
                                           uint16_t suite_id,
                                           const uint8_t *plaintext,
                                           size_t plaintext_len,
                                           uint8_t *buf,
                                           size_t len,
                                           size_t *out_len);

/**
 * Decrypts one whole AWS Encryption SDK message in memory in one call
 * (made by `sr_envelope_encrypt_message()`, `sr_envelope_encrypt()`, the
 * CLI's `encrypt-file`, or an AWS Encryption SDK with a KMS keyring naming
 * keys of this keystore) and writes the plaintext to `*out_plaintext`
 * (free with `sr_bytes_free()`, which zeroizes it). The data key is
 * unwrapped as in `sr_envelope_decrypt()` (for the handle's principal,
 * audited, sending the handle's grant tokens).
 *
 * Nothing is released before the whole message has authenticated, for
 * every suite: `*out_plaintext` is written only once every frame and, for
 * signed suites, the ECDSA signature have verified (and the message has
 * no trailing bytes). On failure the plaintext decrypted so far is
 * zeroized and its memory freed.
 *
 * Every frame length is read (Strongroom writes up to 256 MiB, other
 * writers up to 2^32 − 1): the max frame buffer of the streaming
 * decryption functions (256 MiB by default; see
 * `sr_envelope_decrypt_options_ex`), which bounds what they buffer, does
 * not apply to a message already in memory.
 *
 * Memory: the message and the plaintext. The plaintext's exact length is
 * read from the message's framing first (regular frames of the header's
 * frame length, the final frame's stated length; the whole message parsed
 * as the decryption parses it, so the length never exceeds the message);
 * the `sr_bytes` is allocated once at that length plus the trailing NUL,
 * and each frame is decrypted in place in it (no other copy of the
 * plaintext). 64 MiB message: 140 MB peak RSS, as for
 * `sr_envelope_encrypt_message()` (it was 207 MB, about three times the
 * message, before this version). The same for `sr_envelope_decrypt_message_into()`
 * with a buffer that holds the plaintext.
 *
 * Parameters:
 * - `key_ids`, `key_ids_len`: as for `sr_envelope_decrypt()` (NULL and 0
 *   for any key of this keystore).
 * - `options`: NULL for the defaults, or the options of
 *   `sr_envelope_decrypt_with_options()`: required encryption context
 *   pairs, the encrypted data key limit, the commitment policy, and
 *   `unsigned_only`, which refuses a signed suite (`SR_VALIDATION`) once
 *   the header is read, before any key is unwrapped.
 * - `message`, `message_len`: the whole message.
 *
 * Errors: as `sr_envelope_decrypt_with_options()` (without `SR_IO`):
 * `SR_INVALID_CIPHERTEXT` (anything that does not authenticate or parse,
 * truncation, trailing bytes, no encrypted data key that a usable key
 * unwraps, a required context pair missing or different; detail-free),
 * `SR_VALIDATION` (too many encrypted data keys, a non-committing suite
 * under the default policy, an unknown `commitment_policy`, a signed suite
 * with `unsigned_only`, a header above 4 MiB), `SR_DISABLED`, `SR_KMS_INVALID_STATE`,
 * `SR_ACCESS_DENIED`, `SR_INVALID_GRANT_TOKEN`, `SR_NULL_PARAMETER`,
 * `SR_INVALID_UTF8`, `SR_LIMIT_EXCEEDED` (the plaintext does not fit in
 * memory: an allocation failed, the call does not abort),
 * `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * `ks` a live handle; `key_ids` valid for `key_ids_len` strings;
 * `options` NULL or valid for a read, its arrays valid for
 * `required_ctx_len` strings; `message` valid for `message_len` bytes;
 * `out_plaintext` valid for a write.
 */
sr_result sr_envelope_decrypt_message(const sr_keystore *ks,
                                      const char *const *key_ids,
                                      size_t key_ids_len,
                                      const sr_envelope_decrypt_options *options,
                                      const uint8_t *message,
                                      size_t message_len,
                                      sr_bytes *out_plaintext);

/**
 * As `sr_envelope_decrypt_message()`, writing the plaintext into the
 * caller's buffer `buf` of `len` bytes.
 *
 * Size: the plaintext is always shorter than its message, so a buffer of
 * `message_len` bytes always suffices. A buffer that holds the plaintext
 * (its length is read from the message's framing first) receives it frame
 * by frame, decrypted in place: memory for the message and `buf`, nothing
 * more. With a smaller buffer the message is decrypted into the library's
 * memory first; then nothing is written to `buf`, that plaintext is
 * zeroized, `*out_len` receives its exact length and the call returns
 * `SR_BUFFER_TOO_SMALL` (so a size query, `buf` NULL and `len` 0, costs a
 * whole decryption). On `SR_OK`, `*out_len` receives the plaintext's
 * length: the plaintext is `buf[0 .. *out_len]`.
 *
 * The contents of `buf` are the plaintext only on `SR_OK`, after the whole
 * message has authenticated (signature included). On any failure `buf`
 * holds no plaintext: the bytes this call wrote (the frames that
 * authenticated before the failure, and the one that did not) are
 * overwritten with zeros, and the bytes past the plaintext's length are
 * untouched; `*out_len` is written only on `SR_OK` or
 * `SR_BUFFER_TOO_SMALL`. A message that does not authenticate is reported
 * as such (`SR_INVALID_CIPHERTEXT`) whatever the buffer's size, also to a
 * size query. `buf` must not overlap `message` (no decryption in place):
 * that is refused (`SR_VALIDATION` naming `buf`) before any key is used.
 *
 * Errors: as `sr_envelope_decrypt_message()`, `SR_BUFFER_TOO_SMALL`;
 * `SR_VALIDATION` also for `buf` overlapping `message` or `len` above
 * `PTRDIFF_MAX`.
 *
 * # Safety
 * As `sr_envelope_decrypt_message()`; `buf` valid for `len` bytes of
 * writes; `out_len` valid for a write.
 */
sr_result sr_envelope_decrypt_message_into(const sr_keystore *ks,
                                           const char *const *key_ids,
                                           size_t key_ids_len,
                                           const sr_envelope_decrypt_options *options,
                                           const uint8_t *message,
                                           size_t message_len,
                                           uint8_t *buf,
                                           size_t len,
                                           size_t *out_len);

/**
 * As `sr_envelope_encrypt_message()`, with the data key wrapped by a raw
 * AES keyring (no keystore involved; `key_namespace`, `key_name` and
 * `wrapping_key` as for `sr_envelope_encrypt_raw_aes()`): a message of
 * the layout and length of the one `sr_envelope_encrypt_raw_aes()` makes
 * (a raw AES encrypted data key takes 6 bytes and the lengths of the
 * namespace and the name, plus 68, in the formula at
 * `sr_envelope_encrypt_message()`).
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (key
 * length, names, frame length, suite, context, more than 2^32 − 2
 * frames), `SR_LIMIT_EXCEEDED` (the message does not fit in memory; no
 * abort), `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * Strings NUL-terminated; `wrapping_key` valid for `wrapping_key_len`
 * bytes; context arrays valid for `ctx_len` strings; `plaintext` valid for
 * `plaintext_len` bytes; `out_message` valid for a write.
 */
sr_result sr_envelope_encrypt_message_raw_aes(const char *key_namespace,
                                              const char *key_name,
                                              const uint8_t *wrapping_key,
                                              size_t wrapping_key_len,
                                              const char *const *ctx_keys,
                                              const char *const *ctx_values,
                                              size_t ctx_len,
                                              uint32_t frame_length,
                                              uint16_t suite_id,
                                              const uint8_t *plaintext,
                                              size_t plaintext_len,
                                              sr_bytes *out_message);

/**
 * As `sr_envelope_encrypt_message_into()`, with a raw AES keyring (as
 * `sr_envelope_encrypt_message_raw_aes()`); the size query costs no KMS
 * call here.
 *
 * Errors: as `sr_envelope_encrypt_message_raw_aes()`,
 * `SR_BUFFER_TOO_SMALL`; `SR_VALIDATION` also for `buf` overlapping
 * `plaintext` or `len` above `PTRDIFF_MAX`.
 *
 * # Safety
 * As `sr_envelope_encrypt_message_raw_aes()`; `buf` valid for `len` bytes
 * of writes; `out_len` valid for a write.
 */
sr_result sr_envelope_encrypt_message_raw_aes_into(const char *key_namespace,
                                                   const char *key_name,
                                                   const uint8_t *wrapping_key,
                                                   size_t wrapping_key_len,
                                                   const char *const *ctx_keys,
                                                   const char *const *ctx_values,
                                                   size_t ctx_len,
                                                   uint32_t frame_length,
                                                   uint16_t suite_id,
                                                   const uint8_t *plaintext,
                                                   size_t plaintext_len,
                                                   uint8_t *buf,
                                                   size_t len,
                                                   size_t *out_len);

/**
 * As `sr_envelope_decrypt_message()`, with a raw AES keyring (as
 * `sr_envelope_decrypt_raw_aes()`) and the options of
 * `sr_envelope_decrypt_with_options()` (NULL for the defaults).
 *
 * Errors: `SR_INVALID_CIPHERTEXT` (anything that does not authenticate,
 * wrong keyring, malformed, truncated or followed by other bytes;
 * detail-free), `SR_VALIDATION`, `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`,
 * `SR_LIMIT_EXCEEDED`, `SR_KMS_INTERNAL`.
 *
 * `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
 * with `sr_bytes_free()`, which empties them): one still holding bytes is
 * overwritten on success, not freed, and those bytes leak unwiped.
 *
 * # Safety
 * Strings NUL-terminated; `wrapping_key` valid for `wrapping_key_len`
 * bytes; `options` NULL or valid for a read, its arrays valid for
 * `required_ctx_len` strings; `message` valid for `message_len` bytes;
 * `out_plaintext` valid for a write.
 */
sr_result sr_envelope_decrypt_message_raw_aes(const char *key_namespace,
                                              const char *key_name,
                                              const uint8_t *wrapping_key,
                                              size_t wrapping_key_len,
                                              const sr_envelope_decrypt_options *options,
                                              const uint8_t *message,
                                              size_t message_len,
                                              sr_bytes *out_plaintext);

/**
 * As `sr_envelope_decrypt_message_into()`, with a raw AES keyring (as
 * `sr_envelope_decrypt_message_raw_aes()`).
 *
 * Errors: as `sr_envelope_decrypt_message_raw_aes()`,
 * `SR_BUFFER_TOO_SMALL`; `SR_VALIDATION` also for `buf` overlapping
 * `message` or `len` above `PTRDIFF_MAX`.
 *
 * # Safety
 * As `sr_envelope_decrypt_message_raw_aes()`; `buf` valid for `len` bytes
 * of writes; `out_len` valid for a write.
 */
sr_result sr_envelope_decrypt_message_raw_aes_into(const char *key_namespace,
                                                   const char *key_name,
                                                   const uint8_t *wrapping_key,
                                                   size_t wrapping_key_len,
                                                   const sr_envelope_decrypt_options *options,
                                                   const uint8_t *message,
                                                   size_t message_len,
                                                   uint8_t *buf,
                                                   size_t len,
                                                   size_t *out_len);

/**
 * The name of a result code: the AWS KMS exception name for KMS codes
 * (e.g. `"NotFoundException"` for `SR_NOT_FOUND`), `"OK"`, `"NullParameter"`,
 * `"BufferTooSmall"`, `"InvalidUtf8"`, `"IoError"`, `"Panic"` or
 * `"AuditLogNotIntact"` for the others, and `"Unknown"` for a number that is not an `sr_result`.
 *
 * Ownership: the string is static; never free it. Never fails, never NULL.
 */
const char *sr_result_name(uint32_t code);

/**
 * Copies the message of the last failure on the calling thread (as a
 * NUL-terminated string) into `buf`.
 *
 * Each failing Strongroom call replaces the message; successful calls leave
 * it alone, and this function never changes it. Before any failure the
 * message is empty. Messages never contain key material or plaintext.
 *
 * Parameters: `buf` may be NULL only when `len` is 0 (a size query).
 * `out_len` must not be NULL; it receives the size the message needs
 * including its terminating NUL, on `SR_OK` and on `SR_BUFFER_TOO_SMALL`.
 *
 * Errors: `SR_NULL_PARAMETER`, `SR_BUFFER_TOO_SMALL` (nothing copied).
 *
 * # Safety
 * `buf` must be valid for `len` bytes of writes; `out_len` valid for one write.
 */
sr_result sr_last_error_message(char *buf, size_t len, size_t *out_len);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* STRONGROOM_H */
