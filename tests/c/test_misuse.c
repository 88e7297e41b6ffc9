/* Misuse a C caller can make by mistake, each with its documented error:
 * lengths and counts far beyond a parameter's maximum (refused before the
 * memory is read: the buffers here are 8 bytes), a CreateKey request that is not a
 * JSON object, a file encrypted or decrypted onto itself, and error messages
 * that quote caller bytes holding a NUL. */
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
  test_file_onto_itself(ks, sym, dir);
  test_create_key_json_needs_an_object(ks);
  test_messages_never_hold_a_nul(dir);
  test_one_sr_bytes_for_two_outputs(ks, sym);

  sr_keystore_free(ks);
  remove_temp_dir(dir);
  return finish("test_misuse");
}
