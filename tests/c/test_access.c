/* Principals, key policies, grants, grant tokens and the audit log from C:
 * each function's success path and its error paths, with the KMS exception
 * names the error API reports. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <sys/stat.h>

#include "check.h"

static uint8_t ROOT[32];
static char dir[512];
static char path[600];

/* The keystore's account is 000000000000: under the default key policy its
 * principals are allowed, those of other accounts are not. */
static const char *ADMIN = "arn:aws:iam::000000000000:root";
static const char *APP = "arn:aws:iam::000000000000:user/app";
static const char *OTHER = "arn:aws:iam::111122223333:user/other";

static const char *ACME_K[] = {"tenant"};
static const char *ACME_V[] = {"acme"};
static const char *EVIL_V[] = {"evil"};

static const uint8_t MSG[] = "grant me";

static void new_key(sr_keystore *ks, char key_id[SR_KEY_ID_LEN]) {
  size_t n = 0;
  REQUIRE_OK(sr_create_key(ks, NULL, NULL, NULL, key_id, SR_KEY_ID_LEN, &n));
}

static int json_has(const sr_bytes *b, const char *needle) {
  return b->ptr != NULL && strstr((const char *)b->ptr, needle) != NULL;
}

static int name_is(sr_result rc, const char *name) { return strcmp(sr_result_name(rc), name) == 0; }

/* Encrypt MSG under key with the one-pair context tenant=value (or none). */
static sr_result try_encrypt(sr_keystore *ks, const char *key, const char **values) {
  sr_bytes blob = SR_BYTES_INIT;
  sr_result rc = sr_encrypt(ks, key, MSG, sizeof MSG, values ? ACME_K : NULL, values, values ? 1 : 0, &blob);
  sr_bytes_free(&blob);
  return rc;
}

/* Number of grants ListGrants reports for a key. */
static int count_grants(sr_keystore *ks, const char *key) {
  sr_bytes j = SR_BYTES_INIT;
  int n = -1;
  if (sr_list_grants(ks, key, 100, NULL, NULL, NULL, &j) == SR_OK) {
    n = 0;
    for (const char *p = (const char *)j.ptr; (p = strstr(p, "\"GrantId\"")) != NULL; p++)
      n++;
  }
  sr_bytes_free(&j);
  return n;
}

