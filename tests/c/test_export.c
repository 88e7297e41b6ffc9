/* Sealed keystore export and import from C: sr_keystore_export_sealed() and
 * sr_keystore_import_sealed() round trip (keys, aliases, grants and their
 * tokens), tampered or truncated exports, another root key, bytes that are
 * not an export, an existing target path, NULL parameters. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

static uint8_t ROOT[32];
static char dir[512];

static const char *APP = "arn:aws:iam::000000000000:user/app";
static const char *CTX_K[] = {"tenant"};
static const char *CTX_V[] = {"acme"};

static void target(char *buf, size_t len, const char *name) { snprintf(buf, len, "%s/%s", dir, name); }

static int exists(const char *p) { return access(p, F_OK) == 0; }

int main(void) {
  memset(ROOT, 0x42, sizeof ROOT);
  make_temp_dir(dir, sizeof dir);
  char path[700], copy[700], bad[700];
  target(path, sizeof path, "ks.db");
  target(copy, sizeof copy, "copy.db");
  target(bad, sizeof bad, "bad.db");

  sr_keystore *ks = NULL;
  REQUIRE_OK(sr_keystore_create(path, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, NULL, &ks));
  char key[SR_KEY_ID_LEN];
  size_t n = 0;
  REQUIRE_OK(sr_create_key(ks, "exported", NULL, NULL, key, sizeof key, &n));
  CHECK_OK(sr_create_alias(ks, "alias/exported", key));
  const uint8_t msg[] = "sealed export from C";
  sr_bytes blob = SR_BYTES_INIT;
  REQUIRE_OK(sr_encrypt(ks, key, msg, sizeof msg, CTX_K, CTX_V, 1, &blob));
  const char *ops[] = {"Decrypt"};
  char grant_id[SR_GRANT_ID_LEN], token[SR_GRANT_TOKEN_LEN];
  size_t id_n = 0, token_n = 0;
  REQUIRE_OK(sr_create_grant(ks, key, APP, ops, 1, NULL, "c-export", NULL, NULL, 0, NULL, NULL, 0, grant_id,
                             sizeof grant_id, &id_n, token, sizeof token, &token_n));
  sr_bytes grants_before = SR_BYTES_INIT;
  CHECK_OK(sr_list_grants(ks, key, 0, NULL, NULL, NULL, &grants_before));

  /* Export: NULL checks, then the bytes ("SRKX", version 3). */
  sr_bytes sealed = SR_BYTES_INIT;
  CHECK_RC(sr_keystore_export_sealed(NULL, &sealed), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_export_sealed(ks, NULL), SR_NULL_PARAMETER);
  REQUIRE_OK(sr_keystore_export_sealed(ks, &sealed));
  CHECK(sealed.len > 37 && memcmp(sealed.ptr, "SRKX\x03", 5) == 0);

  /* Import: the copy decrypts, resolves the alias, keeps the grant. */
  sr_keystore *back = NULL;
  REQUIRE_OK(sr_keystore_import_sealed(copy, sealed.ptr, sealed.len, SR_ROOT_KEY_BYTES, ROOT, 32, &back));
  sr_bytes pt = SR_BYTES_INIT;
  CHECK_OK(sr_decrypt(back, blob.ptr, blob.len, CTX_K, CTX_V, 1, NULL, &pt));
  CHECK(pt.len == sizeof msg && memcmp(pt.ptr, msg, sizeof msg) == 0);
  sr_bytes_free(&pt);
  sr_bytes j = SR_BYTES_INIT;
  CHECK_OK(sr_describe_key(back, "alias/exported", &j));
  CHECK(j.ptr != NULL && strstr((const char *)j.ptr, key) != NULL);
  sr_bytes_free(&j);
  sr_bytes grants_after = SR_BYTES_INIT;
  CHECK_OK(sr_list_grants(back, key, 0, NULL, NULL, NULL, &grants_after));
  CHECK(grants_before.len == grants_after.len &&
        memcmp(grants_before.ptr, grants_after.ptr, grants_before.len) == 0);
  CHECK(strstr((const char *)grants_after.ptr, grant_id) != NULL);
  /* The grant token issued before the export works on the copy. */
  sr_keystore *app = NULL, *app_tok = NULL;
  REQUIRE_OK(sr_keystore_as_principal(back, APP, &app));
  const char *tokens[] = {token};
  REQUIRE_OK(sr_keystore_with_grant_tokens(app, tokens, 1, &app_tok));
  CHECK_OK(sr_decrypt(app_tok, blob.ptr, blob.len, CTX_K, CTX_V, 1, NULL, &pt));
  sr_bytes_free(&pt);
  /* Exporting the copy gives the same bytes (rows travel byte for byte). */
  sr_bytes again = SR_BYTES_INIT;
  CHECK_OK(sr_keystore_export_sealed(back, &again));
  CHECK(again.len == sealed.len && memcmp(again.ptr, sealed.ptr, sealed.len) == 0);
  sr_bytes_free(&again);
  sr_keystore_free(app_tok);
  sr_keystore_free(app);
  sr_keystore_free(back);

  /* The target must not exist. */
  sr_keystore *none = NULL;
  CHECK_RC(sr_keystore_import_sealed(copy, sealed.ptr, sealed.len, SR_ROOT_KEY_BYTES, ROOT, 32, &none),
           SR_ALREADY_EXISTS);

  /* Any altered byte is rejected and leaves no file. */
  uint8_t *t = malloc(sealed.len);
  REQUIRE_OK(t == NULL ? SR_KMS_INTERNAL : SR_OK);
  int accepted = 0;
  for (size_t i = 0; i < sealed.len; i++) {
    memcpy(t, sealed.ptr, sealed.len);
    t[i] ^= 0x01;
    sr_result rc = sr_keystore_import_sealed(bad, t, sealed.len, SR_ROOT_KEY_BYTES, ROOT, 32, &none);
    /* Magic bytes: not an export. The version byte: not an export, or
     * (version 3 with a bit flipped is 2) another known version whose MAC
     * then fails. Elsewhere: tampering, or (an altered keystore ID or check
     * value) a root key that does not match. */
    int tampered = rc == SR_KMS_INTERNAL || rc == SR_ACCESS_DENIED;
    int expected = i < 4 ? rc == SR_VALIDATION : i == 4 ? (rc == SR_VALIDATION || tampered) : tampered;
    if (!expected || exists(bad) || none != NULL) {
      accepted++;
      fprintf(stderr, "byte %zu altered: %s\n", i, sr_result_name(rc));
    }
  }
  CHECK(accepted == 0);
  /* Truncated or extended. */
  CHECK_RC(sr_keystore_import_sealed(bad, sealed.ptr, sealed.len - 1, SR_ROOT_KEY_BYTES, ROOT, 32, &none),
           SR_KMS_INTERNAL);
  uint8_t *longer = malloc(sealed.len + 1);
  REQUIRE_OK(longer == NULL ? SR_KMS_INTERNAL : SR_OK);
  memcpy(longer, sealed.ptr, sealed.len);
  longer[sealed.len] = 0;
  CHECK_RC(sr_keystore_import_sealed(bad, longer, sealed.len + 1, SR_ROOT_KEY_BYTES, ROOT, 32, &none),
           SR_KMS_INTERNAL);
  free(longer);
  free(t);
  CHECK(!exists(bad) && none == NULL);

  /* Another root key; bytes that are not an export; bad parameters. */
  uint8_t other[32];
  memset(other, 0x17, sizeof other);
  CHECK_RC(sr_keystore_import_sealed(bad, sealed.ptr, sealed.len, SR_ROOT_KEY_BYTES, other, 32, &none),
           SR_ACCESS_DENIED);
  const uint8_t junk[] = "this is not a sealed keystore export at all";
  CHECK_RC(sr_keystore_import_sealed(bad, junk, sizeof junk, SR_ROOT_KEY_BYTES, ROOT, 32, &none), SR_VALIDATION);
  CHECK_RC(sr_keystore_import_sealed(bad, NULL, 0, SR_ROOT_KEY_BYTES, ROOT, 32, &none), SR_VALIDATION);
  CHECK_RC(sr_keystore_import_sealed(bad, NULL, 10, SR_ROOT_KEY_BYTES, ROOT, 32, &none), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_import_sealed(NULL, sealed.ptr, sealed.len, SR_ROOT_KEY_BYTES, ROOT, 32, &none),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_import_sealed(bad, sealed.ptr, sealed.len, SR_ROOT_KEY_BYTES, ROOT, 32, NULL),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_import_sealed(bad, sealed.ptr, sealed.len, 99, ROOT, 32, &none), SR_VALIDATION);
  CHECK(!exists(bad) && none == NULL);

  sr_bytes_free(&grants_before);
  sr_bytes_free(&grants_after);
  sr_bytes_free(&sealed);
  sr_bytes_free(&blob);
  sr_keystore_free(ks);
  remove_temp_dir(dir);
  return finish("test_export");
}
