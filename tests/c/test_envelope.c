/* Streaming envelope encryption through read/write callbacks and files,
 * with the KMS keyring (keys of a keystore) and the raw AES keyring: a file
 * larger than any buffer round-trips; wrong keys, contexts, principals,
 * truncation, flipped bits, failing callbacks and bad parameters are
 * refused, and a signed message that fails never reaches the write callback. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

static const uint8_t WRAP[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const char *NS = "strongroom-ctest";
static const char *NAME = "file-key";
static const char *CK[] = {"file", "owner"};
static const char *CV[] = {"data.bin", "alice"};

static int failing_read(void *user, uint8_t *buf, size_t len, size_t *out_read) {
  (void)user, (void)buf, (void)len, (void)out_read;
  return 5;
}

static int lying_read(void *user, uint8_t *buf, size_t len, size_t *out_read) {
  (void)user, (void)buf;
  *out_read = len + 1;
  return 0;
}

static int failing_write(void *user, const uint8_t *buf, size_t len) {
  (void)user, (void)buf, (void)len;
  return 1;
}

static sr_result encrypt_file(const char *in, const char *out, uint32_t frame, uint16_t suite) {
  FILE *fi = fopen(in, "rb"), *fo = fopen(out, "wb");
  sr_result rc = sr_envelope_encrypt_raw_aes(NS, NAME, WRAP, sizeof WRAP, CK, CV, 2, frame, suite, file_read, fi,
                                             file_write, fo);
  fclose(fi);
  fclose(fo);
  return rc;
}

static sr_result decrypt_file(const char *in, const char *out, const uint8_t *key, const char **rk,
                              const char **rv, size_t rn) {
  FILE *fi = fopen(in, "rb"), *fo = fopen(out, "wb");
  sr_result rc = sr_envelope_decrypt_raw_aes(NS, NAME, key, 32, rk, rv, rn, file_read, fi, file_write, fo);
  fclose(fi);
  fclose(fo);
  return rc;
}

static int same_files(const char *a, const char *b) {
  FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
  int same = fa != NULL && fb != NULL;
  while (same) {
    int ca = fgetc(fa), cb = fgetc(fb);
    if (ca != cb)
      same = 0;
    if (ca == EOF || cb == EOF)
      break;
  }
  if (fa)
    fclose(fa);
  if (fb)
    fclose(fb);
  return same;
}

static long file_size(const char *p) {
  FILE *f = fopen(p, "rb");
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  return n;
}

/* Copies `src` to `dst`, keeping `keep` bytes, with byte `flip` (if >= 0) xored. */
static void mutate(const char *src, const char *dst, long keep, long flip) {
  FILE *fi = fopen(src, "rb"), *fo = fopen(dst, "wb");
  for (long i = 0; i < keep; i++) {
    int c = fgetc(fi);
    if (c == EOF)
      break;
    fputc(i == flip ? c ^ 0x20 : c, fo);
  }
  fclose(fi);
  fclose(fo);
}

/* A write callback that counts its calls and bytes, and writes to a file. */
typedef struct {
  FILE *f;
  size_t calls;
  size_t bytes;
} counting_sink;

static int counting_write(void *user, const uint8_t *buf, size_t len) {
  counting_sink *s = user;
  s->calls++;
  s->bytes += len;
  return fwrite(buf, 1, len, s->f) == len ? 0 : -1;
}

static const char *OTHER = "arn:aws:iam::111122223333:user/other";

static sr_result kms_encrypt(sr_keystore *ks, const char **keys, size_t nkeys, const char *in, const char *out,
                             uint32_t frame, uint16_t suite) {
  FILE *fi = fopen(in, "rb"), *fo = fopen(out, "wb");
  sr_result rc = sr_envelope_encrypt(ks, keys, nkeys, CK, CV, 2, frame, suite, file_read, fi, file_write, fo);
  fclose(fi);
  fclose(fo);
  return rc;
}

/* Decrypts `in` to `out`; `*writes` receives the number of write callbacks. */
static sr_result kms_decrypt(sr_keystore *ks, const char **keys, size_t nkeys, const char **rk, const char **rv,
                             size_t rn, uint16_t max_edks, const char *in, const char *out, size_t *writes) {
  FILE *fi = fopen(in, "rb");
  counting_sink sink = {fopen(out, "wb"), 0, 0};
  sr_result rc = sr_envelope_decrypt(ks, keys, nkeys, rk, rv, rn, max_edks, file_read, fi, counting_write, &sink);
  fclose(fi);
  fclose(sink.f);
  if (writes)
    *writes = sink.calls;
  return rc;
}

/* A new keystore `dir`/`name` whose root key is 32 bytes of `fill`. */
static sr_keystore *new_keystore(const char *dir, const char *name, uint8_t fill) {
  char path[600];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  uint8_t root[32];
  memset(root, fill, sizeof root);
  sr_keystore *ks = NULL;
  REQUIRE_OK(sr_keystore_create(path, SR_ROOT_KEY_BYTES, root, sizeof root, NULL, NULL, &ks));
  return ks;
}

/* Eleven EDKs (one key, eleven times): refused by default before any key is
 * unwrapped, read with SR_NO_MAX_ENCRYPTED_DATA_KEYS; ten are within the default. */