static void test_principals(sr_keystore *ks, const char *key) {
  char buf[300];
  size_t n = 0;
  CHECK_OK(sr_keystore_principal(ks, buf, sizeof buf, &n));
  CHECK(strcmp(buf, ADMIN) == 0 && n == strlen(ADMIN) + 1);
  CHECK_RC(sr_keystore_principal(ks, NULL, 0, &n), SR_BUFFER_TOO_SMALL);
  CHECK(n == strlen(ADMIN) + 1);
  CHECK_RC(sr_keystore_principal(NULL, buf, sizeof buf, &n), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_principal(ks, buf, sizeof buf, NULL), SR_NULL_PARAMETER);

  sr_keystore *other = NULL, *app = NULL, *bad = NULL;
  REQUIRE_OK(sr_keystore_as_principal(ks, OTHER, &other));
  REQUIRE_OK(sr_keystore_as_principal(ks, APP, &app));
  CHECK_OK(sr_keystore_principal(other, buf, sizeof buf, &n));
  CHECK(strcmp(buf, OTHER) == 0);
  /* The original handle is unchanged. */
  CHECK_OK(sr_keystore_principal(ks, buf, sizeof buf, &n));
  CHECK(strcmp(buf, ADMIN) == 0);

  /* Default key policy: the account's principals yes, another account no. */
  CHECK_OK(try_encrypt(app, key, ACME_V));
  sr_result rc = try_encrypt(other, key, ACME_V);
  CHECK_RC(rc, SR_ACCESS_DENIED);
  CHECK(name_is(rc, "AccessDeniedException"));
  CHECK(last_message_has(OTHER));
  sr_bytes j = SR_BYTES_INIT;
  CHECK_RC(sr_describe_key(other, key, &j), SR_ACCESS_DENIED);
  CHECK(j.ptr == NULL);
  /* IAM-only operations are allowed for every principal. */
  CHECK_OK(sr_list_keys(other, 0, NULL, &j));
  sr_bytes_free(&j);

  /* Errors. */
  CHECK_RC(sr_keystore_as_principal(NULL, APP, &bad), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_as_principal(ks, NULL, &bad), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_as_principal(ks, APP, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_as_principal(ks, "", &bad), SR_VALIDATION);
  CHECK_RC(sr_keystore_as_principal(ks, "\xff", &bad), SR_INVALID_UTF8);
  char longp[300];
  memset(longp, 'a', 257);
  longp[257] = '\0';
  CHECK_RC(sr_keystore_as_principal(ks, longp, &bad), SR_VALIDATION);
  /* Not a principal ARN: a bare account ID, a wildcard. */
  CHECK_RC(sr_keystore_as_principal(ks, "111122223333", &bad), SR_VALIDATION);
  CHECK_RC(sr_keystore_as_principal(ks, "arn:aws:iam::111122223333:role/*", &bad), SR_VALIDATION);
  CHECK(bad == NULL);

  /* A derived handle outlives the handle it came from. */
  sr_keystore *base = NULL, *derived = NULL;
  REQUIRE_OK(sr_keystore_open(path, SR_ROOT_KEY_BYTES, ROOT, 32, &base));
  REQUIRE_OK(sr_keystore_as_principal(base, APP, &derived));
  sr_keystore_free(base);
  CHECK_OK(try_encrypt(derived, key, NULL));
  sr_keystore_free(derived);

  sr_keystore_free(other);
  sr_keystore_free(app);
}

static void test_policies(sr_keystore *ks, const char *key) {
  sr_keystore *other = NULL, *app = NULL;
  REQUIRE_OK(sr_keystore_as_principal(ks, OTHER, &other));
  REQUIRE_OK(sr_keystore_as_principal(ks, APP, &app));

  /* GetKeyPolicy: the default key policy. */
  sr_bytes pol = SR_BYTES_INIT;
  CHECK_OK(sr_get_key_policy(ks, key, NULL, &pol));
  CHECK(json_has(&pol, ADMIN) && json_has(&pol, "kms:*"));
  sr_bytes_free(&pol);
  CHECK_OK(sr_get_key_policy(ks, key, "default", &pol));
  CHECK(json_has(&pol, "Statement"));
  sr_bytes_free(&pol);
  CHECK_RC(sr_get_key_policy(ks, key, "other", &pol), SR_NOT_FOUND);
  CHECK_RC(sr_get_key_policy(ks, "11111111-2222-3333-4444-555555555555", NULL, &pol), SR_NOT_FOUND);
  CHECK_RC(sr_get_key_policy(other, key, NULL, &pol), SR_ACCESS_DENIED);
  CHECK_RC(sr_get_key_policy(NULL, key, NULL, &pol), SR_NULL_PARAMETER);
  CHECK_RC(sr_get_key_policy(ks, NULL, NULL, &pol), SR_NULL_PARAMETER);
  CHECK_RC(sr_get_key_policy(ks, key, NULL, NULL), SR_NULL_PARAMETER);
  CHECK(pol.ptr == NULL);

  /* ListKeyPolicies. */
  sr_bytes j = SR_BYTES_INIT;
  CHECK_OK(sr_list_key_policies(ks, key, 0, NULL, &j));
  CHECK(json_has(&j, "\"PolicyNames\":[\"default\"]"));
  sr_bytes_free(&j);
  CHECK_RC(sr_list_key_policies(ks, key, 1001, NULL, &j), SR_VALIDATION);
  CHECK_RC(sr_list_key_policies(ks, key, 0, "not-a-marker", &j), SR_INVALID_MARKER);
  CHECK_RC(sr_list_key_policies(other, key, 0, NULL, &j), SR_ACCESS_DENIED);
  CHECK_RC(sr_list_key_policies(ks, NULL, 0, NULL, &j), SR_NULL_PARAMETER);

  /* PutKeyPolicy: malformed documents, the lockout safety check. */
  sr_result rc = sr_put_key_policy(ks, key, NULL, "{not json", 0);
  CHECK_RC(rc, SR_MALFORMED_POLICY_DOCUMENT);
  CHECK(name_is(rc, "MalformedPolicyDocumentException"));
  CHECK_RC(sr_put_key_policy(ks, key, NULL, "{\"Version\":\"2012-10-17\",\"Statement\":[]}", 0),
           SR_MALFORMED_POLICY_DOCUMENT);
  const char *lockout = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                        "\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/other\"},"
                        "\"Action\":\"kms:Encrypt\",\"Resource\":\"*\"}]}";
  CHECK_RC(sr_put_key_policy(ks, key, NULL, lockout, 0), SR_MALFORMED_POLICY_DOCUMENT);
  CHECK(last_message_has("update the key policy"));
  CHECK_RC(sr_put_key_policy(ks, key, NULL, lockout, 2), SR_VALIDATION);
  CHECK_RC(sr_put_key_policy(ks, key, "custom", lockout, 0), SR_NOT_FOUND);
  CHECK_RC(sr_put_key_policy(ks, "alias/missing", NULL, lockout, 0), SR_NOT_FOUND);
  CHECK_RC(sr_put_key_policy(ks, key, NULL, NULL, 0), SR_NULL_PARAMETER);
  CHECK_RC(sr_put_key_policy(ks, NULL, NULL, lockout, 0), SR_NULL_PARAMETER);
  CHECK_RC(sr_put_key_policy(NULL, key, NULL, lockout, 0), SR_NULL_PARAMETER);
  CHECK_RC(sr_put_key_policy(ks, key, NULL, "\xff", 0), SR_INVALID_UTF8);
  /* The other account may not change the policy. */
  const char *shared = "{\"Version\":\"2012-10-17\",\"Statement\":["
                       "{\"Sid\":\"Admin\",\"Effect\":\"Allow\","
                       "\"Principal\":{\"AWS\":\"arn:aws:iam::000000000000:root\"},"
                       "\"Action\":\"kms:*\",\"Resource\":\"*\"},"
                       "{\"Sid\":\"Other\",\"Effect\":\"Allow\","
                       "\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/other\"},"
                       "\"Action\":[\"kms:Encrypt\",\"kms:Decrypt\"],\"Resource\":\"*\"},"
                       "{\"Sid\":\"NoDecryptForApp\",\"Effect\":\"Deny\","
                       "\"Principal\":{\"AWS\":\"arn:aws:iam::000000000000:user/app\"},"
                       "\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}]}";
  CHECK_RC(sr_put_key_policy(other, key, NULL, shared, 0), SR_ACCESS_DENIED);

  /* A policy that also allows the other account Encrypt/Decrypt, and denies
   * the app Decrypt (explicit Deny wins over the admin's kms:*). */
  CHECK_OK(sr_put_key_policy(ks, key, "default", shared, 0));
  CHECK_OK(sr_get_key_policy(ks, key, NULL, &pol));
  CHECK(json_has(&pol, "NoDecryptForApp"));
  sr_bytes_free(&pol);
  sr_bytes blob = SR_BYTES_INIT, plain = SR_BYTES_INIT;
  CHECK_OK(sr_encrypt(other, key, MSG, sizeof MSG, NULL, NULL, 0, &blob));
  CHECK_OK(sr_decrypt(other, blob.ptr, blob.len, NULL, NULL, 0, NULL, &plain));
  CHECK(plain.len == sizeof MSG && memcmp(plain.ptr, MSG, sizeof MSG) == 0);
  sr_bytes_free(&plain);
  CHECK_RC(sr_decrypt(app, blob.ptr, blob.len, NULL, NULL, 0, NULL, &plain), SR_ACCESS_DENIED);
  CHECK(plain.ptr == NULL);
  CHECK_OK(sr_decrypt(ks, blob.ptr, blob.len, NULL, NULL, 0, NULL, &plain));
  sr_bytes_free(&plain);
  sr_bytes dk = SR_BYTES_INIT, dkb = SR_BYTES_INIT;
  CHECK_RC(sr_generate_data_key(other, key, "AES_256", 0, NULL, NULL, 0, &dk, &dkb), SR_ACCESS_DENIED);
  sr_bytes_free(&blob);

  /* With the bypass flag a policy may lock the caller out. */
  char locked[SR_KEY_ID_LEN];
  new_key(ks, locked);
  CHECK_OK(sr_put_key_policy(ks, locked, NULL, lockout, 1));
  CHECK_RC(sr_get_key_policy(ks, locked, NULL, &pol), SR_ACCESS_DENIED);
  CHECK_OK(try_encrypt(other, locked, NULL));

  sr_keystore_free(other);
  sr_keystore_free(app);
}

static void test_grants(sr_keystore *ks, const char *key) {
  sr_keystore *other = NULL, *app = NULL;
  REQUIRE_OK(sr_keystore_as_principal(ks, OTHER, &other));
  REQUIRE_OK(sr_keystore_as_principal(ks, APP, &app));
  CHECK_RC(try_encrypt(other, key, ACME_V), SR_ACCESS_DENIED);

  /* CreateGrant: Encrypt and Decrypt for the other account, only with tenant=acme. */
  const char *ops[] = {"Encrypt", "Decrypt"};
  char id[SR_GRANT_ID_LEN], token[SR_GRANT_TOKEN_LEN];
  size_t id_n = 0, token_n = 0;
  CHECK_OK(sr_create_grant(ks, key, OTHER, ops, 2, NULL, NULL, ACME_K, ACME_V, 1, NULL, NULL, 0, id, sizeof id,
                           &id_n, token, sizeof token, &token_n));
  CHECK(id_n == SR_GRANT_ID_LEN && strlen(id) == 64);
  CHECK(token_n == strlen(token) + 1 && token_n <= SR_GRANT_TOKEN_LEN);
  CHECK(count_grants(ks, key) == 1);

  /* The grant applies at once, within its constraint. */
  sr_bytes blob = SR_BYTES_INIT, plain = SR_BYTES_INIT;
  CHECK_OK(sr_encrypt(other, key, MSG, sizeof MSG, ACME_K, ACME_V, 1, &blob));
  CHECK_OK(sr_decrypt(other, blob.ptr, blob.len, ACME_K, ACME_V, 1, NULL, &plain));
  CHECK(plain.len == sizeof MSG);
  sr_bytes_free(&plain);
  CHECK_RC(try_encrypt(other, key, EVIL_V), SR_ACCESS_DENIED);
  CHECK_RC(try_encrypt(other, key, NULL), SR_ACCESS_DENIED);
  sr_bytes dk = SR_BYTES_INIT, dkb = SR_BYTES_INIT;
  CHECK_RC(sr_generate_data_key(other, key, "AES_256", 0, ACME_K, ACME_V, 1, &dk, &dkb), SR_ACCESS_DENIED);

  /* Grant tokens on the crypto calls, through a handle that carries them. */
  sr_keystore *with_token = NULL, *bogus = NULL, *bogus_app = NULL, *none = NULL;
  const char *tokens[] = {token};
  REQUIRE_OK(sr_keystore_with_grant_tokens(other, tokens, 1, &with_token));
  char buf[300];
  size_t n = 0;
  CHECK_OK(sr_keystore_principal(with_token, buf, sizeof buf, &n));
  CHECK(strcmp(buf, OTHER) == 0); /* keeps the principal */
  CHECK_OK(try_encrypt(with_token, key, ACME_V));
  CHECK_OK(sr_decrypt(with_token, blob.ptr, blob.len, ACME_K, ACME_V, 1, NULL, &plain));
  sr_bytes_free(&plain);
  const char *fake[] = {"AXRoaXMtaXMtbm90LWEtdG9rZW4"};
  REQUIRE_OK(sr_keystore_with_grant_tokens(ks, fake, 1, &bogus));
  sr_result rc = try_encrypt(bogus, key, NULL);
  CHECK_RC(rc, SR_INVALID_GRANT_TOKEN);
  CHECK(name_is(rc, "InvalidGrantTokenException"));
  CHECK_RC(sr_decrypt(bogus, blob.ptr, blob.len, ACME_K, ACME_V, 1, NULL, &plain), SR_INVALID_GRANT_TOKEN);
  CHECK_RC(sr_generate_data_key(bogus, key, "AES_256", 0, NULL, NULL, 0, &dk, &dkb), SR_INVALID_GRANT_TOKEN);
  CHECK_RC(sr_generate_data_key_without_plaintext(bogus, key, "AES_256", 0, NULL, NULL, 0, &dkb),
           SR_INVALID_GRANT_TOKEN);
  CHECK_RC(sr_re_encrypt(bogus, blob.ptr, blob.len, ACME_K, ACME_V, 1, NULL, key, NULL, NULL, 0, &dkb),
           SR_INVALID_GRANT_TOKEN);
  CHECK(dk.ptr == NULL && dkb.ptr == NULL);
  /* DescribeKey and GetPublicKey take GrantTokens in KMS: sent and checked
     (before the key is read: a symmetric key has no public key). */
  sr_bytes j = SR_BYTES_INIT;
  CHECK_RC(sr_describe_key(bogus, key, &j), SR_INVALID_GRANT_TOKEN);
  CHECK_RC(sr_get_public_key(bogus, key, &j), SR_INVALID_GRANT_TOKEN);
  CHECK(j.ptr == NULL);
  sr_keystore *admin_token = NULL;
  REQUIRE_OK(sr_keystore_with_grant_tokens(ks, tokens, 1, &admin_token));
  CHECK_OK(sr_describe_key(admin_token, key, &j));
  CHECK(json_has(&j, key));
  sr_bytes_free(&j);
  CHECK_RC(sr_get_public_key(admin_token, key, &j), SR_UNSUPPORTED_OPERATION);
  sr_keystore_free(admin_token);
  /* Calls without GrantTokens are unaffected. */
  CHECK_OK(sr_list_grants(bogus, key, 0, NULL, NULL, NULL, &j));
  sr_bytes_free(&j);
  /* as_principal keeps the tokens; an empty list drops them. */
  REQUIRE_OK(sr_keystore_as_principal(bogus, APP, &bogus_app));
  CHECK_RC(try_encrypt(bogus_app, key, NULL), SR_INVALID_GRANT_TOKEN);
  REQUIRE_OK(sr_keystore_with_grant_tokens(bogus_app, NULL, 0, &none));
  CHECK_OK(try_encrypt(none, key, NULL));
  /* Errors. */
  const char *eleven[11];
  for (int i = 0; i < 11; i++)
    eleven[i] = token;
  sr_keystore *x = NULL;
  CHECK_RC(sr_keystore_with_grant_tokens(ks, eleven, 11, &x), SR_VALIDATION);
  CHECK_RC(sr_keystore_with_grant_tokens(ks, NULL, 1, &x), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_with_grant_tokens(NULL, tokens, 1, &x), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_with_grant_tokens(ks, tokens, 1, NULL), SR_NULL_PARAMETER);
  const char *bad_utf8[] = {"\xff"};
  CHECK_RC(sr_keystore_with_grant_tokens(ks, bad_utf8, 1, &x), SR_INVALID_UTF8);
  CHECK(x == NULL);
  sr_keystore_free(with_token);
  sr_keystore_free(bogus);
  sr_keystore_free(bogus_app);
  sr_keystore_free(none);
  sr_bytes_free(&blob);

  /* CreateGrant errors; nothing is created by a failed call. */
  char id2[SR_GRANT_ID_LEN], token2[SR_GRANT_TOKEN_LEN];
  size_t id2_n = 0, token2_n = 0;
  const char *fly[] = {"Fly"};
  const char *sign[] = {"Sign"};
  const char *twice[] = {"Encrypt", "Encrypt"};
  CHECK_RC(sr_create_grant(ks, key, OTHER, fly, 1, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, id2, sizeof id2, &id2_n,
                           token2, sizeof token2, &token2_n),
           SR_VALIDATION);
  CHECK(last_message_has("Fly"));
  CHECK_RC(sr_create_grant(ks, key, OTHER, ops, 0, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, id2, sizeof id2, &id2_n,
                           token2, sizeof token2, &token2_n),
           SR_VALIDATION);
  CHECK_RC(sr_create_grant(ks, key, OTHER, twice, 2, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, id2, sizeof id2,
                           &id2_n, token2, sizeof token2, &token2_n),
           SR_VALIDATION);
  CHECK_RC(sr_create_grant(ks, key, OTHER, sign, 1, NULL, NULL, NULL, NULL, 0, ACME_K, ACME_V, 1, id2, sizeof id2,
                           &id2_n, token2, sizeof token2, &token2_n),
           SR_VALIDATION);
  CHECK_RC(sr_create_grant(ks, key, OTHER, ops, 2, NULL, "bad name!", NULL, NULL, 0, NULL, NULL, 0, id2, sizeof id2,
                           &id2_n, token2, sizeof token2, &token2_n),
           SR_VALIDATION);
  CHECK_RC(sr_create_grant(ks, key, "", ops, 2, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, id2, sizeof id2, &id2_n,
                           token2, sizeof token2, &token2_n),
           SR_VALIDATION);
  CHECK_RC(sr_create_grant(ks, "alias/none", OTHER, ops, 2, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, id2, sizeof id2,
                           &id2_n, token2, sizeof token2, &token2_n),
           SR_NOT_FOUND);
  CHECK_RC(sr_create_grant(other, key, OTHER, ops, 2, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, id2, sizeof id2,
                           &id2_n, token2, sizeof token2, &token2_n),
           SR_ACCESS_DENIED);
  CHECK_RC(sr_create_grant(ks, key, NULL, ops, 2, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, id2, sizeof id2, &id2_n,
                           token2, sizeof token2, &token2_n),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_create_grant(ks, key, OTHER, NULL, 2, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, id2, sizeof id2, &id2_n,
                           token2, sizeof token2, &token2_n),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_create_grant(ks, key, OTHER, ops, 2, NULL, NULL, ACME_K, NULL, 1, NULL, NULL, 0, id2, sizeof id2,
                           &id2_n, token2, sizeof token2, &token2_n),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_create_grant(ks, key, OTHER, ops, 2, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, id2, sizeof id2, NULL,
                           token2, sizeof token2, &token2_n),
           SR_NULL_PARAMETER);
  /* Short buffers are refused before anything is created, with the size needed. */
  CHECK_RC(sr_create_grant(ks, key, OTHER, ops, 2, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, id2, 10, &id2_n, token2,
                           sizeof token2, &token2_n),
           SR_BUFFER_TOO_SMALL);
  CHECK(id2_n == SR_GRANT_ID_LEN);
  CHECK_RC(sr_create_grant(ks, key, OTHER, ops, 2, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, id2, sizeof id2, &id2_n,
                           NULL, 0, &token2_n),
           SR_BUFFER_TOO_SMALL);
  CHECK(token2_n == SR_GRANT_TOKEN_LEN);
  CHECK(count_grants(ks, key) == 1);

  /* Name makes CreateGrant idempotent; a retiring principal; a Subset constraint. */
  char id3[SR_GRANT_ID_LEN], token3[SR_GRANT_TOKEN_LEN];
  size_t id3_n = 0, token3_n = 0;
  const char *gdk[] = {"GenerateDataKey", "RetireGrant"};
  CHECK_OK(sr_create_grant(ks, key, OTHER, gdk, 2, APP, "nightly-job", NULL, NULL, 0, ACME_K, ACME_V, 1, id2,
                           sizeof id2, &id2_n, token2, sizeof token2, &token2_n));
  CHECK_OK(sr_create_grant(ks, key, OTHER, gdk, 2, APP, "nightly-job", NULL, NULL, 0, ACME_K, ACME_V, 1, id3,
                           sizeof id3, &id3_n, token3, sizeof token3, &token3_n));
  CHECK(strcmp(id2, id3) == 0);
  CHECK(count_grants(ks, key) == 2);
  const char *ctx2_k[] = {"tenant", "job"}, *ctx2_v[] = {"acme", "nightly"};
  CHECK_OK(sr_generate_data_key(other, key, "AES_256", 0, ctx2_k, ctx2_v, 2, &dk, &dkb));
  CHECK(dk.len == 32);
  sr_bytes_free(&dk);
  sr_bytes_free(&dkb);

  /* ListGrants. */
  CHECK_OK(sr_list_grants(ks, key, 0, NULL, NULL, NULL, &j));
  CHECK(json_has(&j, id) && json_has(&j, id2) && json_has(&j, "\"GranteePrincipal\":\"") &&
        json_has(&j, "EncryptionContextEquals") && json_has(&j, "EncryptionContextSubset") &&
        json_has(&j, "\"Name\":\"nightly-job\"") &&
        json_has(&j, "\"IssuingAccount\":\"arn:aws:iam::000000000000:root\""));
  sr_bytes_free(&j);
  CHECK_OK(sr_list_grants(ks, key, 0, NULL, id, NULL, &j));
  CHECK(json_has(&j, id) && !json_has(&j, id2));
  sr_bytes_free(&j);
  CHECK_OK(sr_list_grants(ks, key, 0, NULL, NULL, APP, &j));
  CHECK(!json_has(&j, id) && !json_has(&j, id2));
  sr_bytes_free(&j);
  CHECK_OK(sr_list_grants(ks, key, 1, NULL, NULL, NULL, &j));
  CHECK(json_has(&j, "\"Truncated\":true") && json_has(&j, "NextMarker"));
  sr_bytes_free(&j);
  CHECK_RC(sr_list_grants(ks, key, 101, NULL, NULL, NULL, &j), SR_VALIDATION);
  CHECK_RC(sr_list_grants(ks, key, 0, "bogus", NULL, NULL, &j), SR_INVALID_MARKER);
  CHECK_RC(sr_list_grants(ks, "alias/none", 0, NULL, NULL, NULL, &j), SR_NOT_FOUND);
  CHECK_RC(sr_list_grants(other, key, 0, NULL, NULL, NULL, &j), SR_ACCESS_DENIED);
  CHECK_RC(sr_list_grants(ks, NULL, 0, NULL, NULL, NULL, &j), SR_NULL_PARAMETER);
  CHECK_RC(sr_list_grants(ks, key, 0, NULL, NULL, NULL, NULL), SR_NULL_PARAMETER);
  CHECK(j.ptr == NULL);

  /* ListRetirableGrants. */
  CHECK_OK(sr_list_retirable_grants(other, APP, 0, NULL, &j));
  CHECK(json_has(&j, id2) && !json_has(&j, id));
  sr_bytes_free(&j);
  CHECK_RC(sr_list_retirable_grants(ks, "", 0, NULL, &j), SR_VALIDATION);
  CHECK_RC(sr_list_retirable_grants(ks, APP, 500, NULL, &j), SR_VALIDATION);
  CHECK_RC(sr_list_retirable_grants(ks, NULL, 0, NULL, &j), SR_NULL_PARAMETER);

  /* RetireGrant: by its token, as the retiring principal. */
  CHECK_RC(sr_retire_grant(ks, NULL, NULL, NULL), SR_VALIDATION);
  CHECK_RC(sr_retire_grant(ks, "AXRoaXMtaXMtbm90LWEtdG9rZW4", NULL, NULL), SR_INVALID_GRANT_TOKEN);
  CHECK_RC(sr_retire_grant(ks, NULL, key, ""), SR_INVALID_GRANT_ID);
  CHECK_RC(sr_retire_grant(NULL, token2, NULL, NULL), SR_NULL_PARAMETER);
  CHECK_OK(sr_retire_grant(app, token2, NULL, NULL));
  CHECK(count_grants(ks, key) == 1);
  CHECK_RC(sr_retire_grant(ks, NULL, key, id2), SR_NOT_FOUND);
  CHECK_RC(sr_generate_data_key(other, key, "AES_256", 0, ctx2_k, ctx2_v, 2, &dk, &dkb), SR_ACCESS_DENIED);

  /* RevokeGrant. */
  CHECK_RC(sr_revoke_grant(other, key, id), SR_ACCESS_DENIED);
  CHECK_RC(sr_revoke_grant(ks, key, ""), SR_INVALID_GRANT_ID);
  CHECK_RC(sr_revoke_grant(ks, NULL, id), SR_NULL_PARAMETER);
  CHECK_RC(sr_revoke_grant(ks, key, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_revoke_grant(ks, "alias/none", id), SR_NOT_FOUND);
  CHECK_OK(sr_revoke_grant(ks, key, id));
  CHECK(count_grants(ks, key) == 0);
  CHECK_RC(sr_revoke_grant(ks, key, id), SR_NOT_FOUND);
  CHECK_RC(try_encrypt(other, key, ACME_V), SR_ACCESS_DENIED);

  sr_keystore_free(other);
  sr_keystore_free(app);
}

/* Count of occurrences of `needle` in a JSON document. */
static int count_in(const sr_bytes *b, const char *needle) {
  int n = 0;
  if (b->ptr == NULL)
    return -1;
  for (const char *p = (const char *)b->ptr; (p = strstr(p, needle)) != NULL; p++)
    n++;
  return n;
}

/* Intent records in the keystore's audit log (docs/FORMAT.md, "Intent
 * records"): sr_audit_events lists an operation once, the log also holds the
 * intent of each change. */
static int intents_in_log(void) {
  char log[700];
  snprintf(log, sizeof log, "%s.audit.jsonl", path);
  FILE *f = fopen(log, "rb");
  if (f == NULL)
    return -1;
  static const char needle[] = "\"strongroomIntent\":{";
  size_t matched = 0;
  int n = 0, c;
  while ((c = fgetc(f)) != EOF) {
    if (c == needle[matched]) {
      if (++matched == sizeof needle - 1) {
        n++;
        matched = 0;
      }
    } else {
      matched = c == needle[0] ? 1 : 0;
    }
  }
  fclose(f);
  return n;
}

static void test_audit(sr_keystore *ks) {
  sr_audit_verification v;
  memset(&v, 0xee, sizeof v);
  CHECK_OK(sr_verify_audit_log(ks, &v));
  CHECK(v.intact == 1 && v.records > 10 && v.records >= v.checkpoint_records);
  CHECK_RC(sr_verify_audit_log(NULL, &v), SR_NULL_PARAMETER);
  CHECK_RC(sr_verify_audit_log(ks, NULL), SR_NULL_PARAMETER);

  /* Reading events: by operation, by principal, by key. */
  sr_bytes j = SR_BYTES_INIT;
  CHECK_OK(sr_audit_events(ks, NULL, NULL, NULL, NULL, NULL, &j));
  CHECK(j.ptr != NULL && j.ptr[0] == '[');
  int intents = intents_in_log();
  CHECK(intents > 0 && count_in(&j, "\"eventName\":") + intents >= (int)v.records);
  sr_bytes_free(&j);
  CHECK_OK(sr_audit_events(ks, NULL, "RevokeGrant", NULL, NULL, NULL, &j));
  CHECK(count_in(&j, "\"eventName\":\"RevokeGrant\"") >= 1 && count_in(&j, "\"eventName\":\"Encrypt\"") == 0);
  sr_bytes_free(&j);
  CHECK_OK(sr_audit_events(ks, NULL, "Encrypt", OTHER, NULL, NULL, &j));
  CHECK(count_in(&j, "AccessDeniedException") >= 1 && count_in(&j, APP) == 0);
  sr_bytes_free(&j);
  CHECK_OK(sr_audit_events(ks, NULL, NULL, NULL, "2999-01-01", NULL, &j));
  CHECK(strcmp((const char *)j.ptr, "[]") == 0);
  sr_bytes_free(&j);
  /* No plaintext in the log. */
  CHECK_OK(sr_audit_events(ks, NULL, NULL, NULL, NULL, NULL, &j));
  CHECK(count_in(&j, "grant me") == 0);
  sr_bytes_free(&j);
  CHECK_RC(sr_audit_events(ks, NULL, "\xff", NULL, NULL, NULL, &j), SR_INVALID_UTF8);
  CHECK_RC(sr_audit_events(ks, NULL, NULL, NULL, NULL, NULL, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_audit_events(NULL, NULL, NULL, NULL, NULL, NULL, &j), SR_NULL_PARAMETER);
  CHECK(j.ptr == NULL);
}

/* Flips one character inside the third line of the audit log of `db`. */
static int tamper_with_log(const char *db) {
  char log[700];
  snprintf(log, sizeof log, "%s.audit.jsonl", db);
  FILE *f = fopen(log, "r+b");
  if (f == NULL)
    return 0;
  int line = 0, c;
  long pos = -1;
  while ((c = fgetc(f)) != EOF) {
    if (c == '\n' && ++line == 2) {
      pos = ftell(f) + 20;
      break;
    }
  }
  int ok = 0;
  if (pos > 0 && fseek(f, pos, SEEK_SET) == 0 && (c = fgetc(f)) != EOF && fseek(f, pos, SEEK_SET) == 0)
    ok = fputc(c == 'x' ? 'y' : 'x', f) != EOF;
  return fclose(f) == 0 && ok;
}

static void test_tampered_audit_log(void) {
  REQUIRE_OK(tamper_with_log(path) ? SR_OK : SR_IO);
  sr_keystore *ks = NULL;
  REQUIRE_OK(sr_keystore_open(path, SR_ROOT_KEY_BYTES, ROOT, 32, &ks));
  sr_audit_verification v;
  memset(&v, 0, sizeof v);
  v.intact = 7;
  sr_result rc = sr_verify_audit_log(ks, &v);
  CHECK_RC(rc, SR_AUDIT_LOG_NOT_INTACT);
  CHECK(rc == 6 && name_is(rc, "AuditLogNotIntact"));
  CHECK(v.intact == 0 && v.records == 2 && v.checkpoint_records > 2);
  CHECK(last_message_has("audit record 2"));
  sr_keystore_free(ks);
}

/* Reads file `p` whole into a malloc'd buffer (*n its length); NULL on failure. */
static unsigned char *read_all(const char *p, size_t *n) {
  FILE *f = fopen(p, "rb");
  if (f == NULL)
    return NULL;
  size_t cap = 4096, len = 0;
  unsigned char *buf = malloc(cap);
  size_t got;
  while (buf != NULL && (got = fread(buf + len, 1, cap - len, f)) > 0) {
    len += got;
    if (len == cap) {
      unsigned char *bigger = realloc(buf, cap *= 2);
      if (bigger == NULL)
        free(buf);
      buf = bigger;
    }
  }
  fclose(f);
  *n = len;
  return buf;
}

static int write_all(const char *p, const unsigned char *b, size_t n) {
  FILE *f = fopen(p, "wb");
  if (f == NULL)
    return 0;
  int ok = fwrite(b, 1, n, f) == n;
  return fclose(f) == 0 && ok;
}

/* A crash after a change's intent record was synced and before its rows
 * committed (the keystore as it was, the log ending with the intent): the
 * log verifies, with one intent of unknown outcome, listed by
 * sr_audit_events. */
static void test_outcome_unknown(void) {
  char p[600], log[700], key[SR_KEY_ID_LEN];
  snprintf(p, sizeof p, "%s/crash.db", dir);
  snprintf(log, sizeof log, "%s.audit.jsonl", p);
  sr_keystore *ks = NULL;
  REQUIRE_OK(sr_keystore_create(p, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, NULL, &ks));
  new_key(ks, key);
  sr_audit_verification v;
  CHECK_OK(sr_verify_audit_log(ks, &v));
  CHECK(v.intact == 1 && v.records == 2 && v.outcome_unknown == 0);
  sr_keystore_free(ks);
  size_t db_len = 0, log_len = 0;
  unsigned char *db = read_all(p, &db_len);
  REQUIRE_OK(db != NULL ? SR_OK : SR_IO);
  REQUIRE_OK(sr_keystore_open(p, SR_ROOT_KEY_BYTES, ROOT, 32, &ks));
  new_key(ks, key);
  sr_keystore_free(ks);
  unsigned char *text = read_all(log, &log_len);
  REQUIRE_OK(text != NULL && log_len > 0 ? SR_OK : SR_IO);
  /* Cut the last line (the second CreateKey's outcome). */
  size_t cut = log_len - 1;
  while (cut > 0 && text[cut - 1] != '\n')
    cut--;
  CHECK(write_all(p, db, db_len) && write_all(log, text, cut));
  free(db);
  free(text);
  REQUIRE_OK(sr_keystore_open(p, SR_ROOT_KEY_BYTES, ROOT, 32, &ks));
  memset(&v, 0xee, sizeof v);
  CHECK_OK(sr_verify_audit_log(ks, &v));
  CHECK(v.intact == 1 && v.records == 3 && v.outcome_unknown == 1);
  sr_bytes j = SR_BYTES_INIT;
  CHECK_OK(sr_audit_events(ks, NULL, NULL, NULL, NULL, NULL, &j));
  CHECK(count_in(&j, "\"eventName\":\"CreateKey\"") == 2 && count_in(&j, "\"strongroomIntent\":{") == 1);
  sr_bytes_free(&j);
  sr_keystore_free(ks);
}

/* Every file of a directory: name, bytes and modification time. */
typedef struct {
  char name[256];
  unsigned char *bytes;
  size_t len;
  struct timespec mtime;
} file_state;

typedef struct {
  file_state f[16];
  int n;
} dir_state;

static void dir_snapshot(const char *d, dir_state *s) {
  s->n = 0;
  DIR *dp = opendir(d);
  if (dp == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(dp)) != NULL && s->n < 16) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    file_state *f = &s->f[s->n++];
    snprintf(f->name, sizeof f->name, "%s", e->d_name);
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", d, e->d_name);
    struct stat st;
    memset(&f->mtime, 0, sizeof f->mtime);
    if (stat(p, &st) == 0)
      f->mtime = st.st_mtim;
    f->len = 0;
    f->bytes = read_all(p, &f->len);
  }
  closedir(dp);
}

static void dir_free(dir_state *s) {
  for (int i = 0; i < s->n; i++)
    free(s->f[i].bytes);
  s->n = 0;
}

/* The same files, with the same bytes and modification times; names what differs. */
static int dir_unchanged(const dir_state *before, const dir_state *after) {
  int same = before->n == after->n;
  if (!same)
    fprintf(stderr, "files: %d before, %d after\n", before->n, after->n);
  for (int i = 0; i < before->n; i++) {
    const file_state *a = &before->f[i], *b = NULL;
    for (int j = 0; j < after->n; j++)
      if (strcmp(after->f[j].name, a->name) == 0)
        b = &after->f[j];
    if (b == NULL || a->len != b->len || (a->len > 0 && memcmp(a->bytes, b->bytes, a->len) != 0) ||
        a->mtime.tv_sec != b->mtime.tv_sec || a->mtime.tv_nsec != b->mtime.tv_nsec) {
      fprintf(stderr, "%s was written or removed\n", a->name);
      same = 0;
    }
  }
  return same;
}

/* The last error message of the calling thread (empty if none). */
static void last_message(char *buf, size_t len) {
  size_t n = 0;
  if (sr_last_error_message(buf, len, &n) != SR_OK)
    buf[0] = '\0';
}

/* sr_verify_audit_log_read_only(): verifies as sr_verify_audit_log() does
 * while another handle has the keystore open (its commits in the WAL), and
 * writes nothing (no byte, modification time or file of the keystore's
 * directory changes: keystore, audit log, anchor, no -wal created); an
 * edited or truncated log gets the report sr_verify_audit_log() gives. */
static void test_read_only_verification(void) {
  char d[600], p[700], anchor[700], log[720], key[SR_KEY_ID_LEN];
  snprintf(d, sizeof d, "%s/ro", dir);
  REQUIRE_OK(mkdir(d, 0700) == 0 ? SR_OK : SR_IO);
  snprintf(p, sizeof p, "%s/ro.db", d);
  snprintf(anchor, sizeof anchor, "%s/ro.anchor", d);
  snprintf(log, sizeof log, "%s.audit.jsonl", p);
  sr_keystore *ks = NULL;
  REQUIRE_OK(sr_keystore_create_with_anchor(p, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, NULL, NULL, anchor, &ks));
  new_key(ks, key);

  /* Another handle open, its latest commits (and the checkpoint sealed
   * with them) in the WAL. */
  sr_audit_verification live, v;
  CHECK_OK(sr_verify_audit_log(ks, &live));
  uint64_t first = live.records;
  new_key(ks, key);
  CHECK_OK(sr_verify_audit_log(ks, &live));
  CHECK(live.records > first && live.checkpoint_records == live.records);
  memset(&v, 0xee, sizeof v);
  CHECK_OK(sr_verify_audit_log_read_only(p, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, 0, &v));
  CHECK(v.intact == 1 && v.outcome_unknown == 0);
  CHECK(v.records == live.records && v.checkpoint_records == live.checkpoint_records);
  sr_keystore_free(ks);

  /* Nothing written, with the keystore closed. */
  char wal[720];
  snprintf(wal, sizeof wal, "%s-wal", p);
  int had_wal = access(wal, F_OK) == 0;
  dir_state before, after;
  dir_snapshot(d, &before);
  CHECK(before.n >= 3);
  memset(&v, 0xee, sizeof v);
  CHECK_OK(sr_verify_audit_log_read_only(p, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, 0, &v));
  CHECK(v.intact == 1 && v.records == live.records && v.checkpoint_records == live.checkpoint_records);
  /* Without the anchor check: no OpenKeystoreWithoutAnchor event either. */
  CHECK_OK(sr_verify_audit_log_read_only(p, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, SR_WITHOUT_ANCHOR, &v));
  CHECK(v.intact == 1 && v.records == live.records);

  /* Errors: nothing is created or written for them either. */
  uint8_t wrong[32];
  memset(wrong, 0x11, sizeof wrong);
  CHECK_RC(sr_verify_audit_log_read_only(p, SR_ROOT_KEY_BYTES, wrong, 32, anchor, 0, &v), SR_ACCESS_DENIED);
  CHECK_RC(sr_verify_audit_log_read_only(p, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, 0, &v), SR_KMS_INVALID_STATE);
  CHECK_RC(sr_verify_audit_log_read_only(p, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, SR_ANCHOR_INIT, &v),
           SR_VALIDATION);
  CHECK(last_message_has("SR_ANCHOR_INIT"));
  CHECK_RC(sr_verify_audit_log_read_only(p, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, SR_ANCHOR_REINIT, &v),
           SR_VALIDATION);
  CHECK_RC(sr_verify_audit_log_read_only(p, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, SR_WITHOUT_ANCHOR, &v),
           SR_VALIDATION);
  CHECK_RC(sr_verify_audit_log_read_only(p, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, 0x80, &v), SR_VALIDATION);
  CHECK_RC(sr_verify_audit_log_read_only(p, 9, ROOT, 32, anchor, 0, &v), SR_VALIDATION);
  char missing[720];
  snprintf(missing, sizeof missing, "%s/none.db", d);
  CHECK_RC(sr_verify_audit_log_read_only(missing, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, 0, &v), SR_NOT_FOUND);
  CHECK_RC(sr_verify_audit_log_read_only(NULL, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, 0, &v), SR_NULL_PARAMETER);
  CHECK_RC(sr_verify_audit_log_read_only(p, SR_ROOT_KEY_BYTES, NULL, 32, anchor, 0, &v), SR_NULL_PARAMETER);
  CHECK_RC(sr_verify_audit_log_read_only(p, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, 0, NULL), SR_NULL_PARAMETER);
  dir_snapshot(d, &after);
  CHECK(dir_unchanged(&before, &after));
  CHECK((access(wal, F_OK) == 0) == had_wal);
  dir_free(&after);

  /* An edited record: the report of sr_verify_audit_log(), *out written. */
  size_t log_len = 0;
  unsigned char *text = read_all(log, &log_len);
  REQUIRE_OK(text != NULL && log_len > 0 ? SR_OK : SR_IO);
  REQUIRE_OK(tamper_with_log(p) ? SR_OK : SR_IO);
  char ro_msg[512], rw_msg[512];
  sr_audit_verification rw;
  memset(&v, 0xee, sizeof v);
  CHECK_RC(sr_verify_audit_log_read_only(p, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, 0, &v), SR_AUDIT_LOG_NOT_INTACT);
  last_message(ro_msg, sizeof ro_msg);
  CHECK(v.intact == 0 && v.records == 2 && v.checkpoint_records == live.checkpoint_records);
  CHECK(last_message_has("audit record 2"));
  REQUIRE_OK(sr_keystore_open_with_anchor(p, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, 0, &ks));
  memset(&rw, 0, sizeof rw);
  CHECK_RC(sr_verify_audit_log(ks, &rw), SR_AUDIT_LOG_NOT_INTACT);
  last_message(rw_msg, sizeof rw_msg);
  CHECK(rw.intact == 0 && rw.records == v.records && strcmp(ro_msg, rw_msg) == 0);
  sr_keystore_free(ks);

  /* The last record cut off: not intact, short of the sealed checkpoint. */
  size_t cut = log_len - 1;
  while (cut > 0 && text[cut - 1] != '\n')
    cut--;
  CHECK(write_all(log, text, cut));
  free(text);
  memset(&v, 0xee, sizeof v);
  CHECK_RC(sr_verify_audit_log_read_only(p, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, 0, &v), SR_AUDIT_LOG_NOT_INTACT);
  last_message(ro_msg, sizeof ro_msg);
  CHECK(v.intact == 0 && v.records == live.records - 1 && v.checkpoint_records == live.checkpoint_records);
  CHECK(strstr(ro_msg, "not intact") != NULL);
  dir_free(&before);
}

/* The envelope functions send the handle's grant tokens with their KMS calls. */
static void test_envelope_grant_tokens(sr_keystore *ks, const char *key) {
  sr_keystore *other = NULL, *with_token = NULL, *bogus = NULL;
  REQUIRE_OK(sr_keystore_as_principal(ks, OTHER, &other));
  char in[700], enc[700], out[700];
  snprintf(in, sizeof in, "%s/env.in", dir);
  snprintf(enc, sizeof enc, "%s/env.enc", dir);
  snprintf(out, sizeof out, "%s/env.out", dir);
  FILE *f = fopen(in, "wb");
  REQUIRE_OK(f ? SR_OK : SR_KMS_INTERNAL);
  CHECK(fwrite(MSG, 1, sizeof MSG, f) == sizeof MSG);
  fclose(f);
  const char *keys[] = {key};
  CHECK_RC(sr_envelope_encrypt_file(other, in, enc, keys, 1, NULL, NULL, 0, 0, 0), SR_ACCESS_DENIED);

  const char *ops[] = {"GenerateDataKey", "Decrypt"};
  char id[SR_GRANT_ID_LEN], token[SR_GRANT_TOKEN_LEN];
  size_t id_n = 0, token_n = 0;
  REQUIRE_OK(sr_create_grant(ks, key, OTHER, ops, 2, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, id, sizeof id, &id_n,
                             token, sizeof token, &token_n));
  const char *tokens[] = {token};
  REQUIRE_OK(sr_keystore_with_grant_tokens(other, tokens, 1, &with_token));
  CHECK_OK(sr_envelope_encrypt_file(with_token, in, enc, keys, 1, NULL, NULL, 0, 0, 0));
  CHECK_OK(sr_envelope_decrypt_file(with_token, enc, out, keys, 1, NULL, NULL, 0, 0));
  CHECK(remove(out) == 0);
  CHECK_OK(sr_envelope_decrypt_file(with_token, enc, out, NULL, 0, NULL, NULL, 0, 0));
  CHECK(remove(out) == 0);

  /* A token this keystore did not issue fails every envelope call. */
  const char *fake[] = {"AXRoaXMtaXMtbm90LWEtdG9rZW4"};
  REQUIRE_OK(sr_keystore_with_grant_tokens(ks, fake, 1, &bogus));
  CHECK_RC(sr_envelope_encrypt_file(bogus, in, out, keys, 1, NULL, NULL, 0, 0, 0), SR_INVALID_GRANT_TOKEN);
  CHECK_RC(sr_envelope_decrypt_file(bogus, enc, out, NULL, 0, NULL, NULL, 0, 0), SR_INVALID_GRANT_TOKEN);
  CHECK(access(out, F_OK) != 0);
  CHECK(remove(in) == 0 && remove(enc) == 0);
  sr_keystore_free(other);
  sr_keystore_free(with_token);
  sr_keystore_free(bogus);
}

/* A keystore whose administrator is a role, not the account root: the
 * default key policy allows that role only, and export/import keeps it. */
static void test_named_admin(void) {
  const char *role = "arn:aws:iam::000000000000:role/KeyAdmin";
  char p[600], buf[300], key[SR_KEY_ID_LEN];
  size_t n = 0;
  snprintf(p, sizeof p, "%s/admin.db", dir);
  sr_keystore *ks = NULL, *app = NULL;
  CHECK_RC(sr_keystore_create_with_admin(p, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, NULL, "not an arn", &ks),
           SR_VALIDATION);
  CHECK(ks == NULL);
  REQUIRE_OK(sr_keystore_create_with_admin(p, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, NULL, role, &ks));
  CHECK_OK(sr_keystore_admin_principal(ks, buf, sizeof buf, &n));
  CHECK(strcmp(buf, role) == 0 && n == strlen(role) + 1);
  CHECK_OK(sr_keystore_principal(ks, buf, sizeof buf, &n));
  CHECK(strcmp(buf, role) == 0);
  new_key(ks, key);
  CHECK_OK(try_encrypt(ks, key, ACME_V));
  /* Another principal of the same account is not the administrator. */
  REQUIRE_OK(sr_keystore_as_principal(ks, APP, &app));
  CHECK_RC(try_encrypt(app, key, ACME_V), SR_ACCESS_DENIED);
  CHECK_OK(sr_keystore_admin_principal(app, buf, sizeof buf, &n));
  CHECK(strcmp(buf, role) == 0);
  CHECK_RC(sr_keystore_admin_principal(NULL, buf, sizeof buf, &n), SR_NULL_PARAMETER);
  sr_keystore_free(app);
  sr_keystore_free(ks);
  /* Reopened, the administrator is the stored one. */
  REQUIRE_OK(sr_keystore_open(p, SR_ROOT_KEY_BYTES, ROOT, 32, &ks));
  CHECK_OK(sr_keystore_admin_principal(ks, buf, sizeof buf, &n));
  CHECK(strcmp(buf, role) == 0);
  CHECK_OK(try_encrypt(ks, key, ACME_V));
  sr_keystore_free(ks);
}

/* DryRun: every check, no change, SR_DRY_RUN_OPERATION when it would succeed. */
static void test_dry_run(sr_keystore *ks) {
  char key[SR_KEY_ID_LEN];
  new_key(ks, key);
  sr_keystore *dry = NULL, *other_dry = NULL;
  REQUIRE_OK(sr_keystore_dry_run(ks, &dry));
  REQUIRE_OK(sr_keystore_as_principal(dry, OTHER, &other_dry));
  sr_bytes blob = SR_BYTES_INIT;
  sr_result rc = sr_encrypt(dry, key, MSG, sizeof MSG, ACME_K, ACME_V, 1, &blob);
  CHECK_RC(rc, SR_DRY_RUN_OPERATION);
  CHECK(name_is(rc, "DryRunOperationException") && blob.ptr == NULL);
  CHECK_RC(sr_encrypt(other_dry, key, MSG, sizeof MSG, ACME_K, ACME_V, 1, &blob), SR_ACCESS_DENIED);
  CHECK_RC(sr_encrypt(dry, "alias/none", MSG, sizeof MSG, NULL, NULL, 0, &blob), SR_NOT_FOUND);
  /* Handles derived from a dry-run handle stay in dry-run mode (documented). */
  sr_keystore *dry_tokens = NULL;
  REQUIRE_OK(sr_keystore_with_grant_tokens(dry, NULL, 0, &dry_tokens));
  CHECK_RC(sr_encrypt(dry_tokens, key, MSG, sizeof MSG, ACME_K, ACME_V, 1, &blob), SR_DRY_RUN_OPERATION);
  sr_keystore_free(dry_tokens);
  const char *ops[] = {"Encrypt"};
  char id[SR_GRANT_ID_LEN], token[SR_GRANT_TOKEN_LEN];
  size_t id_n = 0, token_n = 0;
  CHECK_RC(sr_create_grant(dry, key, APP, ops, 1, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, id, sizeof id, &id_n,
                           token, sizeof token, &token_n),
           SR_DRY_RUN_OPERATION);
  CHECK(count_grants(ks, key) == 0);
  CHECK_OK(sr_create_grant(ks, key, APP, ops, 1, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, id, sizeof id, &id_n,
                           token, sizeof token, &token_n));
  CHECK_RC(sr_revoke_grant(dry, key, id), SR_DRY_RUN_OPERATION);
  CHECK(count_grants(ks, key) == 1);
  /* Operations without DryRun refuse on the handle and do nothing. */
  CHECK_RC(sr_disable_key(dry, key), SR_VALIDATION);
  CHECK_OK(try_encrypt(ks, key, ACME_V));
  CHECK_RC(sr_keystore_dry_run(NULL, &dry), SR_NULL_PARAMETER);
  CHECK_RC(sr_keystore_dry_run(ks, NULL), SR_NULL_PARAMETER);
  sr_keystore_free(other_dry);
  sr_keystore_free(dry);
}

/* Operations KMS documents as taking a key ID or key ARN refuse an alias
 * name and an alias ARN (SR_NOT_FOUND, "Invalid keyId"); DescribeKey takes
 * them (README, "Key identifiers"). */
static void test_key_identifiers(sr_keystore *ks, const char *key) {
  CHECK_OK(sr_create_alias(ks, "alias/c-id-only", key));
  char region[64], account[16], alias_arn[200];
  size_t n = 0;
  REQUIRE_OK(sr_keystore_region(ks, region, sizeof region, &n));
  REQUIRE_OK(sr_keystore_account(ks, account, sizeof account, &n));
  snprintf(alias_arn, sizeof alias_arn, "arn:aws:kms:%s:%s:alias/c-id-only", region, account);
  const char *forms[] = {"alias/c-id-only", alias_arn};
  for (int i = 0; i < 2; i++) {
    sr_bytes j = SR_BYTES_INIT;
    CHECK_RC(sr_disable_key(ks, forms[i]), SR_NOT_FOUND);
    CHECK(last_message_has("DisableKey takes a key ID or key ARN, not an alias"));
    CHECK_RC(sr_get_key_rotation_status(ks, forms[i], &j), SR_NOT_FOUND);
    CHECK_RC(sr_list_grants(ks, forms[i], 0, NULL, NULL, NULL, &j), SR_NOT_FOUND);
    char expected[300];
    snprintf(expected, sizeof expected, "Invalid keyId %s (ListGrants takes", forms[i]);
    CHECK(last_message_has(expected));
    CHECK(j.ptr == NULL);
    CHECK_OK(sr_describe_key(ks, forms[i], &j));
    CHECK(json_has(&j, "\"KeyState\":\"Enabled\""));
    sr_bytes_free(&j);
  }
  CHECK_OK(sr_disable_key(ks, key));
  CHECK_OK(sr_enable_key(ks, key));
}

/* sr_rotate_audit_log: the archive, the new log's first record, the
 * verification of the rotated log, and the errors. */
static void test_rotate_audit_log(void) {
  char db[700];
  snprintf(db, sizeof db, "%s/rotated.db", dir);
  sr_keystore *ks = NULL;
  REQUIRE_OK(sr_keystore_create(db, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, NULL, &ks));
  sr_bytes j = SR_BYTES_INIT;
  /* Nothing to archive yet (the refusal is audited: one record). */
  CHECK_RC(sr_rotate_audit_log(ks, &j), SR_KMS_INVALID_STATE);
  CHECK(j.ptr == NULL);
  char key[SR_KEY_ID_LEN];
  new_key(ks, key);
  CHECK_OK(try_encrypt(ks, key, NULL));
  CHECK_OK(sr_rotate_audit_log(ks, &j));
  /* The refusal, CreateKey's intent and outcome, one Encrypt. */
  CHECK(json_has(&j, "\"FirstRecord\":1") && json_has(&j, "\"LastRecord\":4"));
  CHECK(json_has(&j, "rotated.db.audit.00000000000000000001-00000000000000000004.jsonl"));
  CHECK(json_has(&j, "\"Sha256\":\""));
  sr_bytes_free(&j);
  char archive[800];
  snprintf(archive, sizeof archive, "%s.audit.00000000000000000001-00000000000000000004.jsonl", db);
  struct stat st;
  CHECK(stat(archive, &st) == 0 && (st.st_mode & 0777) == 0400);
  /* The new log starts with the rotation record; it verifies alone. */
  CHECK_OK(sr_audit_events(ks, NULL, "RotateAuditLog", NULL, NULL, NULL, &j));
  CHECK(count_in(&j, "\"eventName\":\"RotateAuditLog\"") == 1);
  sr_bytes_free(&j);
  CHECK(remove(archive) == 0);
  CHECK_OK(try_encrypt(ks, key, NULL));
  sr_audit_verification v;
  CHECK_OK(sr_verify_audit_log(ks, &v));
  CHECK(v.intact == 1 && v.records == 6 && v.checkpoint_records == 6);
  CHECK_RC(sr_rotate_audit_log(NULL, &j), SR_NULL_PARAMETER);
  CHECK_RC(sr_rotate_audit_log(ks, NULL), SR_NULL_PARAMETER);
  sr_keystore_free(ks);
}

/* sr_verify_audit_log_archives: two archives and the current log verify
 * together; a misordered, missing or edited archive gives
 * SR_AUDIT_LOG_NOT_INTACT naming it, with the log itself intact. */
static void test_verify_audit_log_archives(void) {
  char db[700];
  snprintf(db, sizeof db, "%s/archives.db", dir);
  sr_keystore *ks = NULL;
  REQUIRE_OK(sr_keystore_create(db, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, NULL, &ks));
  char key[SR_KEY_ID_LEN];
  new_key(ks, key);
  CHECK_OK(try_encrypt(ks, key, NULL));
  sr_bytes j = SR_BYTES_INIT;
  CHECK_OK(sr_rotate_audit_log(ks, &j)); /* records 1-3: CreateKey's intent and outcome, Encrypt */
  sr_bytes_free(&j);
  CHECK_OK(try_encrypt(ks, key, NULL));
  CHECK_OK(sr_rotate_audit_log(ks, &j)); /* records 4-5: RotateAuditLog, Encrypt */
  sr_bytes_free(&j);
  CHECK_OK(try_encrypt(ks, key, NULL));
  char first[800], second[800], missing[800];
  snprintf(first, sizeof first, "%s.audit.00000000000000000001-00000000000000000003.jsonl", db);
  snprintf(second, sizeof second, "%s.audit.00000000000000000004-00000000000000000005.jsonl", db);
  snprintf(missing, sizeof missing, "%s/missing.jsonl", dir);
  const char *both[] = {first, second};
  sr_audit_verification whole, v;
  CHECK_OK(sr_verify_audit_log(ks, &whole));
  CHECK_OK(sr_verify_audit_log_archives(ks, both, 2, &v));
  CHECK(v.intact == 1 && v.records == whole.records && v.records == 7);
  CHECK_OK(sr_verify_audit_log_archives(ks, both + 1, 1, &v));
  CHECK_OK(sr_verify_audit_log_archives(ks, NULL, 0, &v));
  CHECK(v.intact == 1 && v.records == whole.records &&
        v.checkpoint_records == whole.checkpoint_records &&
        v.outcome_unknown == whole.outcome_unknown);
  const char *misordered[] = {second, first};
  memset(&v, 0, sizeof v);
  CHECK_RC(sr_verify_audit_log_archives(ks, misordered, 2, &v), SR_AUDIT_LOG_NOT_INTACT);
  CHECK(v.intact == 0 && v.records == 7 && last_message_has("the audit archives are not intact"));
  const char *gone[] = {missing, second};
  CHECK_RC(sr_verify_audit_log_archives(ks, gone, 2, &v), SR_AUDIT_LOG_NOT_INTACT);
  CHECK(v.intact == 0 && last_message_has("missing.jsonl"));
  /* One character of the first archive's first record changed. */
  CHECK(chmod(first, 0600) == 0);
  FILE *f = fopen(first, "r+b");
  CHECK(f != NULL);
  if (f != NULL) {
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    char *at = strstr(buf, "\"eventName\":\"");
    CHECK(at != NULL);
    if (at != NULL) {
      CHECK(fseek(f, (long)(at - buf) + 13, SEEK_SET) == 0 && fputc('X', f) == 'X');
    }
    CHECK(fclose(f) == 0);
  }
  CHECK_RC(sr_verify_audit_log_archives(ks, both, 2, &v), SR_AUDIT_LOG_NOT_INTACT);
  CHECK(v.intact == 0 && last_message_has("the audit archives are not intact") &&
        last_message_has("00000000000000000001-00000000000000000003.jsonl"));
  CHECK_OK(sr_verify_audit_log(ks, &v));
  CHECK_RC(sr_verify_audit_log_archives(NULL, both, 2, &v), SR_NULL_PARAMETER);
  CHECK_RC(sr_verify_audit_log_archives(ks, both, 2, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_verify_audit_log_archives(ks, NULL, 1, &v), SR_NULL_PARAMETER);
  const char *with_null[] = {first, NULL};
  CHECK_RC(sr_verify_audit_log_archives(ks, with_null, 2, &v), SR_NULL_PARAMETER);
  sr_keystore_free(ks);
}

int main(void) {
  /* The numbers of the codes these calls return are stable. */
  CHECK(SR_AUDIT_LOG_NOT_INTACT == 6 && SR_ACCESS_DENIED == 100 && SR_INVALID_GRANT_ID == 110 &&
        SR_INVALID_GRANT_TOKEN == 111 && SR_INVALID_MARKER == 114 && SR_LIMIT_EXCEEDED == 120 &&
        SR_MALFORMED_POLICY_DOCUMENT == 121 && SR_NOT_FOUND == 122);
  CHECK(SR_GRANT_ID_LEN == 65 && SR_GRANT_TOKEN_LEN == 131 && STRONGROOM_SOVERSION == 0);
  memset(ROOT, 0x24, sizeof ROOT);
  make_temp_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/keystore.db", dir);

  sr_keystore *ks = NULL;
  REQUIRE_OK(sr_keystore_create(path, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, NULL, &ks));
  char k1[SR_KEY_ID_LEN], k2[SR_KEY_ID_LEN], k3[SR_KEY_ID_LEN], k4[SR_KEY_ID_LEN];
  new_key(ks, k1);
  new_key(ks, k2);
  new_key(ks, k3);
  new_key(ks, k4);
  test_principals(ks, k1);
  test_policies(ks, k2);
  test_grants(ks, k3);
  test_envelope_grant_tokens(ks, k4);
  test_audit(ks);
  test_dry_run(ks);
  test_key_identifiers(ks, k4);
  sr_keystore_free(ks);
  test_tampered_audit_log();
  test_named_admin();
  test_outcome_unknown();
  test_read_only_verification();
  test_rotate_audit_log();
  test_verify_audit_log_archives();

  remove_temp_dir(dir);
  return finish("test_access");
}
