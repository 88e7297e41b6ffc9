/* Peak memory of the C one-call envelope functions: one process per call,
 * its maximum resident set size read by benches/c-message-rss/run.sh with
 * /usr/bin/time -v. Raw AES keyring (no keystore, so the figure is the
 * plaintext, the message and what the call allocates).
 *
 *   message_rss encrypt SUITE MIB FILE   plaintext of MIB MiB -> FILE
 *   message_rss decrypt SUITE MIB FILE   FILE -> sr_bytes
 *   message_rss decrypt_into SUITE MIB FILE   FILE -> caller buffer of the
 *                                        message's length
 * Exits 0 only if the call succeeded and (decryption) the plaintext is the
 * one `encrypt` made. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strongroom.h"

static const uint8_t WRAP[32] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                                 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};

/* The plaintext's byte at `i`: a pattern that does not compress. */
static uint8_t byte_at(size_t i) { return (uint8_t)((i * 2654435761u) >> 13); }

int main(int argc, char **argv) {
  if (argc != 5)
    return 2;
  const char *mode = argv[1], *path = argv[4];
  uint16_t suite = (uint16_t)strtoul(argv[2], NULL, 0);
  size_t n = strtoull(argv[3], NULL, 10) << 20;
  if (strcmp(mode, "encrypt") == 0) {
    uint8_t *plain = malloc(n);
    for (size_t i = 0; i < n; i++)
      plain[i] = byte_at(i);
    sr_bytes msg = SR_BYTES_INIT;
    if (sr_envelope_encrypt_message_raw_aes("rss", "key", WRAP, 32, NULL, NULL, 0, 0, suite, plain, n, &msg) != SR_OK)
      return 1;
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(msg.ptr, 1, msg.len, f) != msg.len || fclose(f) != 0)
      return 1;
    sr_bytes_free(&msg);
    free(plain);
    return 0;
  }
  FILE *f = fopen(path, "rb");
  if (f == NULL || fseek(f, 0, SEEK_END) != 0)
    return 1;
  size_t len = (size_t)ftell(f);
  rewind(f);
  uint8_t *msg = malloc(len);
  if (fread(msg, 1, len, f) != len)
    return 1;
  fclose(f);
  const uint8_t *pt;
  size_t pt_len;
  sr_bytes out = SR_BYTES_INIT;
  uint8_t *buf = NULL;
  if (strcmp(mode, "decrypt") == 0) {
    if (sr_envelope_decrypt_message_raw_aes("rss", "key", WRAP, 32, NULL, msg, len, &out) != SR_OK)
      return 1;
    pt = out.ptr;
    pt_len = out.len;
  } else {
    buf = malloc(len);
    if (sr_envelope_decrypt_message_raw_aes_into("rss", "key", WRAP, 32, NULL, msg, len, buf, len, &pt_len) != SR_OK)
      return 1;
    pt = buf;
  }
  if (pt_len != n)
    return 1;
  for (size_t i = 0; i < n; i++)
    if (pt[i] != byte_at(i))
      return 1;
  sr_bytes_free(&out);
  free(buf);
  free(msg);
  return 0;
}
