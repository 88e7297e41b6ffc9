/* Every function of strongroom.h: its success path and its error paths
 * (NULL pointers, short buffers, wrong key, disabled key, bad blobs, ...). */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

static uint8_t ROOT[32];
static char dir[512];
static char path[600];

static const char *CTX_K[] = {"tenant", "purpose"};
static const char *CTX_V[] = {"acme", "test"};

static void new_key(sr_keystore *ks, char key_id[SR_KEY_ID_LEN]) {
  size_t n = 0;
  REQUIRE_OK(sr_create_key(ks, NULL, NULL, NULL, key_id, SR_KEY_ID_LEN, &n));
}

static int json_has(const sr_bytes *b, const char *needle) {
  return b->ptr != NULL && strstr((const char *)b->ptr, needle) != NULL;
}

static void test_static_functions(void) {
  CHECK(strcmp(sr_version(), STRONGROOM_VERSION) == 0);
  CHECK(STRONGROOM_VERSION_MAJOR == 0 || STRONGROOM_VERSION_MAJOR > 0);
  CHECK(strcmp(sr_result_name(SR_OK), "OK") == 0);
  CHECK(strcmp(sr_result_name(SR_NOT_FOUND), "NotFoundException") == 0);
  CHECK(strcmp(sr_result_name(SR_INVALID_CIPHERTEXT), "InvalidCiphertextException") == 0);
  CHECK(strcmp(sr_result_name(SR_KMS_INVALID_STATE), "KMSInvalidStateException") == 0);
  CHECK(strcmp(sr_result_name(SR_DISABLED), "DisabledException") == 0);
  CHECK(strcmp(sr_result_name(SR_NULL_PARAMETER), "NullParameter") == 0);
  CHECK(strcmp(sr_result_name(SR_BUFFER_TOO_SMALL), "BufferTooSmall") == 0);
  CHECK(strcmp(sr_result_name(SR_PANIC), "Panic") == 0);
  CHECK(strcmp(sr_result_name(424242), "Unknown") == 0);
  /* Stable numbers. */
  CHECK(SR_OK == 0 && SR_NULL_PARAMETER == 1 && SR_BUFFER_TOO_SMALL == 2 && SR_INVALID_UTF8 == 3 &&
        SR_IO == 4 && SR_PANIC == 5 && SR_ACCESS_DENIED == 100 && SR_VALIDATION == 125);

  /* sr_bytes_free / sr_keystore_free accept NULL and empty values. */
  sr_bytes_free(NULL);
  sr_bytes empty = SR_BYTES_INIT;
  sr_bytes_free(&empty);
  sr_bytes_free(&empty);
  CHECK(empty.ptr == NULL && empty.len == 0);
  sr_keystore_free(NULL);
}

static void test_last_error_message(void) {
  /* Produce a known failure, then read its message in every way. */
  CHECK_RC(sr_keystore_open(NULL, SR_ROOT_KEY_BYTES, ROOT, 32, NULL), SR_NULL_PARAMETER);
  size_t need = 0;
  CHECK_RC(sr_last_error_message(NULL, 0, &need), SR_BUFFER_TOO_SMALL);
  CHECK(need > 1);
  char small[4] = {'x', 'x', 'x', 'x'};
  size_t n2 = 0;
  CHECK_RC(sr_last_error_message(small, sizeof small, &n2), SR_BUFFER_TOO_SMALL);
  CHECK(n2 == need);
  CHECK(small[0] == 'x'); /* nothing written on failure */
  char *buf = malloc(need);
  size_t n3 = 0;
  CHECK_OK(sr_last_error_message(buf, need, &n3));
  CHECK(n3 == need && strlen(buf) + 1 == need);
  CHECK(strstr(buf, "out") != NULL); /* names the NULL parameter: `out` */
  free(buf);
  CHECK_RC(sr_last_error_message(NULL, 5, &n3), SR_NULL_PARAMETER);
  CHECK_RC(sr_last_error_message(small, sizeof small, NULL), SR_NULL_PARAMETER);
  /* Reading the message does not replace it with its own failure. */
  char big[256];
  CHECK_OK(sr_last_error_message(big, sizeof big, &n3));
  CHECK(strstr(big, "`out`") != NULL);
}

