/* Asymmetric and HMAC keys from C: Sign/Verify, GetPublicKey,
 * GenerateMac/VerifyMac, GenerateDataKeyPair, DeriveSharedSecret, and the
 * import error paths. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

static void key_json(sr_keystore *ks, const char *req, char id[SR_KEY_ID_LEN]) {
  sr_bytes j = SR_BYTES_INIT;
  REQUIRE_OK(sr_create_key_json(ks, req, &j));
  const char *p = strstr((const char *)j.ptr, "\"KeyId\":\"");
  id[0] = '\0';
  if (p) {
    memcpy(id, p + 9, 36);
    id[36] = '\0';
  }
  sr_bytes_free(&j);
}

/* Writes the JSON string member `name` of `j` (base64 text) to `path`. */
static int json_member_to_file(const sr_bytes *j, const char *name, const char *path) {
  char needle[64];
  snprintf(needle, sizeof needle, "\"%s\":\"", name);
  const char *p = j->ptr ? strstr((const char *)j->ptr, needle) : NULL;
  if (!p)
    return -1;
  p += strlen(needle);
  const char *end = strchr(p, '"');
  FILE *f = fopen(path, "w");
  if (!end || !f) {
    if (f)
      fclose(f);
    return -1;
  }
  fwrite(p, 1, (size_t)(end - p), f);
  return fclose(f);
}

