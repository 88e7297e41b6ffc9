/* Streaming envelope encryption through read/write callbacks: a file larger
 * than any buffer round-trips; wrong keys, contexts, truncation, flipped
 * bits, failing callbacks and bad parameters are refused. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

static const uint8_t WRAP[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const char *NS = "strongroom-ctest";
static const char *NAME = "file-key";
static const char *CK[] = {"file", "owner"};
static const char *CV[] = {"data.bin", "alice"};

static int file_read(void *user, uint8_t *buf, size_t len, size_t *out_read) {
  FILE *f = user;
  *out_read = fread(buf, 1, len, f);
  return ferror(f) ? -1 : 0;
}

static int file_write(void *user, const uint8_t *buf, size_t len) {
  FILE *f = user;
  return fwrite(buf, 1, len, f) == len ? 0 : -1;
}

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

  remove_temp_dir(dir);
  return finish("test_envelope");
}