static void test_encrypted_data_key_limit(const char *dir, const char *plain) {
  char msg[600], ten[600], out[600];
  snprintf(msg, sizeof msg, "%s/edks11.msg", dir);
  snprintf(ten, sizeof ten, "%s/edks10.msg", dir);
  snprintf(out, sizeof out, "%s/edks.out", dir);
  sr_keystore *ks = new_keystore(dir, "edks.db", 0x3c);
  char k[SR_KEY_ID_LEN];
  size_t n = 0;
  REQUIRE_OK(sr_create_key(ks, "edks", NULL, NULL, k, sizeof k, &n));
  const char *eleven[11];
  for (size_t i = 0; i < 11; i++)
    eleven[i] = k;
  CHECK_OK(kms_encrypt(ks, eleven, 11, plain, msg, 0, 0));
  CHECK_OK(kms_encrypt(ks, eleven, 10, plain, ten, 0, 0));
  size_t writes = 0;

  CHECK(SR_DEFAULT_MAX_ENCRYPTED_DATA_KEYS == 10 && SR_NO_MAX_ENCRYPTED_DATA_KEYS == UINT16_MAX);
  CHECK_RC(kms_decrypt(ks, NULL, 0, NULL, NULL, 0, 0, msg, out, &writes), SR_VALIDATION);
  CHECK(writes == 0);
  char why[512];
  size_t why_len = 0;
  CHECK(sr_last_error_message(why, sizeof why, &why_len) == SR_OK &&
        strstr(why, "the limit on encrypted data keys (10)") != NULL);
  CHECK_RC(kms_decrypt(ks, NULL, 0, NULL, NULL, 0, SR_DEFAULT_MAX_ENCRYPTED_DATA_KEYS, msg, out, &writes),
           SR_VALIDATION);
  CHECK_OK(kms_decrypt(ks, NULL, 0, NULL, NULL, 0, SR_NO_MAX_ENCRYPTED_DATA_KEYS, msg, out, &writes));
  CHECK(same_files(plain, out) && writes > 0);
  CHECK_OK(kms_decrypt(ks, NULL, 0, NULL, NULL, 0, 11, msg, out, NULL));
  CHECK(same_files(plain, out));
  CHECK_OK(kms_decrypt(ks, NULL, 0, NULL, NULL, 0, 0, ten, out, NULL));
  CHECK(same_files(plain, out));

  /* The file functions and the options struct: zero-initialised = the default. */
  remove(out);
  CHECK_RC(sr_envelope_decrypt_file(ks, msg, out, NULL, 0, NULL, NULL, 0, 0), SR_VALIDATION);
  CHECK(access(out, F_OK) != 0);
  CHECK_OK(sr_envelope_decrypt_file(ks, msg, out, NULL, 0, NULL, NULL, 0, SR_NO_MAX_ENCRYPTED_DATA_KEYS));
  CHECK(same_files(plain, out));
  sr_envelope_decrypt_options o = {0};
  CHECK_RC(sr_envelope_decrypt_file_with_options(ks, msg, out, NULL, 0, &o), SR_VALIDATION);
  CHECK_RC(sr_envelope_decrypt_file_with_options(ks, msg, out, NULL, 0, NULL), SR_VALIDATION);
  o.max_encrypted_data_keys = SR_NO_MAX_ENCRYPTED_DATA_KEYS;
  CHECK_OK(sr_envelope_decrypt_file_with_options(ks, msg, out, NULL, 0, &o));
  CHECK(same_files(plain, out));
  sr_keystore_free(ks);
}

/* Decrypts `in` to `out` with the raw AES keyring and `*o` (NULL for the
 * defaults); `*writes` receives the number of write callbacks. */
static sr_result raw_decrypt_ex(const sr_envelope_decrypt_options_ex *o, const char *in, const char *out,
                                size_t *writes) {
  FILE *fi = fopen(in, "rb");
  counting_sink sink = {fopen(out, "wb"), 0, 0};
  sr_result rc = sr_envelope_decrypt_raw_aes_with_options_ex(NS, NAME, WRAP, 32, o, file_read, fi, counting_write,
                                                             &sink);
  fclose(fi);
  fclose(sink.f);
  if (writes)
    *writes = sink.calls;
  return rc;
}

/* Copies message `src` to `dst` with its header's frame length `from`
 * (big-endian, after the content type 2, "framed") replaced by `to`: the
 * header then fails authentication, but the max frame buffer is checked
 * before it. Returns 0 if the field was not found. */
static int set_frame_length(const char *src, const char *dst, uint32_t from, uint32_t to) {
  FILE *f = fopen(src, "rb");
  if (f == NULL)
    return 0;
  static uint8_t buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  const uint8_t want[5] = {2, (uint8_t)(from >> 24), (uint8_t)(from >> 16), (uint8_t)(from >> 8), (uint8_t)from};
  for (size_t i = 0; i + 5 <= n && i < 4096; i++) {
    if (memcmp(buf + i, want, 5) == 0) {
      const uint8_t put[4] = {(uint8_t)(to >> 24), (uint8_t)(to >> 16), (uint8_t)(to >> 8), (uint8_t)to};
      memcpy(buf + i + 1, put, 4);
      FILE *o = fopen(dst, "wb");
      int ok = o != NULL && fwrite(buf, 1, n, o) == n;
      if (o)
        ok = fclose(o) == 0 && ok;
      return ok;
    }
  }
  return 0;
}

/* The max frame buffer of streaming decryption
 * (sr_envelope_decrypt_options_ex): a message whose frames are larger is
 * refused with SR_LIMIT_EXCEEDED naming the limit, before anything is
 * written; raising it decrypts the message; the default stays 256 MiB for
 * every entry point; the range and the struct's size are checked. */
