/* Strongroom from C: create a keystore, create a key, encrypt and decrypt
 * with an encryption context, generate a data key, and envelope-encrypt a
 * file of any size in constant memory.
 *
 *   cc example.c $(pkg-config --cflags --libs strongroom) -o example
 *   ./example /tmp/example.db
 */
#include <stdio.h>
#include <string.h>

#include <strongroom.h>

/* Callbacks for streaming envelope encryption over stdio files. */
static int read_file(void *user, uint8_t *buf, size_t len, size_t *out_read) {
  *out_read = fread(buf, 1, len, (FILE *)user);
  return ferror((FILE *)user) ? -1 : 0;
}
static int write_file(void *user, const uint8_t *buf, size_t len) {
  return fwrite(buf, 1, len, (FILE *)user) == len ? 0 : -1;
}

/* Print the KMS exception name and this thread's last error message. */
static int fail(const char *what, sr_result rc) {
  char msg[512];
  size_t len = 0;
  if (sr_last_error_message(msg, sizeof msg, &len) != SR_OK)
    msg[0] = '\0';
  fprintf(stderr, "%s failed: %s: %s\n", what, sr_result_name(rc), msg);
  return 1;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "example.db";
  uint8_t root_key[32]; /* in real life: SR_ROOT_KEY_FILE, _ENV_VAR or _PASSPHRASE */
  memset(root_key, 0x42, sizeof root_key);
  /* Start over: the example's keystore and its audit log (a new keystore
     refuses a path whose earlier audit log is still there). */
  char log_path[4096];
  snprintf(log_path, sizeof log_path, "%s.audit.jsonl", path);
  remove(path);
  remove(log_path);

  sr_keystore *ks = NULL;
  sr_result rc = sr_keystore_create(path, SR_ROOT_KEY_BYTES, root_key, sizeof root_key,
                                    NULL /* region */, NULL /* account */, &ks);
  if (rc != SR_OK)
    return fail("sr_keystore_create", rc);

  /* CreateKey: the key ID (a UUID) goes into a caller buffer. */
  char key_id[SR_KEY_ID_LEN];
  size_t key_id_len = 0;
  rc = sr_create_key(ks, "example key", NULL, NULL, key_id, sizeof key_id, &key_id_len);
  if (rc != SR_OK)
    return fail("sr_create_key", rc);
  printf("created key %s\n", key_id);

  /* Encrypt with an encryption context; the blob is library-allocated. */
  const char *ctx_keys[] = {"tenant", "purpose"};
  const char *ctx_values[] = {"acme", "example"};
  const char *secret = "attack at dawn";
  sr_bytes blob = SR_BYTES_INIT;
  rc = sr_encrypt(ks, key_id, (const uint8_t *)secret, strlen(secret), ctx_keys, ctx_values, 2, &blob);
  if (rc != SR_OK)
    return fail("sr_encrypt", rc);
  printf("ciphertext blob: %zu bytes\n", blob.len);

  /* Decrypt: the same context is required; the key comes from the blob. */
  sr_bytes plaintext = SR_BYTES_INIT;
  rc = sr_decrypt(ks, blob.ptr, blob.len, ctx_keys, ctx_values, 2, NULL, &plaintext);
  if (rc != SR_OK)
    return fail("sr_decrypt", rc);
  printf("decrypted: %.*s\n", (int)plaintext.len, (const char *)plaintext.ptr);
  sr_bytes_free(&plaintext); /* zeroizes */

  /* A wrong context is rejected, with no detail. */
  const char *wrong_values[] = {"evil", "example"};
  rc = sr_decrypt(ks, blob.ptr, blob.len, ctx_keys, wrong_values, 2, NULL, &plaintext);
  printf("wrong context: %s\n", sr_result_name(rc));
  sr_bytes_free(&blob);

  /* GenerateDataKey: a 256-bit data key in plaintext and encrypted. */
  sr_bytes data_key = SR_BYTES_INIT, encrypted_data_key = SR_BYTES_INIT;
  rc = sr_generate_data_key(ks, key_id, "AES_256", 0, ctx_keys, ctx_values, 2, &data_key, &encrypted_data_key);
  if (rc != SR_OK)
    return fail("sr_generate_data_key", rc);
  printf("data key: %zu bytes, encrypted data key: %zu bytes\n", data_key.len, encrypted_data_key.len);

  sr_bytes_free(&data_key);
  sr_bytes_free(&encrypted_data_key);

  /* Envelope-encrypt a file of any size (AWS Encryption SDK message format)
   * in constant memory, the message's data key wrapped by the KMS key: the
   * CLI's `strongroom decrypt-file` reads the result. */
  char in_path[1024], msg_path[1024], out_path[1024];
  snprintf(in_path, sizeof in_path, "%s.txt", path);
  snprintf(msg_path, sizeof msg_path, "%s.txt.sr", path);
  snprintf(out_path, sizeof out_path, "%s.txt.out", path);
  FILE *in = fopen(in_path, "wb");
  for (int i = 0; i < 10000; i++)
    fprintf(in, "line %d of a file of any size\n", i);
  fclose(in);
  const char *key_ids[] = {key_id}; /* the first generates the data key; more may wrap it */
  in = fopen(in_path, "rb");
  FILE *msg = fopen(msg_path, "wb");
  rc = sr_envelope_encrypt(ks, key_ids, 1, ctx_keys, ctx_values, 2, 0 /* default frame length */,
                           0 /* default suite 0x0578, signed */, read_file, in, write_file, msg);
  fclose(in);
  fclose(msg);
  if (rc != SR_OK)
    return fail("sr_envelope_encrypt", rc);
  printf("envelope-encrypted %s -> %s\n", in_path, msg_path);

  /* Decrypt with whichever key of the keystore wrapped it (NULL, 0), requiring
   * tenant=acme. For this signed suite nothing reaches write_file until the
   * signature has verified. */
  msg = fopen(msg_path, "rb");
  FILE *out = fopen(out_path, "wb");
  rc = sr_envelope_decrypt(ks, NULL, 0, ctx_keys, ctx_values, 1, 0 /* no EDK limit */, read_file, msg, write_file,
                           out);
  fclose(msg);
  fclose(out);
  if (rc != SR_OK)
    return fail("sr_envelope_decrypt", rc);
  printf("envelope-decrypted %s -> %s\n", msg_path, out_path);
  remove(in_path);
  remove(msg_path);
  remove(out_path);

  sr_keystore_free(ks);
  return 0;
}
