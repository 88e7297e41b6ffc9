/* Misuse a C caller can make by mistake, each with its documented error:
 * lengths and counts far beyond a parameter's maximum (refused before the
 * memory is read: the buffers here are 8 bytes; array counts and root key
 * lengths too), a CreateKey request that is not a JSON object or has a
 * member the request does not have, an audit time range that ends before
 * it starts, a directory opened as a keystore, a file encrypted or
 * decrypted onto itself, and error messages that quote caller bytes
 * holding a NUL. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>

#include "check.h"

static uint8_t ROOT[32] = {42};

/* The last error message, and whether its reported size is strlen + 1
 * (a NUL inside the message would make C read it cut short). */
static int last_message(char *buf, size_t len) {
  size_t n = 0;
  if (sr_last_error_message(buf, len, &n) != SR_OK)
    return 0;
  return n == strlen(buf) + 1;
}

static int read_nothing(void *user, uint8_t *buf, size_t len, size_t *out_read) {
  (void)user, (void)buf, (void)len;
  *out_read = 0;
  return 0;
}

static int write_nothing(void *user, const uint8_t *buf, size_t len) {
  (void)user, (void)buf, (void)len;
  return 0;
}

/* Each length is past the parameter's maximum; `small` holds 8 bytes, so a
 * library that read `len` bytes would fault (or abort allocating them). */