static void test_max_frame_buffer(const char *dir, const char *plain) {
  char msg[600], big[600], out[600];
  snprintf(msg, sizeof msg, "%s/frames.msg", dir);
  snprintf(big, sizeof big, "%s/frames-big.msg", dir);
  snprintf(out, sizeof out, "%s/frames.out", dir);
  const uint32_t frame = 74565; /* 0x00012345: a pattern not found elsewhere in the header */
  CHECK_OK(encrypt_file(plain, msg, frame, 0x0478));
  size_t writes = 99;

  sr_envelope_decrypt_options_ex o = SR_ENVELOPE_DECRYPT_OPTIONS_EX_INIT;
  CHECK(o.struct_size == sizeof o && o.max_frame_buffer == 0 && o.base.max_encrypted_data_keys == 0 &&
        o.base.required_ctx_keys == NULL && o.base.unsigned_only == 0);
  CHECK(SR_DEFAULT_MAX_FRAME_BUFFER == 268435456u);

  /* Below the frame length: refused before any write; at it: decrypted. */
  o.max_frame_buffer = frame - 1;
  CHECK_RC(raw_decrypt_ex(&o, msg, out, &writes), SR_LIMIT_EXCEEDED);
  CHECK(writes == 0 && file_size(out) == 0);
  CHECK(last_message_has("max frame buffer: 74564 bytes") && last_message_has("74565 bytes"));
  CHECK(strcmp(sr_result_name(SR_LIMIT_EXCEEDED), "LimitExceededException") == 0);
  o.max_frame_buffer = frame;
  CHECK_OK(raw_decrypt_ex(&o, msg, out, &writes));
  CHECK(same_files(plain, out) && writes > 0);
  o.max_frame_buffer = 1;
  CHECK_RC(raw_decrypt_ex(&o, msg, out, NULL), SR_LIMIT_EXCEEDED);

  /* The default (0, NULL, and the functions without the option) is 256 MiB:
   * a header declaring 256 MiB + 1 is refused for its frame length, one
   * declaring 256 MiB passes that check (and fails authentication, its
   * header having been edited); raised to 256 MiB + 1, the check passes. */
  CHECK(set_frame_length(msg, big, frame, 268435457u));
  o.max_frame_buffer = 0;
  CHECK_RC(raw_decrypt_ex(&o, big, out, &writes), SR_LIMIT_EXCEEDED);
  CHECK(writes == 0 && last_message_has("max frame buffer: 268435456 bytes"));
  CHECK_RC(raw_decrypt_ex(NULL, big, out, NULL), SR_LIMIT_EXCEEDED);
  CHECK_OK(raw_decrypt_ex(NULL, msg, out, NULL));
  CHECK(same_files(plain, out));
  FILE *fi = fopen(big, "rb"), *fo = fopen(out, "wb");
  CHECK_RC(sr_envelope_decrypt_raw_aes_with_options(NS, NAME, WRAP, 32, NULL, file_read, fi, file_write, fo),
           SR_LIMIT_EXCEEDED);
  rewind(fi);
  CHECK_RC(sr_envelope_decrypt_raw_aes(NS, NAME, WRAP, 32, NULL, NULL, 0, file_read, fi, file_write, fo),
           SR_LIMIT_EXCEEDED);
  fclose(fi);
  fclose(fo);
  o.max_frame_buffer = 268435457u;
  CHECK_RC(raw_decrypt_ex(&o, big, out, &writes), SR_INVALID_CIPHERTEXT);
  CHECK(writes == 0);
  CHECK(set_frame_length(msg, big, frame, 268435456u));
  CHECK_RC(raw_decrypt_ex(NULL, big, out, NULL), SR_INVALID_CIPHERTEXT);

  /* The range: 1 to 2^32 - 1 (0 is the default). */
  o.max_frame_buffer = UINT32_MAX;
  CHECK_OK(raw_decrypt_ex(&o, msg, out, NULL));
  CHECK(same_files(plain, out));
  o.max_frame_buffer = (uint64_t)UINT32_MAX + 1;
  CHECK_RC(raw_decrypt_ex(&o, msg, out, &writes), SR_VALIDATION);
  CHECK(writes == 0 && last_message_has("4294967295") && last_message_has("0 selects the default"));
  o.max_frame_buffer = UINT64_MAX;
  CHECK_RC(raw_decrypt_ex(&o, msg, out, NULL), SR_VALIDATION);
  o.max_frame_buffer = frame;

  /* struct_size: a struct zero-initialised without the macro, or smaller
   * than this library's, is refused; a larger one (a newer header) is read
   * when the options past this library's fields are zero. */
  sr_envelope_decrypt_options_ex zero;
  memset(&zero, 0, sizeof zero);
  CHECK_RC(raw_decrypt_ex(&zero, msg, out, &writes), SR_VALIDATION);
  CHECK(writes == 0 && last_message_has("struct_size 0") && last_message_has("SR_ENVELOPE_DECRYPT_OPTIONS_EX_INIT"));
  o.struct_size = sizeof o - 1;
  CHECK_RC(raw_decrypt_ex(&o, msg, out, NULL), SR_VALIDATION);
  struct {
    sr_envelope_decrypt_options_ex o;
    uint64_t newer;
  } later = {SR_ENVELOPE_DECRYPT_OPTIONS_EX_INIT, 0};
  later.o.struct_size = sizeof later;
  later.o.max_frame_buffer = frame - 1;
  CHECK_RC(raw_decrypt_ex(&later.o, msg, out, NULL), SR_LIMIT_EXCEEDED);
  later.o.max_frame_buffer = frame;
  CHECK_OK(raw_decrypt_ex(&later.o, msg, out, NULL));
  CHECK(same_files(plain, out));
  later.newer = 1;
  CHECK_RC(raw_decrypt_ex(&later.o, msg, out, &writes), SR_VALIDATION);
  CHECK(writes == 0 && last_message_has("newer"));
  later.newer = 0;
  later.o.struct_size = 4097;
  CHECK_RC(raw_decrypt_ex(&later.o, msg, out, NULL), SR_VALIDATION);
  o.struct_size = sizeof o;

  /* The first version's size is part of the ABI (56 bytes on LP64), and a
   * struct at an unaligned address is read as well (bytewise). */
  if (sizeof(void *) == 8) CHECK(sizeof(sr_envelope_decrypt_options_ex) == 56);
  unsigned char unaligned[sizeof o + 1];
  o.max_frame_buffer = frame - 1;
  memcpy(unaligned + 1, &o, sizeof o);
  CHECK_RC(raw_decrypt_ex((const sr_envelope_decrypt_options_ex *)(const void *)(unaligned + 1), msg, out, NULL),
           SR_LIMIT_EXCEEDED);
  o.max_frame_buffer = frame;
  memcpy(unaligned + 1, &o, sizeof o);
  CHECK_OK(raw_decrypt_ex((const sr_envelope_decrypt_options_ex *)(const void *)(unaligned + 1), msg, out, NULL));
  CHECK(same_files(plain, out));

  /* The KMS keyring's streaming and file functions; the base options apply. */
  sr_keystore *ks = new_keystore(dir, "frames.db", 0x5a);
  char k[SR_KEY_ID_LEN];
  size_t n = 0;
  REQUIRE_OK(sr_create_key(ks, "frames", NULL, NULL, k, sizeof k, &n));
  const char *keys[] = {k};
  CHECK_OK(kms_encrypt(ks, keys, 1, plain, msg, frame, 0));
  o.max_frame_buffer = frame - 1;
  fi = fopen(msg, "rb");
  counting_sink sink = {fopen(out, "wb"), 0, 0};
  CHECK_RC(sr_envelope_decrypt_with_options_ex(ks, NULL, 0, &o, file_read, fi, counting_write, &sink),
           SR_LIMIT_EXCEEDED);
  CHECK(sink.calls == 0 && last_message_has("max frame buffer: 74564 bytes"));
  fclose(fi);
  fclose(sink.f);
  o.max_frame_buffer = frame;
  fi = fopen(msg, "rb");
  sink = (counting_sink){fopen(out, "wb"), 0, 0};
  CHECK_OK(sr_envelope_decrypt_with_options_ex(ks, keys, 1, &o, file_read, fi, counting_write, &sink));
  fclose(fi);
  fclose(sink.f);
  CHECK(same_files(plain, out));
  remove(out);
  o.max_frame_buffer = frame - 1;
  CHECK_RC(sr_envelope_decrypt_file_with_options_ex(ks, msg, out, NULL, 0, &o), SR_LIMIT_EXCEEDED);
  CHECK(access(out, F_OK) != 0);
  o.max_frame_buffer = 0;
  CHECK_OK(sr_envelope_decrypt_file_with_options_ex(ks, msg, out, NULL, 0, &o));
  CHECK(same_files(plain, out));
  CHECK_OK(sr_envelope_decrypt_file_with_options_ex(ks, msg, out, NULL, 0, NULL));
  o.base.unsigned_only = 1; /* a signed message */
  CHECK_RC(sr_envelope_decrypt_file_with_options_ex(ks, msg, out, NULL, 0, &o), SR_VALIDATION);
  o.base.unsigned_only = 0;
  o.base.commitment_policy = 9;
  CHECK_RC(sr_envelope_decrypt_file_with_options_ex(ks, msg, out, NULL, 0, &o), SR_VALIDATION);
  CHECK_RC(sr_envelope_decrypt_with_options_ex(NULL, NULL, 0, NULL, file_read, NULL, file_write, NULL),
           SR_NULL_PARAMETER);
  sr_keystore_free(ks);
}

