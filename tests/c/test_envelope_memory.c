/* Constant memory: 64 MiB of generated data go through sr_envelope_encrypt
 * (KMS keyring, signed default suite) into a file and back through
 * sr_envelope_decrypt into a callback that checks every byte against the
 * generator, while the peak resident set size grows by far less than the
 * data. Run without sanitizers (their allocators change the RSS). Prints
 * the sizes measured.
 *
 *   test_envelope_memory [MIB]   (default 64) */
#define _POSIX_C_SOURCE 200809L
#include <sys/resource.h>

#include "check.h"

/* xorshift64: a reproducible byte stream. */
typedef struct {
  uint64_t state;
  uint64_t remaining;
  uint64_t mismatches;
  uint64_t seen;
} stream;

static uint8_t next_byte(stream *s) {
  s->state ^= s->state << 13;
  s->state ^= s->state >> 7;
  s->state ^= s->state << 17;
  return (uint8_t)(s->state >> 24);
}

static int gen_read(void *user, uint8_t *buf, size_t len, size_t *out_read) {
  stream *s = user;
  size_t n = len < s->remaining ? len : (size_t)s->remaining;
  for (size_t i = 0; i < n; i++)
    buf[i] = next_byte(s);
  s->remaining -= n;
  *out_read = n;
  return 0;
}

static int check_write(void *user, const uint8_t *buf, size_t len) {
  stream *s = user;
  for (size_t i = 0; i < len; i++)
    if (buf[i] != next_byte(s))
      s->mismatches++;
  s->seen += len;
  return 0;
}

static long peak_rss_kib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss; /* KiB on Linux */
}

int main(int argc, char **argv) {
  uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 64;
  uint64_t total = mib << 20;
  char dir[512], path[600], msg[600];
  make_temp_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/mem.db", dir);
  snprintf(msg, sizeof msg, "%s/mem.sr", dir);

  uint8_t root[32];
  memset(root, 0x77, sizeof root);
  sr_keystore *ks = NULL;
  REQUIRE_OK(sr_keystore_create(path, SR_ROOT_KEY_BYTES, root, sizeof root, NULL, NULL, &ks));
  char key[SR_KEY_ID_LEN];
  size_t n = 0;
  REQUIRE_OK(sr_create_key(ks, NULL, NULL, NULL, key, sizeof key, &n));
  const char *keys[] = {key};

  /* Warm up (first keystore calls, allocator arenas) on a small message. */
  stream warm = {42, 1 << 20, 0, 0};
  FILE *fo = fopen(msg, "wb");
  REQUIRE_OK(sr_envelope_encrypt(ks, keys, 1, NULL, NULL, 0, 0, 0, gen_read, &warm, file_write, fo));
  fclose(fo);
  stream warm_check = {42, 0, 0, 0};
  FILE *fi = fopen(msg, "rb");
  REQUIRE_OK(sr_envelope_decrypt(ks, NULL, 0, NULL, NULL, 0, 0, file_read, fi, check_write, &warm_check));
  fclose(fi);
  long base = peak_rss_kib();

  stream in = {0x9e3779b97f4a7c15ull, total, 0, 0};
  fo = fopen(msg, "wb");
  CHECK_OK(sr_envelope_encrypt(ks, keys, 1, NULL, NULL, 0, 0, 0, gen_read, &in, file_write, fo));
  fclose(fo);
  long after_encrypt = peak_rss_kib();

  stream check = {0x9e3779b97f4a7c15ull, 0, 0, 0};
  fi = fopen(msg, "rb");
  CHECK_OK(sr_envelope_decrypt(ks, NULL, 0, NULL, NULL, 0, 0, file_read, fi, check_write, &check));
  fclose(fi);
  long after_decrypt = peak_rss_kib();

  CHECK(check.seen == total && check.mismatches == 0);
  printf("test_envelope_memory: %llu MiB through encrypt and decrypt callbacks; peak RSS %ld KiB after warm-up, "
         "%ld KiB after encrypt, %ld KiB after decrypt (growth %ld KiB)\n",
         (unsigned long long)mib, base, after_encrypt, after_decrypt, after_decrypt - base);
  /* Streaming: the growth must stay far below the data size (16 MiB for 64 MiB). */
  CHECK((after_decrypt - base) * 4 < (long)(total >> 10));

  sr_keystore_free(ks);
  remove_temp_dir(dir);
  return finish("test_envelope_memory");
}