static void test_keystore_lifecycle(void) {
  sr_keystore *ks = NULL;
  char p2[700];

  /* create: NULL checks, bad root kinds and keys, bad options. */
  CHECK_RC(sr_keystore_create(NULL, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, NULL, &ks), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_create(path, SR_ROOT_KEY_BYTES, NULL, 32, NULL, NULL, &ks), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_create(path, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, NULL, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_create(path, 99, ROOT, 32, NULL, NULL, &ks), SR_VALIDATION);
  CHECK_RC(sr_keystore_create(path, SR_ROOT_KEY_BYTES, ROOT, 31, NULL, NULL, &ks), SR_VALIDATION);
  CHECK_RC(sr_keystore_create(path, SR_ROOT_KEY_BYTES, NULL, 0, NULL, NULL, &ks), SR_VALIDATION);
  CHECK_RC(sr_keystore_create(path, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, "123", &ks), SR_VALIDATION);
  CHECK_RC(sr_keystore_create(path, SR_ROOT_KEY_BYTES, ROOT, 32, "bad region!", NULL, &ks), SR_VALIDATION);
  CHECK_RC(sr_keystore_create(path, SR_ROOT_KEY_BYTES, ROOT, 32, "\xff", NULL, &ks), SR_INVALID_UTF8);
  CHECK(ks == NULL); /* outputs untouched on failure */
  /* A failed create leaves no file behind to block the retry. */
  const char *nofile = "/nonexistent/strongroom/root.key";
  CHECK_RC(sr_keystore_create(path, SR_ROOT_KEY_FILE, (const uint8_t *)nofile, strlen(nofile), NULL, NULL, &ks),
           SR_NOT_FOUND);
  CHECK(access(path, F_OK) != 0);

  /* create with raw bytes, custom region/account. */
  REQUIRE_OK(sr_keystore_create(path, SR_ROOT_KEY_BYTES, ROOT, 32, "eu-test-1", "123456789012", &ks));
  CHECK(ks != NULL);
  char buf[64];
  size_t n = 0;
  CHECK_OK(sr_keystore_region(ks, buf, sizeof buf, &n));
  CHECK(strcmp(buf, "eu-test-1") == 0 && n == 10);
  CHECK_OK(sr_keystore_account(ks, buf, sizeof buf, &n));
  CHECK(strcmp(buf, "123456789012") == 0 && n == 13);
  CHECK_RC(sr_keystore_region(ks, NULL, 0, &n), SR_BUFFER_TOO_SMALL);
  CHECK(n == 10);
  CHECK_RC(sr_keystore_account(ks, buf, 5, &n), SR_BUFFER_TOO_SMALL);
  CHECK(n == 13);
  CHECK_RC(sr_keystore_region(ks, NULL, 10, &n), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_region(ks, buf, sizeof buf, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_region(NULL, buf, sizeof buf, &n), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_account(NULL, buf, sizeof buf, &n), SR_NULL_PARAMETER);
  CHECK_OK(sr_keystore_verify_digest(ks));
  CHECK_RC(sr_keystore_verify_digest(NULL), SR_NULL_PARAMETER);
  sr_keystore_free(ks);
  ks = NULL;

  /* create over an existing file. */
  CHECK_RC(sr_keystore_create(path, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, NULL, &ks), SR_ALREADY_EXISTS);

  /* open: right key, wrong key, missing file, NULLs. */
  REQUIRE_OK(sr_keystore_open(path, SR_ROOT_KEY_BYTES, ROOT, 32, &ks));
  sr_keystore_free(ks);
  ks = NULL;
  uint8_t wrong[32];
  memset(wrong, 0x13, sizeof wrong);
  CHECK_RC(sr_keystore_open(path, SR_ROOT_KEY_BYTES, wrong, 32, &ks), SR_ACCESS_DENIED);
  snprintf(p2, sizeof p2, "%s/nope.db", dir);
  CHECK_RC(sr_keystore_open(p2, SR_ROOT_KEY_BYTES, ROOT, 32, &ks), SR_NOT_FOUND);
  CHECK_RC(sr_keystore_open(NULL, SR_ROOT_KEY_BYTES, ROOT, 32, &ks), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_open(path, SR_ROOT_KEY_BYTES, ROOT, 32, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_open(path, 7, ROOT, 32, &ks), SR_VALIDATION);
  CHECK(ks == NULL);

  /* key file (hex text). */
  char keyfile[700];
  snprintf(keyfile, sizeof keyfile, "%s/root.key", dir);
  FILE *f = fopen(keyfile, "w");
  for (int i = 0; i < 32; i++)
    fprintf(f, "%02x", ROOT[i]);
  fputc('\n', f);
  fclose(f);
  CHECK_OK(sr_keystore_open(path, SR_ROOT_KEY_FILE, (const uint8_t *)keyfile, strlen(keyfile), &ks));
  sr_keystore_free(ks);
  ks = NULL;
  snprintf(p2, sizeof p2, "%s/file.db", dir);
  CHECK_OK(sr_keystore_create(p2, SR_ROOT_KEY_FILE, (const uint8_t *)keyfile, strlen(keyfile), NULL, NULL, &ks));
  sr_keystore_free(ks);
  ks = NULL;
  const char *missing = "/nonexistent/strongroom/root.key";
  CHECK_RC(sr_keystore_open(path, SR_ROOT_KEY_FILE, (const uint8_t *)missing, strlen(missing), &ks), SR_NOT_FOUND);

  /* environment variable (base64 of the same 32 bytes is accepted too; hex here). */
  char hex[65];
  for (int i = 0; i < 32; i++)
    snprintf(hex + 2 * i, 3, "%02x", ROOT[i]);
  setenv("SR_CTEST_ROOT", hex, 1);
  const char *var = "SR_CTEST_ROOT";
  CHECK_OK(sr_keystore_open(path, SR_ROOT_KEY_ENV_VAR, (const uint8_t *)var, strlen(var), &ks));
  sr_keystore_free(ks);
  ks = NULL;
  snprintf(p2, sizeof p2, "%s/env.db", dir);
  CHECK_OK(sr_keystore_create(p2, SR_ROOT_KEY_ENV_VAR, (const uint8_t *)var, strlen(var), NULL, NULL, &ks));
  sr_keystore_free(ks);
  ks = NULL;
  const char *unset = "SR_CTEST_UNSET_VARIABLE";
  CHECK_RC(sr_keystore_open(path, SR_ROOT_KEY_ENV_VAR, (const uint8_t *)unset, strlen(unset), &ks), SR_VALIDATION);
  CHECK_RC(sr_keystore_open(path, SR_ROOT_KEY_ENV_VAR, (const uint8_t *)"\xff", 1, &ks), SR_INVALID_UTF8);

  /* passphrase: create, reopen, wrong passphrase, passphrase on a key-made keystore. */
  snprintf(p2, sizeof p2, "%s/pass.db", dir);
  const char *pw = "correct horse battery staple";
  CHECK_OK(sr_keystore_create(p2, SR_ROOT_KEY_PASSPHRASE, (const uint8_t *)pw, strlen(pw), NULL, NULL, &ks));
  sr_keystore_free(ks);
  ks = NULL;
  CHECK_OK(sr_keystore_open(p2, SR_ROOT_KEY_PASSPHRASE, (const uint8_t *)pw, strlen(pw), &ks));
  sr_keystore_free(ks);
  ks = NULL;
  CHECK_RC(sr_keystore_open(p2, SR_ROOT_KEY_PASSPHRASE, (const uint8_t *)"wrong", 5, &ks), SR_ACCESS_DENIED);
  /* A passphrase keystore given a root key (well formed or not): refused
     as protected by a passphrase, not as a wrong key. */
  CHECK_RC(sr_keystore_open(p2, SR_ROOT_KEY_BYTES, ROOT, 32, &ks), SR_VALIDATION);
  CHECK(last_message_has("protected by a passphrase"));
  CHECK(ks == NULL);
  CHECK_RC(sr_keystore_open(path, SR_ROOT_KEY_PASSPHRASE, (const uint8_t *)pw, strlen(pw), &ks), SR_VALIDATION);
  CHECK(ks == NULL);

  /* not a keystore */
  snprintf(p2, sizeof p2, "%s/garbage.db", dir);
  f = fopen(p2, "w");
  fputs("this is not sqlite", f);
  fclose(f);
  /* Keystore::open documents KMSInternalException for a file that is not
     a keystore (audit F7: the exact code). */
  CHECK_RC(sr_keystore_open(p2, SR_ROOT_KEY_BYTES, ROOT, 32, &ks), SR_KMS_INTERNAL);
  CHECK(ks == NULL);
}

static void test_key_management(sr_keystore *ks) {
  char id[SR_KEY_ID_LEN];
  char small[8] = "unused";
  size_t n = 0;
  sr_bytes j = SR_BYTES_INIT;

  /* CreateKey: short buffer creates nothing and reports the size. */
  int before = count_keys(ks);
  CHECK_RC(sr_create_key(ks, "x", NULL, NULL, small, sizeof small, &n), SR_BUFFER_TOO_SMALL);
  CHECK(n == SR_KEY_ID_LEN);
  CHECK(strcmp(small, "unused") == 0);
  CHECK_RC(sr_create_key(ks, "x", NULL, NULL, NULL, 0, &n), SR_BUFFER_TOO_SMALL);
  CHECK(count_keys(ks) == before);
  CHECK_RC(sr_create_key(ks, NULL, NULL, NULL, NULL, 40, &n), SR_NULL_PARAMETER);
  CHECK_RC(sr_create_key(ks, NULL, NULL, NULL, id, sizeof id, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_create_key(NULL, NULL, NULL, NULL, id, sizeof id, &n), SR_NULL_PARAMETER);
  CHECK_RC(sr_create_key(ks, NULL, "NOT_A_SPEC", NULL, id, sizeof id, &n), SR_VALIDATION);
  CHECK_RC(sr_create_key(ks, NULL, NULL, "NOT_A_USAGE", id, sizeof id, &n), SR_VALIDATION);
  CHECK_RC(sr_create_key(ks, "\xc3\x28", NULL, NULL, id, sizeof id, &n), SR_INVALID_UTF8);
  CHECK(count_keys(ks) == before);
  CHECK_OK(sr_create_key(ks, "orders", "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", id, sizeof id, &n));
  CHECK(n == SR_KEY_ID_LEN && strlen(id) == 36);
  CHECK(count_keys(ks) == before + 1);

  /* CreateKey with the JSON request. */
  CHECK_OK(sr_create_key_json(ks,
                              "{\"Description\":\"tagged\",\"Tags\":[{\"TagKey\":\"team\",\"TagValue\":\"pay\"}]}",
                              &j));
  CHECK(json_has(&j, "\"KeyMetadata\"") && json_has(&j, "\"Description\":\"tagged\""));
  CHECK(j.ptr[j.len] == '\0');
  sr_bytes_free(&j);
  CHECK(j.ptr == NULL && j.len == 0);
  CHECK_RC(sr_create_key_json(ks, "{not json", &j), SR_VALIDATION);
  CHECK_RC(sr_create_key_json(ks, "{\"KeySpec\":\"NOPE\"}", &j), SR_VALIDATION);
  CHECK_RC(sr_create_key_json(ks, NULL, &j), SR_NULL_PARAMETER);
  CHECK_RC(sr_create_key_json(ks, "{}", NULL), SR_NULL_PARAMETER);
  CHECK(j.ptr == NULL);

  /* DescribeKey */
  CHECK_OK(sr_describe_key(ks, id, &j));
  CHECK(json_has(&j, id) && json_has(&j, "\"KeyState\":\"Enabled\"") && json_has(&j, "\"Description\":\"orders\""));
  CHECK(json_has(&j, "arn:aws:kms:"));
  sr_bytes_free(&j);
  CHECK_RC(sr_describe_key(ks, "00000000-0000-0000-0000-000000000000", &j), SR_NOT_FOUND);
  CHECK_RC(sr_describe_key(ks, NULL, &j), SR_NULL_PARAMETER);
  CHECK_RC(sr_describe_key(ks, id, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_describe_key(NULL, id, &j), SR_NULL_PARAMETER);
  CHECK_RC(sr_describe_key(ks, "\xff\xfe", &j), SR_INVALID_UTF8);
  CHECK(j.ptr == NULL);

  /* ListKeys with paging */
  CHECK_OK(sr_list_keys(ks, 1, NULL, &j));
  CHECK(json_has(&j, "\"Truncated\":true") && json_has(&j, "\"NextMarker\""));
  sr_bytes_free(&j);
  CHECK_OK(sr_list_keys(ks, 0, NULL, &j));
  CHECK(json_has(&j, "\"Keys\"") && json_has(&j, id));
  sr_bytes_free(&j);
  CHECK_RC(sr_list_keys(ks, 5000, NULL, &j), SR_VALIDATION);
  CHECK_RC(sr_list_keys(ks, 0, "not-a-marker!", &j), SR_INVALID_MARKER);
  CHECK_RC(sr_list_keys(ks, 0, NULL, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_list_keys(NULL, 0, NULL, &j), SR_NULL_PARAMETER);

  /* UpdateKeyDescription */
  CHECK_OK(sr_update_key_description(ks, id, "renamed"));
  CHECK_OK(sr_describe_key(ks, id, &j));
  CHECK(json_has(&j, "\"Description\":\"renamed\""));
  sr_bytes_free(&j);
  CHECK_RC(sr_update_key_description(ks, id, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_update_key_description(ks, NULL, "x"), SR_NULL_PARAMETER);
  CHECK_RC(sr_update_key_description(NULL, id, "x"), SR_NULL_PARAMETER);
  CHECK_RC(sr_update_key_description(ks, "alias/none", "x"), SR_NOT_FOUND);

  /* Enable/DisableKey */
  CHECK_OK(sr_disable_key(ks, id));
  CHECK_OK(sr_describe_key(ks, id, &j));
  CHECK(json_has(&j, "\"KeyState\":\"Disabled\"") && json_has(&j, "\"Enabled\":false"));
  sr_bytes_free(&j);
  CHECK_OK(sr_enable_key(ks, id));
  CHECK_RC(sr_enable_key(ks, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_disable_key(NULL, id), SR_NULL_PARAMETER);
  CHECK_RC(sr_enable_key(ks, "11111111-1111-1111-1111-111111111111"), SR_NOT_FOUND);
  CHECK_RC(sr_disable_key(ks, "11111111-1111-1111-1111-111111111111"), SR_NOT_FOUND);

  /* Rotation */
  CHECK_OK(sr_get_key_rotation_status(ks, id, &j));
  CHECK(json_has(&j, "\"KeyRotationEnabled\":false"));
  sr_bytes_free(&j);
  CHECK_RC(sr_enable_key_rotation(ks, id, 10), SR_VALIDATION);
  CHECK_OK(sr_enable_key_rotation(ks, id, 90));
  CHECK_OK(sr_get_key_rotation_status(ks, id, &j));
  CHECK(json_has(&j, "\"KeyRotationEnabled\":true") && json_has(&j, "\"RotationPeriodInDays\":90"));
  sr_bytes_free(&j);
  CHECK_OK(sr_enable_key_rotation(ks, id, 0));
  CHECK_OK(sr_disable_key_rotation(ks, id));
  CHECK_OK(sr_rotate_key_on_demand(ks, id));
  CHECK_OK(sr_list_key_rotations(ks, id, 0, NULL, &j));
  CHECK(json_has(&j, "\"RotationType\":\"ON_DEMAND\""));
  sr_bytes_free(&j);
  CHECK_RC(sr_list_key_rotations(ks, id, 0, "bogus!", &j), SR_INVALID_MARKER);
  CHECK_RC(sr_get_key_rotation_status(ks, NULL, &j), SR_NULL_PARAMETER);
  CHECK_RC(sr_get_key_rotation_status(ks, id, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_enable_key_rotation(NULL, id, 0), SR_NULL_PARAMETER);
  CHECK_RC(sr_disable_key_rotation(ks, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_rotate_key_on_demand(ks, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_list_key_rotations(ks, NULL, 0, NULL, &j), SR_NULL_PARAMETER);
  CHECK_RC(sr_list_key_rotations(ks, id, 0, NULL, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_rotate_key_on_demand(ks, "alias/none"), SR_NOT_FOUND);

  /* Aliases */
  char id2[SR_KEY_ID_LEN];
  new_key(ks, id2);
  CHECK_OK(sr_create_alias(ks, "alias/c-orders", id));
  CHECK_RC(sr_create_alias(ks, "alias/c-orders", id), SR_ALREADY_EXISTS);
  CHECK_RC(sr_create_alias(ks, "no-prefix", id), SR_INVALID_ALIAS_NAME);
  CHECK_RC(sr_create_alias(ks, "alias/c-x", "alias/c-orders"), SR_VALIDATION);
  CHECK_RC(sr_create_alias(ks, "alias/c-y", "22222222-2222-2222-2222-222222222222"), SR_NOT_FOUND);
  CHECK_RC(sr_create_alias(ks, NULL, id), SR_NULL_PARAMETER);
  CHECK_RC(sr_create_alias(ks, "alias/c-z", NULL), SR_NULL_PARAMETER);
  CHECK_OK(sr_describe_key(ks, "alias/c-orders", &j));
  CHECK(json_has(&j, id));
  sr_bytes_free(&j);
  CHECK_OK(sr_update_alias(ks, "alias/c-orders", id2));
  CHECK_OK(sr_describe_key(ks, "alias/c-orders", &j));
  CHECK(json_has(&j, id2));
  sr_bytes_free(&j);
  CHECK_RC(sr_update_alias(ks, "alias/c-absent", id2), SR_NOT_FOUND);
  CHECK_RC(sr_update_alias(NULL, "alias/c-orders", id2), SR_NULL_PARAMETER);
  CHECK_OK(sr_list_aliases(ks, NULL, 0, NULL, &j));
  CHECK(json_has(&j, "\"AliasName\":\"alias/c-orders\""));
  sr_bytes_free(&j);
  CHECK_OK(sr_list_aliases(ks, id2, 0, NULL, &j));
  CHECK(json_has(&j, "alias/c-orders"));
  sr_bytes_free(&j);
  CHECK_OK(sr_list_aliases(ks, id, 0, NULL, &j));
  CHECK(!json_has(&j, "alias/c-orders"));
  sr_bytes_free(&j);
  CHECK_RC(sr_list_aliases(ks, NULL, 0, NULL, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_list_aliases(ks, "33333333-3333-3333-3333-333333333333", 0, NULL, &j), SR_NOT_FOUND);
  CHECK_OK(sr_delete_alias(ks, "alias/c-orders"));
  CHECK_RC(sr_delete_alias(ks, "alias/c-orders"), SR_NOT_FOUND);
  CHECK_RC(sr_delete_alias(ks, "c-orders"), SR_INVALID_ALIAS_NAME);
  CHECK_RC(sr_delete_alias(ks, NULL), SR_NULL_PARAMETER);

  /* Tags */
  const char *tk[] = {"team", "env"};
  const char *tv[] = {"payments", "prod"};
  CHECK_OK(sr_tag_resource(ks, id, tk, tv, 2));
  CHECK_OK(sr_tag_resource(ks, id, NULL, NULL, 0));
  CHECK_OK(sr_list_resource_tags(ks, id, 0, NULL, &j));
  CHECK(json_has(&j, "\"TagKey\":\"team\"") && json_has(&j, "\"TagValue\":\"prod\""));
  sr_bytes_free(&j);
  CHECK_OK(sr_list_resource_tags(ks, id, 1, NULL, &j));
  CHECK(json_has(&j, "\"Truncated\":true"));
  sr_bytes_free(&j);
  CHECK_RC(sr_list_resource_tags(ks, id, 51, NULL, &j), SR_VALIDATION);
  CHECK_OK(sr_untag_resource(ks, id, tk, 1));
  CHECK_OK(sr_untag_resource(ks, id, NULL, 0));
  CHECK_OK(sr_list_resource_tags(ks, id, 0, NULL, &j));
  CHECK(!json_has(&j, "\"team\"") && json_has(&j, "\"env\""));
  sr_bytes_free(&j);
  /* Lengths are the KMS Tag shape's constraints (ValidationException, as
     AWS KMS); an "aws:" key has a valid shape and is a TagException. */
  const char *bad_k[] = {""};
  const char *bad_v[] = {"v"};
  CHECK_RC(sr_tag_resource(ks, id, bad_k, bad_v, 1), SR_VALIDATION);
  CHECK_RC(sr_untag_resource(ks, id, bad_k, 1), SR_VALIDATION);
  const char *aws_k[] = {"aws:x"};
  CHECK_RC(sr_tag_resource(ks, id, aws_k, bad_v, 1), SR_TAG);
  const char *null_k[] = {"ok", NULL};
  const char *two_v[] = {"a", "b"};
  CHECK_RC(sr_tag_resource(ks, id, null_k, two_v, 2), SR_NULL_PARAMETER);
  CHECK_RC(sr_tag_resource(ks, id, NULL, tv, 1), SR_NULL_PARAMETER);
  CHECK_RC(sr_tag_resource(ks, id, tk, NULL, 1), SR_NULL_PARAMETER);
  CHECK_RC(sr_untag_resource(ks, id, NULL, 1), SR_NULL_PARAMETER);
  CHECK_RC(sr_untag_resource(ks, id, null_k, 2), SR_NULL_PARAMETER);
  CHECK_RC(sr_list_resource_tags(ks, id, 0, NULL, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_list_resource_tags(ks, "44444444-4444-4444-4444-444444444444", 0, NULL, &j), SR_NOT_FOUND);
  CHECK_RC(sr_tag_resource(NULL, id, tk, tv, 2), SR_NULL_PARAMETER);

  /* Schedule/CancelKeyDeletion */
  CHECK_RC(sr_schedule_key_deletion(ks, id2, 3, &j), SR_VALIDATION);
  CHECK_RC(sr_schedule_key_deletion(ks, id2, 7, NULL), SR_NULL_PARAMETER);
  CHECK_OK(sr_schedule_key_deletion(ks, id2, 7, &j));
  CHECK(json_has(&j, "\"KeyState\":\"PendingDeletion\"") && json_has(&j, "\"PendingWindowInDays\":7"));
  sr_bytes_free(&j);
  CHECK_RC(sr_enable_key(ks, id2), SR_KMS_INVALID_STATE);
  CHECK_RC(sr_schedule_key_deletion(ks, id2, 0, &j), SR_KMS_INVALID_STATE);
  CHECK_OK(sr_cancel_key_deletion(ks, id2));
  CHECK_OK(sr_describe_key(ks, id2, &j));
  CHECK(json_has(&j, "\"KeyState\":\"Disabled\""));
  sr_bytes_free(&j);
  CHECK_RC(sr_cancel_key_deletion(ks, id2), SR_KMS_INVALID_STATE);
  CHECK_RC(sr_cancel_key_deletion(ks, NULL), SR_NULL_PARAMETER);
  CHECK_OK(sr_schedule_key_deletion(ks, id2, 0, &j));
  CHECK(json_has(&j, "\"PendingWindowInDays\":30"));
  sr_bytes_free(&j);

  /* Purge: nothing is due yet. */
  size_t purged = 99;
  CHECK_OK(sr_purge_deleted_keys(ks, &purged));
  CHECK(purged == 0);
  CHECK_RC(sr_purge_deleted_keys(ks, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_purge_deleted_keys(NULL, &purged), SR_NULL_PARAMETER);
}

static void test_crypto(sr_keystore *ks) {
  char a[SR_KEY_ID_LEN], b[SR_KEY_ID_LEN];
  new_key(ks, a);
  new_key(ks, b);
  const uint8_t msg[] = "attack at dawn";
  const size_t msg_len = sizeof msg - 1;
  sr_bytes blob = SR_BYTES_INIT, pt = SR_BYTES_INIT, blob2 = SR_BYTES_INIT;

  /* Encrypt / Decrypt round trip with context (order-independent). */
  REQUIRE_OK(sr_encrypt(ks, a, msg, msg_len, CTX_K, CTX_V, 2, &blob));
  CHECK(blob.len > msg_len);
  CHECK_OK(sr_decrypt(ks, blob.ptr, blob.len, CTX_K, CTX_V, 2, NULL, &pt));
  CHECK(pt.len == msg_len && memcmp(pt.ptr, msg, msg_len) == 0);
  CHECK(pt.ptr[pt.len] == '\0');
  sr_bytes_free(&pt);
  const char *rk[] = {"purpose", "tenant"};
  const char *rv[] = {"test", "acme"};
  CHECK_OK(sr_decrypt(ks, blob.ptr, blob.len, rk, rv, 2, a, &pt));
  sr_bytes_free(&pt);

  /* Decrypt naming the key by alias. */
  CHECK_OK(sr_create_alias(ks, "alias/c-crypto", a));
  CHECK_OK(sr_decrypt(ks, blob.ptr, blob.len, CTX_K, CTX_V, 2, "alias/c-crypto", &pt));
  sr_bytes_free(&pt);

  /* Wrong context, missing context, wrong key. */
  const char *wv[] = {"evil", "test"};
  CHECK_RC(sr_decrypt(ks, blob.ptr, blob.len, CTX_K, wv, 2, NULL, &pt), SR_INVALID_CIPHERTEXT);
  CHECK_RC(sr_decrypt(ks, blob.ptr, blob.len, NULL, NULL, 0, NULL, &pt), SR_INVALID_CIPHERTEXT);
  CHECK_RC(sr_decrypt(ks, blob.ptr, blob.len, CTX_K, CTX_V, 1, NULL, &pt), SR_INVALID_CIPHERTEXT);
  CHECK_RC(sr_decrypt(ks, blob.ptr, blob.len, CTX_K, CTX_V, 2, b, &pt), SR_INCORRECT_KEY);
  CHECK(pt.ptr == NULL);

  /* Bad blobs: every flipped bit, truncation, garbage, empty. */
  uint8_t *copy = malloc(blob.len);
  int all_rejected = 1;
  for (size_t i = 0; i < blob.len; i++) {
    memcpy(copy, blob.ptr, blob.len);
    copy[i] ^= 0x01;
    sr_result rc = sr_decrypt(ks, copy, blob.len, CTX_K, CTX_V, 2, NULL, &pt);
    if (rc == SR_OK || pt.ptr != NULL)
      all_rejected = 0;
  }
  CHECK(all_rejected);
  CHECK_RC(sr_decrypt(ks, blob.ptr, blob.len - 1, CTX_K, CTX_V, 2, NULL, &pt), SR_INVALID_CIPHERTEXT);
  CHECK_RC(sr_decrypt(ks, blob.ptr, 10, CTX_K, CTX_V, 2, NULL, &pt), SR_INVALID_CIPHERTEXT);
  memset(copy, 0xAB, blob.len);
  CHECK_RC(sr_decrypt(ks, copy, blob.len, CTX_K, CTX_V, 2, NULL, &pt), SR_INVALID_CIPHERTEXT);
  /* An empty blob breaks KMS's length constraint (1 to 6144 bytes). */
  CHECK_RC(sr_decrypt(ks, NULL, 0, CTX_K, CTX_V, 2, NULL, &pt), SR_VALIDATION);
  free(copy);
  /* Random inputs of every small length, and every prefix of a real blob:
   * always a clean failure, never a crash (ASan/Valgrind watch the reads). */
  int clean = 1;
  srand(12345);
  for (size_t len = 0; len < 300; len++) {
    uint8_t junk[300];
    for (size_t i = 0; i < len; i++)
      junk[i] = (uint8_t)rand();
    if (len > 0)
      junk[0] = blob.ptr[0]; /* get past the version byte now and then */
    sr_result rc = sr_decrypt(ks, len ? junk : NULL, len, CTX_K, CTX_V, 2, NULL, &pt);
    if (rc == SR_OK || rc == SR_PANIC || pt.ptr != NULL)
      clean = 0;
  }
  for (size_t len = 1; len < blob.len; len++) {
    sr_result rc = sr_decrypt(ks, blob.ptr, len, CTX_K, CTX_V, 2, NULL, &pt);
    if (rc != SR_INVALID_CIPHERTEXT || pt.ptr != NULL)
      clean = 0;
  }
  CHECK(clean);
  /* The message is detail-free. */
  char m[256];
  size_t mn;
  CHECK_OK(sr_last_error_message(m, sizeof m, &mn));
  CHECK(strstr(m, "not valid") != NULL);

  /* NULL pointers and bad context arrays. */
  CHECK_RC(sr_encrypt(NULL, a, msg, msg_len, NULL, NULL, 0, &blob2), SR_NULL_PARAMETER);
  CHECK_RC(sr_encrypt(ks, NULL, msg, msg_len, NULL, NULL, 0, &blob2), SR_NULL_PARAMETER);
  CHECK_RC(sr_encrypt(ks, a, NULL, msg_len, NULL, NULL, 0, &blob2), SR_NULL_PARAMETER);
  CHECK_RC(sr_encrypt(ks, a, msg, msg_len, NULL, NULL, 0, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_encrypt(ks, a, msg, msg_len, NULL, CTX_V, 2, &blob2), SR_NULL_PARAMETER);
  CHECK_RC(sr_encrypt(ks, a, msg, msg_len, CTX_K, NULL, 2, &blob2), SR_NULL_PARAMETER);
  const char *nk[] = {"k", NULL};
  CHECK_RC(sr_encrypt(ks, a, msg, msg_len, nk, CTX_V, 2, &blob2), SR_NULL_PARAMETER);
  const char *dup_k[] = {"k", "k"};
  CHECK_RC(sr_encrypt(ks, a, msg, msg_len, dup_k, CTX_V, 2, &blob2), SR_VALIDATION);
  const char *bad_utf8[] = {"\xff"};
  CHECK_RC(sr_encrypt(ks, a, msg, msg_len, bad_utf8, CTX_V, 1, &blob2), SR_INVALID_UTF8);
  CHECK_RC(sr_encrypt(ks, a, NULL, 0, NULL, NULL, 0, &blob2), SR_VALIDATION);
  CHECK_RC(sr_encrypt(ks, a, msg, (size_t)-1, NULL, NULL, 0, &blob2), SR_VALIDATION);
  CHECK_RC(sr_decrypt(ks, NULL, 5, NULL, NULL, 0, NULL, &pt), SR_NULL_PARAMETER);
  CHECK_RC(sr_decrypt(ks, blob.ptr, blob.len, CTX_K, CTX_V, 2, NULL, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_decrypt(NULL, blob.ptr, blob.len, CTX_K, CTX_V, 2, NULL, &pt), SR_NULL_PARAMETER);
  CHECK(blob2.ptr == NULL && pt.ptr == NULL);

  /* Plaintext size limits. */
  uint8_t *big = calloc(4097, 1);
  CHECK_OK(sr_encrypt(ks, a, big, 4096, NULL, NULL, 0, &blob2));
  sr_bytes_free(&blob2);
  CHECK_RC(sr_encrypt(ks, a, big, 4097, NULL, NULL, 0, &blob2), SR_VALIDATION);
  free(big);
  CHECK_RC(sr_encrypt(ks, "55555555-5555-5555-5555-555555555555", msg, msg_len, NULL, NULL, 0, &blob2),
           SR_NOT_FOUND);

  /* ReEncrypt a -> b, then decrypt under b with the new context. */
  const char *dk[] = {"stage"};
  const char *dv[] = {"two"};
  CHECK_OK(sr_re_encrypt(ks, blob.ptr, blob.len, CTX_K, CTX_V, 2, NULL, b, dk, dv, 1, &blob2));
  CHECK_OK(sr_decrypt(ks, blob2.ptr, blob2.len, dk, dv, 1, b, &pt));
  CHECK(pt.len == msg_len && memcmp(pt.ptr, msg, msg_len) == 0);
  sr_bytes_free(&pt);
  sr_bytes_free(&blob2);
  CHECK_OK(sr_re_encrypt(ks, blob.ptr, blob.len, CTX_K, CTX_V, 2, a, a, NULL, NULL, 0, &blob2));
  sr_bytes_free(&blob2);
  CHECK_RC(sr_re_encrypt(ks, blob.ptr, blob.len, CTX_K, CTX_V, 2, b, a, NULL, NULL, 0, &blob2), SR_INCORRECT_KEY);
  CHECK_RC(sr_re_encrypt(ks, blob.ptr, blob.len, NULL, NULL, 0, NULL, b, NULL, NULL, 0, &blob2),
           SR_INVALID_CIPHERTEXT);
  CHECK_RC(sr_re_encrypt(ks, blob.ptr, blob.len, CTX_K, CTX_V, 2, NULL, NULL, NULL, NULL, 0, &blob2),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_re_encrypt(ks, blob.ptr, blob.len, CTX_K, CTX_V, 2, NULL, b, NULL, NULL, 0, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_re_encrypt(ks, NULL, 3, CTX_K, CTX_V, 2, NULL, b, NULL, NULL, 0, &blob2), SR_NULL_PARAMETER);
  CHECK_RC(sr_re_encrypt(NULL, blob.ptr, blob.len, CTX_K, CTX_V, 2, NULL, b, NULL, NULL, 0, &blob2),
           SR_NULL_PARAMETER);
  CHECK(blob2.ptr == NULL);

  /* GenerateDataKey: spec or byte count; the blob decrypts to the plaintext key. */
  sr_bytes dk_pt = SR_BYTES_INIT, dk_blob = SR_BYTES_INIT;
  CHECK_OK(sr_generate_data_key(ks, a, "AES_256", 0, CTX_K, CTX_V, 2, &dk_pt, &dk_blob));
  CHECK(dk_pt.len == 32);
  CHECK_OK(sr_decrypt(ks, dk_blob.ptr, dk_blob.len, CTX_K, CTX_V, 2, NULL, &pt));
  CHECK(pt.len == 32 && memcmp(pt.ptr, dk_pt.ptr, 32) == 0);
  sr_bytes_free(&pt);
  sr_bytes_free(&dk_pt);
  sr_bytes_free(&dk_blob);
  CHECK_OK(sr_generate_data_key(ks, a, "AES_128", 0, NULL, NULL, 0, &dk_pt, &dk_blob));
  CHECK(dk_pt.len == 16);
  sr_bytes_free(&dk_pt);
  sr_bytes_free(&dk_blob);
  CHECK_OK(sr_generate_data_key(ks, a, NULL, 64, NULL, NULL, 0, &dk_pt, &dk_blob));
  CHECK(dk_pt.len == 64);
  sr_bytes_free(&dk_pt);
  sr_bytes_free(&dk_blob);
  CHECK_RC(sr_generate_data_key(ks, a, NULL, 0, NULL, NULL, 0, &dk_pt, &dk_blob), SR_VALIDATION);
  CHECK_RC(sr_generate_data_key(ks, a, "AES_256", 32, NULL, NULL, 0, &dk_pt, &dk_blob), SR_VALIDATION);
  CHECK_RC(sr_generate_data_key(ks, a, "AES_512", 0, NULL, NULL, 0, &dk_pt, &dk_blob), SR_VALIDATION);
  CHECK_RC(sr_generate_data_key(ks, a, NULL, 1025, NULL, NULL, 0, &dk_pt, &dk_blob), SR_VALIDATION);
  CHECK_RC(sr_generate_data_key(ks, a, "AES_256", 0, NULL, NULL, 0, NULL, &dk_blob), SR_NULL_PARAMETER);
  CHECK_RC(sr_generate_data_key(ks, a, "AES_256", 0, NULL, NULL, 0, &dk_pt, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_generate_data_key(ks, NULL, "AES_256", 0, NULL, NULL, 0, &dk_pt, &dk_blob), SR_NULL_PARAMETER);
  CHECK_RC(sr_generate_data_key(NULL, a, "AES_256", 0, NULL, NULL, 0, &dk_pt, &dk_blob), SR_NULL_PARAMETER);
  CHECK(dk_pt.ptr == NULL && dk_blob.ptr == NULL);

  CHECK_OK(sr_generate_data_key_without_plaintext(ks, a, "AES_256", 0, CTX_K, CTX_V, 2, &dk_blob));
  CHECK_OK(sr_decrypt(ks, dk_blob.ptr, dk_blob.len, CTX_K, CTX_V, 2, NULL, &pt));
  CHECK(pt.len == 32);
  sr_bytes_free(&pt);
  sr_bytes_free(&dk_blob);
  CHECK_RC(sr_generate_data_key_without_plaintext(ks, a, NULL, 0, NULL, NULL, 0, &dk_blob), SR_VALIDATION);
  CHECK_RC(sr_generate_data_key_without_plaintext(ks, a, "AES_256", 0, NULL, NULL, 0, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_generate_data_key_without_plaintext(NULL, a, "AES_256", 0, NULL, NULL, 0, &dk_blob),
           SR_NULL_PARAMETER);

  /* GenerateRandom */
  sr_bytes r1 = SR_BYTES_INIT, r2 = SR_BYTES_INIT;
  CHECK_OK(sr_generate_random(ks, 32, &r1));
  CHECK_OK(sr_generate_random(ks, 32, &r2));
  CHECK(r1.len == 32 && r2.len == 32 && memcmp(r1.ptr, r2.ptr, 32) != 0);
  sr_bytes_free(&r1);
  sr_bytes_free(&r2);
  CHECK_OK(sr_generate_random(ks, 1024, &r1));
  CHECK(r1.len == 1024);
  sr_bytes_free(&r1);
  CHECK_RC(sr_generate_random(ks, 0, &r1), SR_VALIDATION);
  CHECK_RC(sr_generate_random(ks, 1025, &r1), SR_VALIDATION);
  CHECK_RC(sr_generate_random(ks, 16, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_generate_random(NULL, 16, &r1), SR_NULL_PARAMETER);

  /* Disabled key: no encryption, no decryption, no data keys; enabling restores. */
  CHECK_OK(sr_disable_key(ks, a));
  CHECK_RC(sr_encrypt(ks, a, msg, msg_len, NULL, NULL, 0, &blob2), SR_DISABLED);
  CHECK_RC(sr_decrypt(ks, blob.ptr, blob.len, CTX_K, CTX_V, 2, NULL, &pt), SR_DISABLED);
  CHECK_RC(sr_generate_data_key(ks, a, "AES_256", 0, NULL, NULL, 0, &dk_pt, &dk_blob), SR_DISABLED);
  CHECK_RC(sr_re_encrypt(ks, blob.ptr, blob.len, CTX_K, CTX_V, 2, NULL, b, NULL, NULL, 0, &blob2), SR_DISABLED);
  CHECK(pt.ptr == NULL && blob2.ptr == NULL && dk_pt.ptr == NULL);
  CHECK_OK(sr_enable_key(ks, a));
  CHECK_OK(sr_decrypt(ks, blob.ptr, blob.len, CTX_K, CTX_V, 2, NULL, &pt));
  sr_bytes_free(&pt);

  /* Rotation keeps old blobs decryptable. */
  CHECK_OK(sr_rotate_key_on_demand(ks, a));
  CHECK_OK(sr_decrypt(ks, blob.ptr, blob.len, CTX_K, CTX_V, 2, NULL, &pt));
  CHECK(pt.len == msg_len);
  sr_bytes_free(&pt);

  /* Pending deletion: KMSInvalidState. */
  sr_bytes j = SR_BYTES_INIT;
  CHECK_OK(sr_schedule_key_deletion(ks, b, 7, &j));
  sr_bytes_free(&j);
  CHECK_RC(sr_encrypt(ks, b, msg, msg_len, NULL, NULL, 0, &blob2), SR_KMS_INVALID_STATE);

  sr_bytes_free(&blob);
}

int main(void) {
  memset(ROOT, 0x42, sizeof ROOT);
  make_temp_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/keystore.db", dir);

  test_static_functions();
  test_last_error_message();
  test_keystore_lifecycle();

  sr_keystore *ks = NULL;
  REQUIRE_OK(sr_keystore_open(path, SR_ROOT_KEY_BYTES, ROOT, 32, &ks));
  test_key_management(ks);
  test_crypto(ks);
  sr_keystore_free(ks);

  remove_temp_dir(dir);
  return finish("test_api");
}