static void test_kms_keyring(const char *dir, const char *plain) {
  char msg[600], out[600], bad[600], msg2[600];
  snprintf(msg, sizeof msg, "%s/kms.msg", dir);
  snprintf(msg2, sizeof msg2, "%s/kms2.msg", dir);
  snprintf(out, sizeof out, "%s/kms.out", dir);
  snprintf(bad, sizeof bad, "%s/kms.bad", dir);
  sr_keystore *ks = new_keystore(dir, "kms.db", 0x5a);
  char k1[SR_KEY_ID_LEN], k2[SR_KEY_ID_LEN], k3[SR_KEY_ID_LEN];
  size_t n = 0;
  REQUIRE_OK(sr_create_key(ks, "generator", NULL, NULL, k1, sizeof k1, &n));
  REQUIRE_OK(sr_create_key(ks, "second", NULL, NULL, k2, sizeof k2, &n));
  REQUIRE_OK(sr_create_key(ks, "unrelated", NULL, NULL, k3, sizeof k3, &n));
  const char *both[] = {k1, k2}, *only2[] = {k2}, *only1[] = {k1}, *only3[] = {k3};
  size_t writes = 0;

  /* Two KMS keys wrap the data key; either decrypts; discovery finds one. */
  CHECK_OK(kms_encrypt(ks, both, 2, plain, msg, 0, 0));
  CHECK(file_size(msg) > file_size(plain));
  CHECK_OK(kms_decrypt(ks, NULL, 0, NULL, NULL, 0, 0, msg, out, &writes));
  CHECK(same_files(plain, out) && writes > 0);
  CHECK_OK(kms_decrypt(ks, only2, 1, NULL, NULL, 0, 0, msg, out, NULL));
  CHECK(same_files(plain, out));
  CHECK_RC(kms_decrypt(ks, only3, 1, NULL, NULL, 0, 0, msg, out, &writes), SR_INVALID_CIPHERTEXT);
  CHECK(writes == 0);
  /* Required context and the encrypted-data-key limit. */
  const char *rk[] = {"owner"}, *rv[] = {"alice"}, *rv_bad[] = {"mallory"};
  CHECK_OK(kms_decrypt(ks, NULL, 0, rk, rv, 1, 2, msg, out, NULL));
  CHECK_RC(kms_decrypt(ks, NULL, 0, rk, rv_bad, 1, 0, msg, out, &writes), SR_INVALID_CIPHERTEXT);
  CHECK(writes == 0);
  CHECK_RC(kms_decrypt(ks, NULL, 0, NULL, NULL, 0, 1, msg, out, &writes), SR_VALIDATION);
  CHECK(writes == 0);
  /* Aliases name keys too; an unsigned suite with small frames. */
  REQUIRE_OK(sr_create_alias(ks, "alias/envelope", k3));
  const char *alias[] = {"alias/envelope"};
  CHECK_OK(kms_encrypt(ks, alias, 1, plain, msg2, 1000, 0x0478));
  CHECK_OK(kms_decrypt(ks, alias, 1, NULL, NULL, 0, 0, msg2, out, &writes));
  CHECK(same_files(plain, out) && writes > 1);

  /* Key state: a disabled key refuses; another key of the message still works. */
  REQUIRE_OK(sr_disable_key(ks, k1));
  CHECK_RC(kms_decrypt(ks, only1, 1, NULL, NULL, 0, 0, msg, out, &writes), SR_DISABLED);
  CHECK(writes == 0);
  CHECK_OK(kms_decrypt(ks, NULL, 0, NULL, NULL, 0, 0, msg, out, NULL));
  CHECK(same_files(plain, out));
  CHECK_RC(kms_encrypt(ks, both, 2, plain, bad, 0, 0), SR_DISABLED);
  REQUIRE_OK(sr_enable_key(ks, k1));

  /* Principals: another account may not use the keys (default key policy). */
  sr_keystore *other = NULL;
  REQUIRE_OK(sr_keystore_as_principal(ks, OTHER, &other));
  sr_result rc = kms_encrypt(other, both, 2, plain, bad, 0, 0);
  CHECK_RC(rc, SR_ACCESS_DENIED);
  CHECK(strcmp(sr_result_name(rc), "AccessDeniedException") == 0);
  CHECK_RC(kms_decrypt(other, NULL, 0, NULL, NULL, 0, 0, msg, out, &writes), SR_ACCESS_DENIED);
  CHECK(writes == 0);

  /* Signed suite: a message that fails never reaches the write callback
   * (the plaintext is staged until the signature verifies). */
  long size = file_size(msg);
  long flips[] = {size - 1, size - 60, size / 2, size - 200};
  for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
    mutate(msg, bad, size, flips[i]);
    writes = 99;
    CHECK_RC(kms_decrypt(ks, NULL, 0, NULL, NULL, 0, 0, bad, out, &writes), SR_INVALID_CIPHERTEXT);
    CHECK(writes == 0 && file_size(out) == 0);
  }
  long cuts[] = {size - 1, size - 104, size / 2};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    mutate(msg, bad, cuts[i], -1);
    writes = 99;
    CHECK_RC(kms_decrypt(ks, NULL, 0, NULL, NULL, 0, 0, bad, out, &writes), SR_INVALID_CIPHERTEXT);
    CHECK(writes == 0 && file_size(out) == 0);
  }
  /* Unsigned suite: frames are released as they authenticate, so a message
   * cut short fails after an authenticated prefix was written. */
  long size2 = file_size(msg2);
  mutate(msg2, bad, size2 / 2, -1);
  CHECK_RC(kms_decrypt(ks, NULL, 0, NULL, NULL, 0, 0, bad, out, &writes), SR_INVALID_CIPHERTEXT);
  CHECK(writes > 0 && file_size(out) < file_size(plain));

  /* Files: the output appears only once everything verified. */
  CHECK_OK(sr_envelope_encrypt_file(ks, plain, msg, both, 2, CK, CV, 2, 0, 0));
  remove(out);
  CHECK_OK(sr_envelope_decrypt_file(ks, msg, out, NULL, 0, rk, rv, 1, 0));
  CHECK(same_files(plain, out));
  mutate(msg, bad, file_size(msg), file_size(msg) - 1);
  remove(out);
  CHECK_RC(sr_envelope_decrypt_file(ks, bad, out, NULL, 0, NULL, NULL, 0, 0), SR_INVALID_CIPHERTEXT);
  CHECK(access(out, F_OK) != 0);
  /* A missing input or output directory is the caller's path: SR_VALIDATION naming it. */
  CHECK_RC(sr_envelope_decrypt_file(ks, "/nonexistent/msg", out, NULL, 0, NULL, NULL, 0, 0), SR_VALIDATION);
  CHECK(last_message_has("/nonexistent/msg"));
  CHECK_RC(sr_envelope_encrypt_file(ks, plain, "/nonexistent/out", both, 2, NULL, NULL, 0, 0, 0), SR_VALIDATION);
  CHECK(last_message_has("/nonexistent/out"));
  CHECK_RC(sr_envelope_decrypt_file(ks, msg, dir, NULL, 0, NULL, NULL, 0, 0), SR_VALIDATION);
  CHECK(last_message_has("is a directory"));
  /* No file of the open keystore is ever an output (writing it would lose
   * every key), also through a symbolic or a hard link. */
  {
    char own[6][600];
    snprintf(own[0], sizeof own[0], "%s/kms.db", dir);
    snprintf(own[1], sizeof own[1], "%s/kms.db-wal", dir);
    snprintf(own[2], sizeof own[2], "%s/kms.db.audit.jsonl", dir);
    snprintf(own[3], sizeof own[3], "%s/kms.key", dir);
    snprintf(own[4], sizeof own[4], "%s/kms-symlink", dir);
    snprintf(own[5], sizeof own[5], "%s/kms-hardlink", dir);
    REQUIRE_OK(symlink(own[0], own[4]) == 0 ? SR_OK : SR_KMS_INTERNAL);
    REQUIRE_OK(link(own[2], own[5]) == 0 ? SR_OK : SR_KMS_INTERNAL);
    long db_size = file_size(own[0]);
    for (int i = 0; i < 6; i++) {
      CHECK_RC(sr_envelope_decrypt_file(ks, msg, own[i], NULL, 0, NULL, NULL, 0, 0), SR_VALIDATION);
      CHECK(last_message_has("writing it would destroy it"));
      CHECK_RC(sr_envelope_encrypt_file(ks, plain, own[i], both, 2, NULL, NULL, 0, 0, 0), SR_VALIDATION);
      CHECK(last_message_has("writing it would destroy it"));
    }
    CHECK(file_size(own[0]) == db_size);
    CHECK(access(own[3], F_OK) != 0);
    unlink(own[4]);
    unlink(own[5]);
  }
  CHECK_RC(sr_envelope_encrypt_file(ks, plain, msg, NULL, 0, NULL, NULL, 0, 0, 0), SR_VALIDATION);
  CHECK_RC(sr_envelope_encrypt_file(ks, NULL, msg, both, 2, NULL, NULL, 0, 0, 0), SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_decrypt_file(ks, msg, NULL, NULL, 0, NULL, NULL, 0, 0), SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_encrypt_file(other, plain, bad, both, 2, NULL, NULL, 0, 0, 0), SR_ACCESS_DENIED);

  /* Parameters and callbacks. */
  FILE *fi = fopen(plain, "rb"), *fo = fopen(out, "wb");
  CHECK_RC(sr_envelope_encrypt(ks, NULL, 0, NULL, NULL, 0, 0, 0, file_read, fi, file_write, fo), SR_VALIDATION);
  CHECK_RC(sr_envelope_encrypt(ks, NULL, 1, NULL, NULL, 0, 0, 0, file_read, fi, file_write, fo), SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_encrypt(NULL, both, 2, NULL, NULL, 0, 0, 0, file_read, fi, file_write, fo), SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_encrypt(ks, both, 2, NULL, NULL, 0, 0, 0x1234, file_read, fi, file_write, fo), SR_VALIDATION);
  CHECK_RC(sr_envelope_encrypt(ks, both, 2, NULL, NULL, 0, 0, 0, NULL, fi, file_write, fo), SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_encrypt(ks, both, 2, NULL, NULL, 0, 0, 0, file_read, fi, NULL, fo), SR_NULL_PARAMETER);
  const char *missing[] = {"alias/missing"};
  CHECK_RC(sr_envelope_encrypt(ks, missing, 1, NULL, NULL, 0, 0, 0, file_read, fi, file_write, fo), SR_NOT_FOUND);
  CHECK_RC(sr_envelope_encrypt(ks, both, 2, NULL, NULL, 0, 0, 0, failing_read, NULL, file_write, fo), SR_IO);
  CHECK_RC(sr_envelope_encrypt(ks, both, 2, NULL, NULL, 0, 0, 0, lying_read, NULL, file_write, fo), SR_IO);
  CHECK_RC(sr_envelope_encrypt(ks, both, 2, NULL, NULL, 0, 0, 0, file_read, fi, failing_write, NULL), SR_IO);
  CHECK_RC(sr_envelope_decrypt(ks, NULL, 0, NULL, NULL, 0, 0, failing_read, NULL, file_write, fo), SR_IO);
  CHECK_RC(sr_envelope_decrypt(NULL, NULL, 0, NULL, NULL, 0, 0, file_read, fi, file_write, fo), SR_NULL_PARAMETER);
  fclose(fi);
  fi = fopen(msg, "rb");
  CHECK_RC(sr_envelope_decrypt(ks, NULL, 0, NULL, NULL, 0, 0, file_read, fi, failing_write, NULL), SR_IO);
  fclose(fi);
  fclose(fo);


  /* Options: unsigned-only refuses the signed message before any output and
   * streams the unsigned one; the file variant refuses without creating out. */
  sr_envelope_decrypt_options uo = {0};
  uo.unsigned_only = 1;
  fi = fopen(msg, "rb");
  counting_sink sink = {fopen(out, "wb"), 0, 0};
  CHECK_RC(sr_envelope_decrypt_with_options(ks, NULL, 0, &uo, file_read, fi, counting_write, &sink), SR_VALIDATION);
  CHECK(sink.calls == 0);
  fclose(fi);
  fclose(sink.f);
  fi = fopen(msg2, "rb");
  sink = (counting_sink){fopen(out, "wb"), 0, 0};
  CHECK_OK(sr_envelope_decrypt_with_options(ks, alias, 1, &uo, file_read, fi, counting_write, &sink));
  CHECK(sink.calls > 1);
  fclose(fi);
  fclose(sink.f);
  CHECK(same_files(plain, out));
  remove(out);
  CHECK_RC(sr_envelope_decrypt_file_with_options(ks, msg, out, NULL, 0, &uo), SR_VALIDATION);
  CHECK(access(out, F_OK) != 0);
  CHECK_OK(sr_envelope_decrypt_file_with_options(ks, msg2, out, NULL, 0, &uo));
  CHECK(same_files(plain, out));
  CHECK_OK(sr_envelope_decrypt_file_with_options(ks, msg, out, NULL, 0, NULL));
  CHECK(same_files(plain, out));
  sr_envelope_decrypt_options req = {0};
  req.required_ctx_keys = rk;
  req.required_ctx_values = rv_bad;
  req.required_ctx_len = 1;
  remove(out);
  CHECK_RC(sr_envelope_decrypt_file_with_options(ks, msg, out, NULL, 0, &req), SR_INVALID_CIPHERTEXT);
  CHECK(access(out, F_OK) != 0);

  /* The header of a KMS message names the keys by ARN; nothing is unwrapped. */
  sr_bytes header = SR_BYTES_INIT;
  fi = fopen(msg, "rb");
  CHECK_OK(sr_envelope_read_header(file_read, fi, &header));
  fclose(fi);
  CHECK(header.ptr && strstr((const char *)header.ptr, "\"AlgorithmSuiteId\":\"0x0578\""));
  CHECK(header.ptr && strstr((const char *)header.ptr, "\"ProviderId\":\"aws-kms\""));
  CHECK(header.ptr && strstr((const char *)header.ptr, k1) && strstr((const char *)header.ptr, k2));
  CHECK(header.ptr && strstr((const char *)header.ptr, "\"owner\":\"alice\""));
  sr_bytes_free(&header);

  sr_keystore_free(other);
  sr_keystore_free(ks);
}