static void test_lengths_beyond_the_kms_maximum(sr_keystore *ks, const char *sym, const char *ec,
                                                 const char *hmac, const char *ecdh,
                                                 const char *ext) {
  uint8_t small[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const size_t huges[] = {SIZE_MAX / 2, (size_t)1 << 40, 1u << 20};
  char msg[512];
  for (size_t i = 0; i < sizeof huges / sizeof huges[0]; i++) {
    size_t huge = huges[i];
    sr_bytes out = SR_BYTES_INIT;
    CHECK_RC(sr_encrypt(ks, sym, small, huge, NULL, NULL, 0, &out), SR_VALIDATION);
    CHECK(last_message(msg, sizeof msg) && strstr(msg, "`plaintext` must be at most 4096 bytes"));
    CHECK_RC(sr_decrypt(ks, small, huge, NULL, NULL, 0, NULL, &out), SR_VALIDATION);
    CHECK(last_message(msg, sizeof msg) && strstr(msg, "`blob` must be at most 6144 bytes"));
    CHECK_RC(sr_re_encrypt(ks, small, huge, NULL, NULL, 0, NULL, sym, NULL, NULL, 0, &out),
             SR_VALIDATION);
    CHECK_RC(sr_sign(ks, ec, small, huge, NULL, "ECDSA_SHA_256", &out), SR_VALIDATION);
    CHECK_RC(sr_verify(ks, ec, small, huge, NULL, small, 8, "ECDSA_SHA_256"), SR_VALIDATION);
    CHECK_RC(sr_verify(ks, ec, small, 8, NULL, small, huge, "ECDSA_SHA_256"), SR_VALIDATION);
    CHECK(last_message(msg, sizeof msg) && strstr(msg, "`signature` must be at most 6144 bytes"));
    CHECK_RC(sr_generate_mac(ks, hmac, small, huge, "HMAC_SHA_256", &out), SR_VALIDATION);
    CHECK_RC(sr_verify_mac(ks, hmac, small, huge, "HMAC_SHA_256", small, 8), SR_VALIDATION);
    CHECK_RC(sr_verify_mac(ks, hmac, small, 8, "HMAC_SHA_256", small, huge), SR_VALIDATION);
    CHECK_RC(sr_derive_shared_secret(ks, ecdh, "ECDH", small, huge, &out), SR_VALIDATION);
    CHECK(last_message(msg, sizeof msg) && strstr(msg, "`public_key` must be at most 8192 bytes"));
    CHECK_RC(sr_import_key_material(ks, ext, small, huge, small, 8, 0), SR_VALIDATION);
    CHECK_RC(sr_import_key_material(ks, ext, small, 8, small, huge, 0), SR_VALIDATION);
    CHECK_RC(sr_envelope_encrypt_raw_aes("ns", "name", small, huge, NULL, NULL, 0, 0, 0,
                                         read_nothing, NULL, write_nothing, NULL),
             SR_VALIDATION);
    CHECK_RC(sr_envelope_decrypt_raw_aes("ns", "name", small, huge, NULL, NULL, 0, read_nothing,
                                         NULL, write_nothing, NULL),
             SR_VALIDATION);
    CHECK(out.ptr == NULL && out.len == 0);
  }
  /* A NULL pointer with a non-zero length is still SR_NULL_PARAMETER. */
  sr_bytes out = SR_BYTES_INIT;
  CHECK_RC(sr_encrypt(ks, sym, NULL, SIZE_MAX, NULL, NULL, 0, &out), SR_NULL_PARAMETER);
  CHECK_RC(sr_verify(ks, ec, small, 8, NULL, NULL, 7000, "ECDSA_SHA_256"), SR_NULL_PARAMETER);

  /* At the maximum the call goes through to KMS's own checks. */
  uint8_t *big = calloc(1, 6145);
  if (big == NULL)
    exit(2);
  CHECK_OK(sr_encrypt(ks, sym, big, 4096, NULL, NULL, 0, &out));
  sr_bytes_free(&out);
  CHECK_RC(sr_decrypt(ks, big, 6144, NULL, NULL, 0, NULL, &out), SR_INVALID_CIPHERTEXT);
  CHECK_RC(sr_decrypt(ks, big, 6145, NULL, NULL, 0, NULL, &out), SR_VALIDATION);
  CHECK_RC(sr_verify(ks, ec, small, 8, NULL, big, 6144, "ECDSA_SHA_256"),
           SR_KMS_INVALID_SIGNATURE);
  CHECK_RC(sr_verify_mac(ks, hmac, small, 8, "HMAC_SHA_256", big, 6144), SR_KMS_INVALID_MAC);
  CHECK(out.ptr == NULL);
  free(big);
}

/* Counts with a maximum are checked before the array is read: `one` holds
 * a single pointer. */
static void test_counts_beyond_the_maximum(sr_keystore *ks, const char *sym) {
  const char *one[] = {"x"};
  sr_keystore *h = NULL;
  char msg[512];
  CHECK_RC(sr_keystore_with_grant_tokens(ks, one, (size_t)1 << 40, &h), SR_VALIDATION);
  CHECK(last_message(msg, sizeof msg) && strstr(msg, "at most 10 grant tokens"));
  CHECK(h == NULL);
  char gid[SR_GRANT_ID_LEN], tok[SR_GRANT_TOKEN_LEN];
  size_t gn = 0, tn = 0;
  const char *ops[] = {"Encrypt"};
  CHECK_RC(sr_create_grant(ks, sym, "arn:aws:iam::000000000000:user/u", ops, (size_t)1 << 40,
                           NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, gid, sizeof gid, &gn, tok,
                           sizeof tok, &tn),
           SR_VALIDATION);
  CHECK(last_message(msg, sizeof msg) && strstr(msg, "operations"));
  CHECK(gn == 0 && tn == 0);
}

/* Array counts above SR_MAX_ARRAY_LEN are refused before the array is read
 * (they read past `one` into unmapped memory: SIGSEGV), whatever the array
 * is; at most SR_MAX_ARRAY_LEN, an array is read as it is. */
static void test_array_counts_beyond_the_maximum(sr_keystore *ks, const char *sym) {
  const char *one[] = {"x"};
  const size_t huges[] = {(size_t)1 << 40, SIZE_MAX, SR_MAX_ARRAY_LEN + 1};
  char msg[512], want[128];
  for (size_t i = 0; i < sizeof huges / sizeof huges[0]; i++) {
    size_t huge = huges[i];
    snprintf(want, sizeof want, "must have at most %zu elements; its count is %zu",
             (size_t)SR_MAX_ARRAY_LEN, huge);
    sr_bytes out = SR_BYTES_INIT, blob = SR_BYTES_INIT;
    CHECK_RC(sr_encrypt(ks, sym, (const uint8_t *)"x", 1, one, one, huge, &out), SR_VALIDATION);
    CHECK(last_message(msg, sizeof msg) && strstr(msg, "`ctx_keys`") && strstr(msg, want));
    CHECK_RC(sr_generate_data_key(ks, sym, "AES_256", 0, one, one, huge, &out, &blob),
             SR_VALIDATION);
    CHECK_RC(sr_tag_resource(ks, sym, one, one, huge), SR_VALIDATION);
    CHECK(last_message(msg, sizeof msg) && strstr(msg, "`tag_keys`") && strstr(msg, want));
    CHECK_RC(sr_untag_resource(ks, sym, one, huge), SR_VALIDATION);
    CHECK_RC(sr_envelope_encrypt_message(ks, one, huge, NULL, NULL, 0, 0, 0,
                                         (const uint8_t *)"x", 1, &out),
             SR_VALIDATION);
    CHECK(last_message(msg, sizeof msg) && strstr(msg, "`key_ids`") && strstr(msg, want));
    CHECK_RC(sr_envelope_encrypt_message(ks, &sym, 1, one, one, huge, 0, 0,
                                         (const uint8_t *)"x", 1, &out),
             SR_VALIDATION);
    sr_audit_verification v;
    memset(&v, 0x5a, sizeof v);
    CHECK_RC(sr_verify_audit_log_archives(ks, one, huge, &v), SR_VALIDATION);
    CHECK(last_message(msg, sizeof msg) && strstr(msg, "`archives`") && strstr(msg, want));
    CHECK(out.ptr == NULL && out.len == 0 && blob.ptr == NULL);
  }
}

/* root_len above its kind's maximum is refused before `root` is read (1 << 40
 * aborted the process allocating a copy); at the maximum the key is read. */
static void test_root_lengths_beyond_the_maximum(const char *path, const char *dir) {
  char msg[512];
  sr_keystore *h = NULL;
  sr_audit_verification v;
  const size_t huges[] = {(size_t)1 << 40, SIZE_MAX};
  const uint32_t kinds[] = {SR_ROOT_KEY_BYTES, SR_ROOT_KEY_FILE, SR_ROOT_KEY_ENV_VAR,
                            SR_ROOT_KEY_PASSPHRASE};
  char fresh[700];
  snprintf(fresh, sizeof fresh, "%s/never-created-root.db", dir);
  for (size_t i = 0; i < sizeof huges / sizeof huges[0]; i++) {
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
      CHECK_RC(sr_keystore_open(path, kinds[k], ROOT, huges[i], &h), SR_VALIDATION);
      CHECK(last_message(msg, sizeof msg) && strstr(msg, "`root` must be at most"));
      CHECK_RC(sr_keystore_create(fresh, kinds[k], ROOT, huges[i], NULL, NULL, &h),
               SR_VALIDATION);
      CHECK_RC(sr_verify_audit_log_read_only(path, kinds[k], ROOT, huges[i], NULL, 0, &v),
               SR_VALIDATION);
    }
  }
  /* One past each maximum. */
  CHECK_RC(sr_keystore_open(path, SR_ROOT_KEY_BYTES, ROOT, SR_ROOT_MAX_LEN + 1, &h),
           SR_VALIDATION);
  CHECK(last_message(msg, sizeof msg) && strstr(msg, "`root` must be at most 4096 bytes"));
  CHECK_RC(sr_keystore_open(path, SR_ROOT_KEY_PASSPHRASE, ROOT, SR_PASSPHRASE_MAX_LEN + 1, &h),
           SR_VALIDATION);
  CHECK(last_message(msg, sizeof msg) && strstr(msg, "`root` must be at most 1048576 bytes"));
  /* An unknown kind is named before the length is looked at. */
  CHECK_RC(sr_keystore_open(path, 99, ROOT, (size_t)1 << 40, &h), SR_VALIDATION);
  CHECK(last_message(msg, sizeof msg) && strstr(msg, "root key kind 99"));
  CHECK(h == NULL);
  CHECK(access(fresh, F_OK) != 0);
  /* SR_ROOT_MAX_LEN bytes: the key's hex text after 4032 spaces opens it. */
  char *text = malloc(SR_ROOT_MAX_LEN);
  if (text == NULL)
    exit(2);
  memset(text, ' ', SR_ROOT_MAX_LEN);
  for (size_t i = 0; i < sizeof ROOT; i++) {
    char hex[3];
    snprintf(hex, sizeof hex, "%02x", ROOT[i]);
    memcpy(text + SR_ROOT_MAX_LEN - 64 + 2 * i, hex, 2);
  }
  CHECK_OK(sr_keystore_open(path, SR_ROOT_KEY_BYTES, (const uint8_t *)text, SR_ROOT_MAX_LEN, &h));
  sr_keystore_free(h);
  free(text);
}