static size_t read_all(const char *path, uint8_t *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

/* GetParametersForImport for `key`, the 32 bytes 0x42 wrapped by openssl
 * (RSAES_OAEP_SHA_256) and sr_import_key_material_with_type(import_type).
 * -1 when the test's own plumbing (files, openssl) failed. */
static int import_as(sr_keystore *ks, const char *dir, const char *key, const char *import_type) {
  char pub64[700], pub[700], tok64[700], tok[700], mat[700], wrapped[700], cmd[6000];
  snprintf(pub64, sizeof pub64, "%s/pub.b64", dir);
  snprintf(pub, sizeof pub, "%s/pub.der", dir);
  snprintf(tok64, sizeof tok64, "%s/token.b64", dir);
  snprintf(tok, sizeof tok, "%s/token.bin", dir);
  snprintf(mat, sizeof mat, "%s/material.bin", dir);
  snprintf(wrapped, sizeof wrapped, "%s/wrapped.bin", dir);
  sr_bytes j = SR_BYTES_INIT;
  if (sr_get_parameters_for_import(ks, key, "RSAES_OAEP_SHA_256", "RSA_2048", &j) != SR_OK)
    return -1;
  int bad = json_member_to_file(&j, "PublicKey", pub64) || json_member_to_file(&j, "ImportToken", tok64);
  sr_bytes_free(&j);
  uint8_t material[32];
  memset(material, 0x42, sizeof material);
  FILE *f = fopen(mat, "wb");
  if (bad || !f || fwrite(material, 1, sizeof material, f) != sizeof material || fclose(f) != 0)
    return -1;
  snprintf(cmd, sizeof cmd,
           "openssl base64 -d -A -in %s -out %s && openssl base64 -d -A -in %s -out %s && "
           "openssl pkeyutl -encrypt -pubin -keyform DER -inkey %s -pkeyopt rsa_padding_mode:oaep "
           "-pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in %s -out %s",
           pub64, pub, tok64, tok, pub, mat, wrapped);
  if (system(cmd) != 0)
    return -1;
  static uint8_t token[6144], wrapped_material[6144];
  size_t token_len = read_all(tok, token, sizeof token);
  size_t wrapped_len = read_all(wrapped, wrapped_material, sizeof wrapped_material);
  if (token_len == 0 || wrapped_len == 0)
    return -1;
  return (int)sr_import_key_material_with_type(ks, key, token, token_len, wrapped_material, wrapped_len, 0,
                                               import_type);
}

/* ImportType: EXISTING_KEY_MATERIAL before any import and NEW_KEY_MATERIAL
 * after one are refused, an unknown type is SR_VALIDATION; NULL omits it
 * (sr_import_key_material() is that call). */
static void test_import_type(sr_keystore *ks, const char *dir) {
  char ext[SR_KEY_ID_LEN];
  key_json(ks, "{\"Origin\":\"EXTERNAL\"}", ext);
  CHECK_RC(import_as(ks, dir, ext, "EXISTING_KEY_MATERIAL"), SR_INCORRECT_KEY_MATERIAL);
  CHECK(last_message_has("EXISTING_KEY_MATERIAL"));
  CHECK_RC(import_as(ks, dir, ext, "SOME_MATERIAL"), SR_VALIDATION);
  CHECK(last_message_has("ImportType"));
  CHECK_OK(import_as(ks, dir, ext, "NEW_KEY_MATERIAL"));
  CHECK_RC(import_as(ks, dir, ext, "NEW_KEY_MATERIAL"), SR_UNSUPPORTED_OPERATION);
  CHECK_OK(import_as(ks, dir, ext, "EXISTING_KEY_MATERIAL"));
  CHECK_OK(import_as(ks, dir, ext, NULL));
  const uint8_t junk[16] = {1};
  CHECK_RC(sr_import_key_material_with_type(ks, ext, NULL, 4, junk, sizeof junk, 0, "NEW_KEY_MATERIAL"),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_import_key_material_with_type(ks, NULL, junk, 4, junk, sizeof junk, 0, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_import_key_material_with_type(ks, ext, junk, 4, junk, sizeof junk, 0, "\xff"), SR_INVALID_UTF8);
}

int main(void) {
  char dir[512], path[600];
  uint8_t root[32];
  memset(root, 0x33, sizeof root);
  make_temp_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/asym.db", dir);
  sr_keystore *ks = NULL;
  REQUIRE_OK(sr_keystore_create(path, SR_ROOT_KEY_BYTES, root, 32, NULL, NULL, &ks));
  char ec[SR_KEY_ID_LEN], hmac[SR_KEY_ID_LEN], sym[SR_KEY_ID_LEN], ext[SR_KEY_ID_LEN];
  key_json(ks, "{\"KeySpec\":\"ECC_NIST_P256\",\"KeyUsage\":\"SIGN_VERIFY\"}", ec);
  key_json(ks, "{\"KeySpec\":\"HMAC_256\",\"KeyUsage\":\"GENERATE_VERIFY_MAC\"}", hmac);
  key_json(ks, "{}", sym);
  key_json(ks, "{\"Origin\":\"EXTERNAL\"}", ext);
  const uint8_t msg[] = "sign me";
  sr_bytes sig = SR_BYTES_INIT, pub = SR_BYTES_INIT, mac = SR_BYTES_INIT, j = SR_BYTES_INIT;

  /* Sign / Verify */
  CHECK_OK(sr_sign(ks, ec, msg, 7, NULL, "ECDSA_SHA_256", &sig));
  CHECK(sig.len > 60);
  CHECK_OK(sr_verify(ks, ec, msg, 7, NULL, sig.ptr, sig.len, "ECDSA_SHA_256"));
  CHECK_RC(sr_verify(ks, ec, (const uint8_t *)"other!!", 7, NULL, sig.ptr, sig.len, "ECDSA_SHA_256"),
           SR_KMS_INVALID_SIGNATURE);
  CHECK_RC(sr_sign(ks, ec, msg, 7, NULL, "NOT_AN_ALGORITHM", &sig), SR_VALIDATION);
  CHECK_RC(sr_sign(ks, ec, msg, 7, NULL, "ECDSA_SHA_256", NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_sign(ks, sym, msg, 7, NULL, "ECDSA_SHA_256", &pub), SR_INVALID_KEY_USAGE);
  CHECK_RC(sr_verify(ks, ec, msg, 7, NULL, NULL, 5, "ECDSA_SHA_256"), SR_NULL_PARAMETER);
  CHECK(pub.ptr == NULL);
  sr_bytes_free(&sig);

  /* GetPublicKey: DER SubjectPublicKeyInfo (a SEQUENCE). */
  CHECK_OK(sr_get_public_key(ks, ec, &pub));
  CHECK(pub.len > 50 && pub.ptr[0] == 0x30);
  sr_bytes_free(&pub);
  CHECK_RC(sr_get_public_key(ks, sym, &pub), SR_UNSUPPORTED_OPERATION);
  CHECK_RC(sr_get_public_key(ks, ec, NULL), SR_NULL_PARAMETER);

  /* GenerateMac / VerifyMac */
  CHECK_OK(sr_generate_mac(ks, hmac, msg, 7, "HMAC_SHA_256", &mac));
  CHECK(mac.len == 32);
  CHECK_OK(sr_verify_mac(ks, hmac, msg, 7, "HMAC_SHA_256", mac.ptr, mac.len));
  mac.ptr[0] ^= 1;
  CHECK_RC(sr_verify_mac(ks, hmac, msg, 7, "HMAC_SHA_256", mac.ptr, mac.len), SR_KMS_INVALID_MAC);
  sr_bytes_free(&mac);
  CHECK_RC(sr_generate_mac(ks, hmac, msg, 7, "HMAC_SHA_256", NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_generate_mac(ks, sym, msg, 7, "HMAC_SHA_256", &mac), SR_INVALID_KEY_USAGE);

  /* ECC_NIST_P521 (ECDSA_SHA_512), ECC_SECG_P256K1 (ECDSA_SHA_256) and
   * HMAC_224 (HMAC_SHA_224, 28-byte tags) by their KMS names. */
  {
    const char *specs[][2] = {{"ECC_NIST_P521", "ECDSA_SHA_512"}, {"ECC_SECG_P256K1", "ECDSA_SHA_256"}};
    for (size_t i = 0; i < 2; i++) {
      char req[128], k[SR_KEY_ID_LEN];
      snprintf(req, sizeof req, "{\"KeySpec\":\"%s\",\"KeyUsage\":\"SIGN_VERIFY\"}", specs[i][0]);
      key_json(ks, req, k);
      CHECK_OK(sr_sign(ks, k, msg, 7, NULL, specs[i][1], &sig));
      CHECK(sig.len > 60 && sig.ptr[0] == 0x30);
      CHECK_OK(sr_verify(ks, k, msg, 7, NULL, sig.ptr, sig.len, specs[i][1]));
      CHECK_RC(sr_sign(ks, k, msg, 7, NULL, "ECDSA_SHA_384", &pub), SR_INVALID_KEY_USAGE);
      sr_bytes_free(&sig);
      CHECK_OK(sr_get_public_key(ks, k, &pub));
      CHECK(pub.ptr[0] == 0x30);
      sr_bytes_free(&pub);
    }
    char h224[SR_KEY_ID_LEN];
    key_json(ks, "{\"KeySpec\":\"HMAC_224\",\"KeyUsage\":\"GENERATE_VERIFY_MAC\"}", h224);
    CHECK_OK(sr_generate_mac(ks, h224, msg, 7, "HMAC_SHA_224", &mac));
    CHECK(mac.len == 28);
    CHECK_OK(sr_verify_mac(ks, h224, msg, 7, "HMAC_SHA_224", mac.ptr, mac.len));
    sr_bytes_free(&mac);
    CHECK_RC(sr_generate_mac(ks, h224, msg, 7, "HMAC_SHA_256", &mac), SR_INVALID_KEY_USAGE);
  }

  /* GenerateDataKeyPair: the private-key blob decrypts to the PKCS#8. */
  const char *ck[] = {"pair"};
  const char *cv[] = {"yes"};
  sr_bytes priv = SR_BYTES_INIT, blob = SR_BYTES_INIT, pt = SR_BYTES_INIT;
  CHECK_OK(sr_generate_data_key_pair(ks, sym, "ECC_NIST_P256", ck, cv, 1, &pub, &priv, &blob));
  CHECK(pub.len > 50 && priv.len > 50 && blob.len > priv.len);
  CHECK_OK(sr_decrypt(ks, blob.ptr, blob.len, ck, cv, 1, NULL, &pt));
  CHECK(pt.len == priv.len && memcmp(pt.ptr, priv.ptr, pt.len) == 0);
  sr_bytes_free(&pt);
  sr_bytes_free(&pub);
  sr_bytes_free(&priv);
  sr_bytes_free(&blob);
  CHECK_OK(sr_generate_data_key_pair_without_plaintext(ks, sym, "ECC_NIST_P256", NULL, NULL, 0, &pub, &blob));
  sr_bytes_free(&pub);
  sr_bytes_free(&blob);
  CHECK_RC(sr_generate_data_key_pair(ks, sym, "NOPE", NULL, NULL, 0, &pub, &priv, &blob), SR_VALIDATION);
  CHECK_RC(sr_generate_data_key_pair(ks, sym, "ECC_NIST_P256", NULL, NULL, 0, &pub, NULL, &blob), SR_NULL_PARAMETER);
  CHECK_RC(sr_generate_data_key_pair_without_plaintext(ks, sym, "ECC_NIST_P256", NULL, NULL, 0, NULL, &blob),
           SR_NULL_PARAMETER);
  CHECK(pub.ptr == NULL && priv.ptr == NULL && blob.ptr == NULL);

  /* Import: parameters for an EXTERNAL key; bad token and material are refused. */
  CHECK_OK(sr_get_parameters_for_import(ks, ext, "RSAES_OAEP_SHA_256", "RSA_2048", &j));
  CHECK(strstr((const char *)j.ptr, "\"ImportToken\"") != NULL);
  sr_bytes_free(&j);
  CHECK_RC(sr_get_parameters_for_import(ks, sym, "RSAES_OAEP_SHA_256", "RSA_2048", &j), SR_UNSUPPORTED_OPERATION);
  CHECK_RC(sr_get_parameters_for_import(ks, ext, "RSAES_OAEP_SHA_256", "RSA_2048", NULL), SR_NULL_PARAMETER);
  const uint8_t junk[16] = {1, 2, 3};
  /* 16 junk bytes are no import token (audit F7: the exact code). */
  CHECK_RC(sr_import_key_material(ks, ext, junk, sizeof junk, junk, sizeof junk, 0), SR_INVALID_IMPORT_TOKEN);
  CHECK_RC(sr_import_key_material(ks, ext, NULL, 4, junk, sizeof junk, 0), SR_NULL_PARAMETER);
  CHECK_RC(sr_delete_imported_key_material(ks, sym), SR_UNSUPPORTED_OPERATION);
  CHECK_RC(sr_delete_imported_key_material(ks, NULL), SR_NULL_PARAMETER);

  /* DeriveSharedSecret: two KEY_AGREEMENT keys agree on one secret. */
  char ka[SR_KEY_ID_LEN], kb[SR_KEY_ID_LEN], k384[SR_KEY_ID_LEN];
  key_json(ks, "{\"KeySpec\":\"ECC_NIST_P256\",\"KeyUsage\":\"KEY_AGREEMENT\"}", ka);
  key_json(ks, "{\"KeySpec\":\"ECC_NIST_P256\",\"KeyUsage\":\"KEY_AGREEMENT\"}", kb);
  key_json(ks, "{\"KeySpec\":\"ECC_NIST_P384\",\"KeyUsage\":\"KEY_AGREEMENT\"}", k384);
  sr_bytes pa = SR_BYTES_INIT, pb = SR_BYTES_INIT, p384 = SR_BYTES_INIT;
  sr_bytes zab = SR_BYTES_INIT, zba = SR_BYTES_INIT, z = SR_BYTES_INIT;
  CHECK_OK(sr_get_public_key(ks, ka, &pa));
  CHECK_OK(sr_get_public_key(ks, kb, &pb));
  CHECK_OK(sr_get_public_key(ks, k384, &p384));
  CHECK_OK(sr_derive_shared_secret(ks, ka, "ECDH", pb.ptr, pb.len, &zab));
  CHECK_OK(sr_derive_shared_secret(ks, kb, "ECDH", pa.ptr, pa.len, &zba));
  CHECK(zab.len == 32 && zba.len == 32 && memcmp(zab.ptr, zba.ptr, 32) == 0);
  CHECK_OK(sr_derive_shared_secret(ks, k384, "ECDH", p384.ptr, p384.len, &z));
  CHECK(z.len == 48);
  sr_bytes_free(&z);
  /* Wrong curve, garbage, no algorithm, another usage, NULLs, a disabled key. */
  CHECK_RC(sr_derive_shared_secret(ks, ka, "ECDH", p384.ptr, p384.len, &z), SR_VALIDATION);
  CHECK_RC(sr_derive_shared_secret(ks, ka, "ECDH", junk, sizeof junk, &z), SR_VALIDATION);
  CHECK_RC(sr_derive_shared_secret(ks, ka, NULL, pb.ptr, pb.len, &z), SR_VALIDATION);
  CHECK_RC(sr_derive_shared_secret(ks, ka, "ECDHE", pb.ptr, pb.len, &z), SR_VALIDATION);
  CHECK_RC(sr_derive_shared_secret(ks, ec, "ECDH", pb.ptr, pb.len, &z), SR_INVALID_KEY_USAGE);
  CHECK_RC(sr_derive_shared_secret(ks, ka, "ECDH", NULL, 5, &z), SR_NULL_PARAMETER);
  CHECK_RC(sr_derive_shared_secret(ks, ka, "ECDH", pb.ptr, pb.len, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_sign(ks, ka, msg, 7, NULL, "ECDSA_SHA_256", &sig), SR_INVALID_KEY_USAGE);
  CHECK_OK(sr_disable_key(ks, ka));
  CHECK_RC(sr_derive_shared_secret(ks, ka, "ECDH", pb.ptr, pb.len, &z), SR_DISABLED);
  CHECK(z.ptr == NULL && sig.ptr == NULL);
  sr_bytes_free(&pa);
  sr_bytes_free(&pb);
  sr_bytes_free(&p384);
  sr_bytes_free(&zab);
  sr_bytes_free(&zba);

  test_import_type(ks, dir);

  sr_keystore_free(ks);
  remove_temp_dir(dir);
  return finish("test_asymmetric");
}