/* Decrypts the fixture `name` (tests/c/fixtures, written by the AWS
 * Encryption SDK for Python) with the raw AES keyring and `o`. */
static sr_result legacy_decrypt(const char *name, const sr_envelope_decrypt_options *o, const char *out,
                                size_t *writes) {
  char in[256];
  snprintf(in, sizeof in, "tests/c/fixtures/%s", name);
  FILE *fi = fopen(in, "rb");
  if (!fi) {
    fprintf(stderr, "cannot open %s (run from the repository root)\n", in);
    return SR_KMS_INTERNAL;
  }
  counting_sink sink = {fopen(out, "wb"), 0, 0};
  sr_result rc = sr_envelope_decrypt_raw_aes_with_options(NS, NAME, WRAP, 32, o, file_read, fi, counting_write, &sink);
  fclose(fi);
  fclose(sink.f);
  if (writes)
    *writes = sink.calls;
  return rc;
}

/* Message format version 1 (no key commitment) from another SDK: only under
 * a commitment policy that allows it; unsigned-only and the other options. */
static void test_legacy_messages(const char *dir) {
  char out[600];
  snprintf(out, sizeof out, "%s/legacy.out", dir);
  const char *expected = "tests/c/fixtures/esdk-legacy.txt";
  size_t writes = 99;
  CHECK_RC(legacy_decrypt("esdk-0178.msg", NULL, out, &writes), SR_VALIDATION);
  CHECK(writes == 0);
  sr_envelope_decrypt_options o = {0};
  CHECK_RC(legacy_decrypt("esdk-0378.msg", &o, out, &writes), SR_VALIDATION);
  CHECK(writes == 0);
  o.commitment_policy = SR_COMMITMENT_POLICY_REQUIRE_ENCRYPT_ALLOW_DECRYPT;
  CHECK_OK(legacy_decrypt("esdk-0178.msg", &o, out, &writes));
  CHECK(same_files(expected, out));
  CHECK_OK(legacy_decrypt("esdk-0378.msg", &o, out, &writes));
  CHECK(same_files(expected, out));
  o.commitment_policy = SR_COMMITMENT_POLICY_FORBID_ENCRYPT_ALLOW_DECRYPT;
  CHECK_OK(legacy_decrypt("esdk-0178.msg", &o, out, &writes));
  CHECK(same_files(expected, out));
  o.commitment_policy = 3;
  CHECK_RC(legacy_decrypt("esdk-0178.msg", &o, out, &writes), SR_VALIDATION);
  CHECK(writes == 0);

  /* Unsigned-only: the 0x0378 message is refused before any plaintext, the
   * 0x0178 one is released as it authenticates, without staging. */
  o.commitment_policy = SR_COMMITMENT_POLICY_REQUIRE_ENCRYPT_ALLOW_DECRYPT;
  o.unsigned_only = 1;
  CHECK_RC(legacy_decrypt("esdk-0378.msg", &o, out, &writes), SR_VALIDATION);
  CHECK(writes == 0);
  CHECK_OK(legacy_decrypt("esdk-0178.msg", &o, out, &writes));
  CHECK(same_files(expected, out) && writes >= 1);

  /* Required context and the encrypted-data-key limit travel in the options. */
  const char *rk[] = {"owner"}, *rv[] = {"alice"}, *rv_bad[] = {"mallory"};
  o.unsigned_only = 0;
  o.required_ctx_keys = rk;
  o.required_ctx_values = rv;
  o.required_ctx_len = 1;
  o.max_encrypted_data_keys = 1;
  CHECK_OK(legacy_decrypt("esdk-0378.msg", &o, out, &writes));
  CHECK(same_files(expected, out));
  o.required_ctx_values = rv_bad;
  CHECK_RC(legacy_decrypt("esdk-0378.msg", &o, out, &writes), SR_INVALID_CIPHERTEXT);
  CHECK(writes == 0);
  o.required_ctx_keys = NULL;
  CHECK_RC(legacy_decrypt("esdk-0378.msg", &o, out, &writes), SR_NULL_PARAMETER);

  /* The header of a version 1 message, read without any key. */
  sr_bytes h = SR_BYTES_INIT;
  FILE *fi = fopen("tests/c/fixtures/esdk-0378.msg", "rb");
  CHECK_OK(sr_envelope_read_header(file_read, fi, &h));
  fclose(fi);
  const char *json = (const char *)h.ptr;
  CHECK(json && strstr(json, "\"AlgorithmSuiteId\":\"0x0378\"") && strstr(json, "\"MessageFormatVersion\":1"));
  CHECK(json && strstr(json, "\"ProviderId\":\"strongroom-ctest\"") && strstr(json, "\"FrameLength\":128"));
  CHECK(json && strlen(json) == h.len);
  sr_bytes_free(&h);
  /* Not a message, a failing callback, NULL arguments. */
  fi = fopen(expected, "rb");
  CHECK_RC(sr_envelope_read_header(file_read, fi, &h), SR_INVALID_CIPHERTEXT);
  fclose(fi);
  CHECK(h.ptr == NULL);
  CHECK_RC(sr_envelope_read_header(failing_read, NULL, &h), SR_IO);
  CHECK_RC(sr_envelope_read_header(NULL, NULL, &h), SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_read_header(file_read, NULL, NULL), SR_NULL_PARAMETER);
}