/* A CreateKey request member the request does not have (misspelt, or of a
 * feature Strongroom lacks) is refused by name; the key would have been
 * made without the spec, usage, policy or tags asked for. */
static void test_create_key_json_refuses_unknown_members(sr_keystore *ks) {
  int before = count_keys(ks);
  sr_bytes out = SR_BYTES_INIT;
  char msg[512];
  const struct {
    const char *json, *member;
  } cases[] = {
      {"{\"Bogus\":1}", "\"Bogus\""},
      {"{\"KeySpec\":\"ECC_NIST_P256\",\"Keyusage\":\"SIGN_VERIFY\"}", "\"Keyusage\""},
      {"{\"keyspec\":\"ECC_NIST_P256\"}", "\"keyspec\""},
      {"{\"Tag\":[{\"TagKey\":\"a\",\"TagValue\":\"b\"}]}", "\"Tag\""},
      {"{\"Policy\":null,\"XksKeyId\":\"k\"}", "\"XksKeyId\""},
      {"{\"Tags\":[{\"TagKey\":\"a\",\"TagValue\":\"b\",\"TagValu\":\"c\"}]}",
       "\"TagValu\" in Tags[0]"},
      /* A NUL in a member's name is quoted escaped. */
      {"{\"Desc\\u0000ription\":\"d\"}", "\"Desc\\0ription\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK_RC(sr_create_key_json(ks, cases[i].json, &out), SR_VALIDATION);
    CHECK(last_message(msg, sizeof msg) && strstr(msg, "unknown member") &&
          strstr(msg, cases[i].member) && strstr(msg, "accepted: "));
    if (strstr(msg, cases[i].member) == NULL)
      fprintf(stderr, "case %zu: %s\n", i, msg);
  }
  CHECK(last_message(msg, sizeof msg) && strstr(msg, "KeyUsage") && strstr(msg, "Tags"));
  CHECK(out.ptr == NULL);
  CHECK(count_keys(ks) == before);
  /* Every member of the request is accepted. */
  CHECK_OK(sr_create_key_json(
      ks,
      "{\"Description\":\"d\",\"KeySpec\":\"ECC_NIST_P256\",\"KeyUsage\":\"SIGN_VERIFY\","
      "\"Origin\":\"AWS_KMS\",\"BypassPolicyLockoutSafetyCheck\":false,\"MultiRegion\":false,"
      "\"Tags\":[{\"TagKey\":\"a\",\"TagValue\":\"b\"}]}",
      &out));
  CHECK(out.ptr != NULL && strstr((const char *)out.ptr, "\"ECC_NIST_P256\"") != NULL &&
        strstr((const char *)out.ptr, "\"SIGN_VERIFY\"") != NULL);
  sr_bytes_free(&out);
  CHECK_OK(sr_create_key_json(ks, "{\"CustomerMasterKeySpec\":\"HMAC_256\",\"KeyUsage\":"
                                  "\"GENERATE_VERIFY_MAC\"}",
                              &out));
  sr_bytes_free(&out);
  CHECK(count_keys(ks) == before + 2);
}

/* A start time after the end time is a range no event falls in: refused
 * (CloudTrail's InvalidTimeRangeException), not an empty list. */
static void test_audit_events_time_range(sr_keystore *ks) {
  sr_bytes out = SR_BYTES_INIT;
  char msg[512];
  CHECK_RC(sr_audit_events(ks, NULL, NULL, NULL, "2024-01-02", "2024-01-01", &out),
           SR_VALIDATION);
  CHECK(last_message(msg, sizeof msg) && strstr(msg, "'2024-01-02' is after the end time"));
  CHECK_RC(sr_audit_events(ks, NULL, NULL, NULL, "2100", "2000-01-01T00:00:00Z", &out),
           SR_VALIDATION);
  CHECK(out.ptr == NULL);
  /* A range that holds every event, and a start inside the end's prefix. */
  CHECK_OK(sr_audit_events(ks, NULL, "CreateKey", NULL, "2000", "2100", &out));
  CHECK(out.ptr != NULL && strstr((const char *)out.ptr, "\"CreateKey\"") != NULL);
  sr_bytes_free(&out);
  CHECK_OK(sr_audit_events(ks, NULL, NULL, NULL, "2000-01-01T10", "2000-01-01", &out));
  CHECK(out.ptr != NULL && strcmp((const char *)out.ptr, "[]") == 0);
  sr_bytes_free(&out);
}

/* A directory given for the keystore file: named, not "disk I/O error". */
static void test_open_a_directory(const char *dir) {
  sr_keystore *h = NULL;
  sr_audit_verification v;
  char msg[512];
  CHECK_RC(sr_keystore_open(dir, SR_ROOT_KEY_BYTES, ROOT, sizeof ROOT, &h), SR_VALIDATION);
  CHECK(last_message(msg, sizeof msg) && strstr(msg, "is a directory") && strstr(msg, dir));
  CHECK_RC(sr_verify_audit_log_read_only(dir, SR_ROOT_KEY_BYTES, ROOT, sizeof ROOT, NULL, 0, &v),
           SR_VALIDATION);
  CHECK(h == NULL);
}

/* The same file as input and output would be replaced by its own output. */
static void test_file_onto_itself(sr_keystore *ks, const char *sym, const char *dir) {
  char in[700], msg[512], back[64] = {0};
  snprintf(in, sizeof in, "%s/in-place.txt", dir);
  FILE *f = fopen(in, "w");
  if (f == NULL || fputs("in place", f) < 0 || fclose(f) != 0)
    exit(2);
  const char *keys[] = {sym};
  CHECK_RC(sr_envelope_encrypt_file(ks, in, in, keys, 1, NULL, NULL, 0, 0, 0), SR_VALIDATION);
  CHECK(last_message(msg, sizeof msg) && strstr(msg, "same file"));
  CHECK_RC(sr_envelope_decrypt_file(ks, in, in, NULL, 0, NULL, NULL, 0, 0), SR_VALIDATION);
  f = fopen(in, "r");
  CHECK(f != NULL && fread(back, 1, sizeof back - 1, f) == 8 && strcmp(back, "in place") == 0);
  if (f != NULL)
    fclose(f);
}

static void test_create_key_json_needs_an_object(sr_keystore *ks) {
  int before = count_keys(ks);
  sr_bytes out = SR_BYTES_INIT;
  char msg[512];
  /* serde reads a struct from an array of its members too: `[]` was a key. */
  CHECK_RC(sr_create_key_json(ks, "[]", &out), SR_VALIDATION);
  CHECK(last_message(msg, sizeof msg) && strstr(msg, "JSON object"));
  CHECK_RC(sr_create_key_json(ks, " [\"description\"]", &out), SR_VALIDATION);
  CHECK_RC(sr_create_key_json(ks, "\"SYMMETRIC_DEFAULT\"", &out), SR_VALIDATION);
  CHECK_RC(sr_create_key_json(ks, "null", &out), SR_VALIDATION);
  CHECK_RC(sr_create_key_json(ks, "", &out), SR_VALIDATION);
  CHECK(out.ptr == NULL);
  CHECK(count_keys(ks) == before);
  CHECK_OK(sr_create_key_json(ks, " \n{}", &out));
  CHECK(out.ptr != NULL && strstr((const char *)out.ptr, "\"KeyMetadata\"") != NULL);
  sr_bytes_free(&out);
  CHECK(count_keys(ks) == before + 1);
}

static void test_messages_never_hold_a_nul(const char *dir) {
  char path[700], msg[512];
  snprintf(path, sizeof path, "%s/never-created.db", dir);
  sr_keystore *ks = NULL;
  /* Root key sources given with a length may hold a NUL; the message quotes them. */
  CHECK_RC(sr_keystore_create(path, SR_ROOT_KEY_ENV_VAR, (const uint8_t *)"SR_NO\0SUCH", 10, NULL,
                              NULL, &ks),
           SR_VALIDATION);
  CHECK(last_message(msg, sizeof msg));
  CHECK(strstr(msg, "SR_NO\\0SUCH") != NULL && strstr(msg, "is not set") != NULL);
  CHECK_RC(sr_keystore_create(path, SR_ROOT_KEY_FILE, (const uint8_t *)"/nonexistent\0/x", 15,
                              NULL, NULL, &ks),
           SR_NOT_FOUND);
  CHECK(last_message(msg, sizeof msg));
  CHECK(strstr(msg, "/nonexistent\\0/x") != NULL);
  CHECK(ks == NULL);
  CHECK(access(path, F_OK) != 0);
}

/* One sr_bytes for two outputs: the second write would overwrite the first
 * (a data key's plaintext by its blob) without zeroizing or freeing it. */
static void test_one_sr_bytes_for_two_outputs(sr_keystore *ks, const char *sym) {
  sr_bytes a = SR_BYTES_INIT, b = SR_BYTES_INIT;
  char msg[512];
  CHECK_RC(sr_generate_data_key(ks, sym, "AES_256", 0, NULL, NULL, 0, &a, &a), SR_VALIDATION);
  CHECK(last_message(msg, sizeof msg) && strstr(msg, "out_plaintext and out_blob"));
  CHECK(a.ptr == NULL && a.len == 0);
  CHECK_RC(sr_generate_data_key_pair(ks, sym, "ECC_NIST_P256", NULL, NULL, 0, &a, &b, &a),
           SR_VALIDATION);
  CHECK(last_message(msg, sizeof msg) && strstr(msg, "out_public_key and out_private_key_blob"));
  CHECK_RC(sr_generate_data_key_pair(ks, sym, "ECC_NIST_P256", NULL, NULL, 0, &a, &b, &b),
           SR_VALIDATION);
  CHECK(last_message(msg, sizeof msg) && strstr(msg, "out_private_key and out_private_key_blob"));
  CHECK_RC(sr_generate_data_key_pair_without_plaintext(ks, sym, "ECC_NIST_P256", NULL, NULL, 0,
                                                       &b, &b),
           SR_VALIDATION);
  CHECK(a.ptr == NULL && b.ptr == NULL);
  /* Distinct outputs still work. */
  CHECK_OK(sr_generate_data_key(ks, sym, "AES_256", 0, NULL, NULL, 0, &a, &b));
  CHECK(a.len == 32 && b.ptr != NULL);
  sr_bytes_free(&a);
  sr_bytes_free(&b);
}

int main(void) {
  char dir[512], path[700];
  make_temp_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/misuse.db", dir);
  sr_keystore *ks = NULL;
  REQUIRE_OK(sr_keystore_create(path, SR_ROOT_KEY_BYTES, ROOT, sizeof ROOT, NULL, NULL, &ks));
  char sym[SR_KEY_ID_LEN], ec[SR_KEY_ID_LEN], hmac[SR_KEY_ID_LEN], ecdh[SR_KEY_ID_LEN];
  char ext[SR_KEY_ID_LEN] = {0};
  size_t n = 0;
  REQUIRE_OK(sr_create_key(ks, NULL, NULL, NULL, sym, sizeof sym, &n));
  REQUIRE_OK(sr_create_key(ks, NULL, "ECC_NIST_P256", "SIGN_VERIFY", ec, sizeof ec, &n));
  REQUIRE_OK(sr_create_key(ks, NULL, "HMAC_256", "GENERATE_VERIFY_MAC", hmac, sizeof hmac, &n));
  REQUIRE_OK(sr_create_key(ks, NULL, "ECC_NIST_P256", "KEY_AGREEMENT", ecdh, sizeof ecdh, &n));
  sr_bytes meta = SR_BYTES_INIT;
  REQUIRE_OK(sr_create_key_json(ks, "{\"Origin\":\"EXTERNAL\"}", &meta));
  const char *id = strstr((const char *)meta.ptr, "\"KeyId\":\"");
  if (id != NULL)
    memcpy(ext, id + 9, SR_KEY_ID_LEN - 1);
  CHECK(strlen(ext) == SR_KEY_ID_LEN - 1);
  sr_bytes_free(&meta);

  test_lengths_beyond_the_kms_maximum(ks, sym, ec, hmac, ecdh, ext);
  test_counts_beyond_the_maximum(ks, sym);
  test_array_counts_beyond_the_maximum(ks, sym);
  test_root_lengths_beyond_the_maximum(path, dir);
  test_create_key_json_refuses_unknown_members(ks);
  test_audit_events_time_range(ks);
  test_open_a_directory(dir);
  test_file_onto_itself(ks, sym, dir);
  test_create_key_json_needs_an_object(ks);
  test_messages_never_hold_a_nul(dir);
  test_one_sr_bytes_for_two_outputs(ks, sym);

  sr_keystore_free(ks);
  remove_temp_dir(dir);
  return finish("test_misuse");
}
