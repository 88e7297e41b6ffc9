/* The C side of the cross-binding check (tests/c/cli_interop.sh): encrypts,
 * decrypts and generates data keys on a keystore made by the CLI, reading
 * and writing raw files, so that the CLI can check what C made and the other
 * way round.
 *
 *   interop KEYSTORE ROOT_KEY_FILE encrypt KEY_ID IN OUT [k=v ...]
 *   interop KEYSTORE ROOT_KEY_FILE decrypt IN OUT [k=v ...]
 *   interop KEYSTORE ROOT_KEY_FILE data-key KEY_ID PLAINTEXT_OUT BLOB_OUT [k=v ...]
 *   interop KEYSTORE ROOT_KEY_FILE envelope-encrypt KEY_ID IN OUT [k=v ...]
 *   interop KEYSTORE ROOT_KEY_FILE envelope-decrypt IN OUT [k=v ...]   (required context)
 *   interop KEYSTORE ROOT_KEY_FILE message-encrypt KEY_ID IN OUT [k=v ...]
 *   interop KEYSTORE ROOT_KEY_FILE message-decrypt IN OUT [k=v ...]    (required context)
 *
 * The envelope commands stream through sr_read_fn/sr_write_fn callbacks
 * (sr_envelope_encrypt / sr_envelope_decrypt, KMS keyring); envelope-decrypt
 * creates OUT first, so that OUT is empty when nothing reached the callback.
 * The message commands are the one-call functions in memory
 * (sr_envelope_encrypt_message / sr_envelope_decrypt_message, then the
 * caller-buffer variant, whose output must be the same); message-decrypt
 * writes OUT only on success.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strongroom.h"

static int die(const char *what, sr_result rc) {
  char msg[512];
  size_t n = 0;
  if (sr_last_error_message(msg, sizeof msg, &n) != SR_OK)
    msg[0] = '\0';
  fprintf(stderr, "interop: %s: %s: %s\n", what, sr_result_name(rc), msg);
  return 1;
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  size_t got;
  while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
    }
  }
  fclose(f);
  *len = n;
  return buf;
}

static int write_file(const char *path, const sr_bytes *b) {
  FILE *f = fopen(path, "wb");
  if (f == NULL)
    return 1;
  size_t put = fwrite(b->ptr, 1, b->len, f);
  return (fclose(f) != 0 || put != b->len) ? 1 : 0;
}

static int file_read(void *user, uint8_t *buf, size_t len, size_t *out_read) {
  FILE *f = user;
  *out_read = fread(buf, 1, len, f);
  return ferror(f) ? -1 : 0;
}

static int file_write(void *user, const uint8_t *buf, size_t len) {
  FILE *f = user;
  return fwrite(buf, 1, len, f) == len ? 0 : -1;
}

/* Streams IN to OUT through the envelope functions. */
static sr_result envelope(sr_keystore *ks, int encrypt, const char *key_id, const char *in, const char *out,
                          const char **keys, const char **values, size_t n) {
  FILE *fi = fopen(in, "rb");
  FILE *fo = fopen(out, "wb");
  sr_result rc = SR_IO;
  if (fi != NULL && fo != NULL) {
    const char *key_ids[] = {key_id};
    rc = encrypt ? sr_envelope_encrypt(ks, key_ids, 1, keys, values, n, 0, 0, file_read, fi, file_write, fo)
                 : sr_envelope_decrypt(ks, NULL, 0, keys, values, n, 0, file_read, fi, file_write, fo);
  }
  if (fi != NULL)
    fclose(fi);
  if (fo != NULL && fclose(fo) != 0 && rc == SR_OK)
    rc = SR_IO;
  return rc;
}