int main(void) {
  char dir[512], plain[600], msg[600], out[600], bad[600];
  make_temp_dir(dir, sizeof dir);
  snprintf(plain, sizeof plain, "%s/plain", dir);
  snprintf(msg, sizeof msg, "%s/msg", dir);
  snprintf(out, sizeof out, "%s/out", dir);
  snprintf(bad, sizeof bad, "%s/bad", dir);

  /* 300 KiB + 7 bytes: many frames and many read calls, not a multiple of either. */
  FILE *f = fopen(plain, "wb");
  srand(7);
  for (long i = 0; i < 300 * 1024 + 7; i++)
    fputc(rand() & 0xff, f);
  fclose(f);

  /* Default suite (signed), default frames. */
  CHECK_OK(encrypt_file(plain, msg, 0, 0));
  CHECK(file_size(msg) > file_size(plain));
  CHECK_OK(decrypt_file(msg, out, WRAP, NULL, NULL, 0));
  CHECK(same_files(plain, out));
  /* Required context: present pairs pass, a wrong value fails. */
  const char *rk[] = {"owner"};
  const char *rv[] = {"alice"};
  CHECK_OK(decrypt_file(msg, out, WRAP, rk, rv, 1));
  const char *rv_bad[] = {"mallory"};
  sr_result rc = decrypt_file(msg, out, WRAP, rk, rv_bad, 1);
  CHECK(rc != SR_OK && rc != SR_PANIC);

  /* Unsigned suite 0x0478, 1000-byte frames; an empty input. */
  CHECK_OK(encrypt_file(plain, msg, 1000, 0x0478));
  CHECK_OK(decrypt_file(msg, out, WRAP, NULL, NULL, 0));
  CHECK(same_files(plain, out));
  FILE *e = fopen(bad, "wb");
  fclose(e);
  CHECK_OK(encrypt_file(bad, msg, 0, 0));
  CHECK_OK(decrypt_file(msg, out, WRAP, NULL, NULL, 0));
  CHECK(file_size(out) == 0);

  /* Wrong wrapping key, truncation, flipped bits. */
  CHECK_OK(encrypt_file(plain, msg, 0, 0));
  uint8_t wrong[32];
  memset(wrong, 9, sizeof wrong);
  CHECK_RC(decrypt_file(msg, out, wrong, NULL, NULL, 0), SR_INVALID_CIPHERTEXT);
  long size = file_size(msg);
  long cuts[] = {0, 1, 10, 200, size / 2, size - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    mutate(msg, bad, cuts[i], -1);
    CHECK_RC(decrypt_file(bad, out, WRAP, NULL, NULL, 0), SR_INVALID_CIPHERTEXT);
  }
  long flips[] = {0, 5, 60, 300, size / 2, size - 1};
  for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
    mutate(msg, bad, size, flips[i]);
    rc = decrypt_file(bad, out, WRAP, NULL, NULL, 0);
    CHECK(rc == SR_INVALID_CIPHERTEXT || rc == SR_VALIDATION);
  }

  /* Callbacks that fail or lie. */
  FILE *fi = fopen(plain, "rb"), *fo = fopen(out, "wb");
  CHECK_RC(sr_envelope_encrypt_raw_aes(NS, NAME, WRAP, 32, NULL, NULL, 0, 0, 0, failing_read, NULL, file_write, fo),
           SR_IO);
  CHECK_RC(sr_envelope_encrypt_raw_aes(NS, NAME, WRAP, 32, NULL, NULL, 0, 0, 0, lying_read, NULL, file_write, fo),
           SR_IO);
  CHECK_RC(sr_envelope_encrypt_raw_aes(NS, NAME, WRAP, 32, NULL, NULL, 0, 0, 0, file_read, fi, failing_write, NULL),
           SR_IO);
  rewind(fi);
  CHECK_RC(sr_envelope_decrypt_raw_aes(NS, NAME, WRAP, 32, NULL, NULL, 0, failing_read, NULL, file_write, fo), SR_IO);
  fclose(fi);
  fi = fopen(msg, "rb");
  CHECK_RC(sr_envelope_decrypt_raw_aes(NS, NAME, WRAP, 32, NULL, NULL, 0, file_read, fi, failing_write, NULL), SR_IO);

  /* NULL and bad parameters. */
  CHECK_RC(sr_envelope_encrypt_raw_aes(NS, NAME, WRAP, 32, NULL, NULL, 0, 0, 0, NULL, fi, file_write, fo),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_encrypt_raw_aes(NS, NAME, WRAP, 32, NULL, NULL, 0, 0, 0, file_read, fi, NULL, fo),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_encrypt_raw_aes(NULL, NAME, WRAP, 32, NULL, NULL, 0, 0, 0, file_read, fi, file_write, fo),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_encrypt_raw_aes(NS, NULL, WRAP, 32, NULL, NULL, 0, 0, 0, file_read, fi, file_write, fo),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_encrypt_raw_aes(NS, NAME, NULL, 32, NULL, NULL, 0, 0, 0, file_read, fi, file_write, fo),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_encrypt_raw_aes(NS, NAME, WRAP, 20, NULL, NULL, 0, 0, 0, file_read, fi, file_write, fo),
           SR_VALIDATION);
  CHECK_RC(sr_envelope_encrypt_raw_aes("aws-kms", NAME, WRAP, 32, NULL, NULL, 0, 0, 0, file_read, fi, file_write, fo),
           SR_VALIDATION);
  CHECK_RC(sr_envelope_encrypt_raw_aes(NS, NAME, WRAP, 32, NULL, NULL, 0, 0, 0x1234, file_read, fi, file_write, fo),
           SR_VALIDATION);
  CHECK_RC(sr_envelope_encrypt_raw_aes(NS, NAME, WRAP, 32, CK, NULL, 1, 0, 0, file_read, fi, file_write, fo),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_decrypt_raw_aes(NS, NAME, WRAP, 32, NULL, NULL, 0, NULL, fi, file_write, fo),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_decrypt_raw_aes(NS, NAME, WRAP, 32, NULL, NULL, 0, file_read, fi, NULL, fo),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_decrypt_raw_aes(NS, NAME, WRAP, 15, NULL, NULL, 0, file_read, fi, file_write, fo),
           SR_VALIDATION);
  fclose(fi);
  fclose(fo);

  /* Raw AES, signed suite: a tampered message never reaches the write callback. */
  CHECK_OK(encrypt_file(plain, msg, 0, 0));
  size = file_size(msg);
  mutate(msg, bad, size, size - 3);
  fi = fopen(bad, "rb");
  counting_sink sink = {fopen(out, "wb"), 0, 0};
  CHECK_RC(sr_envelope_decrypt_raw_aes(NS, NAME, WRAP, 32, NULL, NULL, 0, file_read, fi, counting_write, &sink),
           SR_INVALID_CIPHERTEXT);
  CHECK(sink.calls == 0);
  fclose(fi);
  fclose(sink.f);

  test_kms_keyring(dir, plain);
  test_encrypted_data_key_limit(dir, plain);
  test_legacy_messages(dir);
  test_max_frame_buffer(dir, plain);

  remove_temp_dir(dir);
  return finish("test_envelope");
}