/* Splits "k=v" arguments into two arrays (pointing into argv). */
static size_t parse_context(int argc, char **argv, const char **keys, const char **values) {
  size_t n = 0;
  for (int i = 0; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (eq == NULL)
      continue;
    *eq = '\0';
    keys[n] = argv[i];
    values[n] = eq + 1;
    n++;
  }
  return n;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: see the comment at the top of interop.c\n");
    return 2;
  }
  sr_keystore *ks = NULL;
  sr_result rc = sr_keystore_open(argv[1], SR_ROOT_KEY_FILE, (const uint8_t *)argv[2], strlen(argv[2]), &ks);
  if (rc != SR_OK)
    return die("open", rc);
  const char *keys[32], *values[32];
  const char *op = argv[3];
  int status = 0;
  sr_bytes out = SR_BYTES_INIT, out2 = SR_BYTES_INIT;
  if (strcmp(op, "encrypt") == 0 && argc >= 7) {
    size_t n = parse_context(argc - 7 > 32 ? 32 : argc - 7, argv + 7, keys, values);
    size_t len = 0;
    uint8_t *in = read_file(argv[5], &len);
    rc = in ? sr_encrypt(ks, argv[4], in, len, keys, values, n, &out) : SR_IO;
    free(in);
    status = rc != SR_OK ? die("encrypt", rc) : write_file(argv[6], &out);
  } else if (strcmp(op, "decrypt") == 0 && argc >= 6) {
    size_t n = parse_context(argc - 6 > 32 ? 32 : argc - 6, argv + 6, keys, values);
    size_t len = 0;
    uint8_t *in = read_file(argv[4], &len);
    rc = in ? sr_decrypt(ks, in, len, keys, values, n, NULL, &out) : SR_IO;
    free(in);
    status = rc != SR_OK ? die("decrypt", rc) : write_file(argv[5], &out);
  } else if (strcmp(op, "data-key") == 0 && argc >= 7) {
    size_t n = parse_context(argc - 7 > 32 ? 32 : argc - 7, argv + 7, keys, values);
    rc = sr_generate_data_key(ks, argv[4], "AES_256", 0, keys, values, n, &out, &out2);
    status = rc != SR_OK ? die("data-key", rc) : (write_file(argv[5], &out) | write_file(argv[6], &out2));
  } else if (strcmp(op, "envelope-encrypt") == 0 && argc >= 7) {
    size_t n = parse_context(argc - 7 > 32 ? 32 : argc - 7, argv + 7, keys, values);
    rc = envelope(ks, 1, argv[4], argv[5], argv[6], keys, values, n);
    status = rc != SR_OK ? die("envelope-encrypt", rc) : 0;
  } else if (strcmp(op, "envelope-decrypt") == 0 && argc >= 6) {
    size_t n = parse_context(argc - 6 > 32 ? 32 : argc - 6, argv + 6, keys, values);
    rc = envelope(ks, 0, NULL, argv[4], argv[5], keys, values, n);
    status = rc != SR_OK ? die("envelope-decrypt", rc) : 0;
  } else if (strcmp(op, "message-encrypt") == 0 && argc >= 7) {
    size_t n = parse_context(argc - 7 > 32 ? 32 : argc - 7, argv + 7, keys, values);
    size_t len = 0;
    uint8_t *in = read_file(argv[5], &len);
    const char *key_ids[] = {argv[4]};
    rc = in ? sr_envelope_encrypt_message(ks, key_ids, 1, keys, values, n, 0, 0, in, len, &out) : SR_IO;
    free(in);
    status = rc != SR_OK ? die("message-encrypt", rc) : write_file(argv[6], &out);
  } else if (strcmp(op, "message-decrypt") == 0 && argc >= 6) {
    size_t n = parse_context(argc - 6 > 32 ? 32 : argc - 6, argv + 6, keys, values);
    sr_envelope_decrypt_options o = {0};
    o.required_ctx_keys = keys;
    o.required_ctx_values = values;
    o.required_ctx_len = n;
    size_t len = 0, got = 0;
    uint8_t *in = read_file(argv[4], &len);
    uint8_t *buf = malloc(len + 1);
    rc = in && buf ? sr_envelope_decrypt_message(ks, NULL, 0, &o, in, len, &out) : SR_IO;
    if (rc == SR_OK)
      rc = sr_envelope_decrypt_message_into(ks, NULL, 0, &o, in, len, buf, len, &got);
    if (rc == SR_OK && (got != out.len || memcmp(buf, out.ptr, got) != 0)) {
      fprintf(stderr, "interop: the sr_bytes and caller-buffer plaintexts differ\n");
      status = 1;
    }
    free(in);
    free(buf);
    if (status == 0)
      status = rc != SR_OK ? die("message-decrypt", rc) : write_file(argv[5], &out);
  } else {
    fprintf(stderr, "interop: bad arguments\n");
    status = 2;
  }
  sr_bytes_free(&out);
  sr_bytes_free(&out2);
  sr_keystore_free(ks);
  return status;
}
