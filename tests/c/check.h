/* Tiny test harness for the Strongroom C tests: CHECK counts, never aborts. */
#ifndef STRONGROOM_TEST_CHECK_H
#define STRONGROOM_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strongroom.h"

static int g_pass;
static int g_fail;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) {                                                                \
      g_pass++;                                                                \
    } else {                                                                   \
      g_fail++;                                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

/* Checks that `expr` returns `want`; on mismatch prints both names and the
 * thread's last error message. */
#define CHECK_RC(expr, want)                                                   \
  do {                                                                         \
    sr_result rc_ = (expr);                                                    \
    sr_result want_ = (want);                                                  \
    if (rc_ == want_) {                                                        \
      g_pass++;                                                                \
    } else {                                                                   \
      char msg_[512];                                                          \
      size_t n_ = 0;                                                           \
      if (sr_last_error_message(msg_, sizeof msg_, &n_) != SR_OK)              \
        msg_[0] = '\0';                                                        \
      g_fail++;                                                                \
      fprintf(stderr, "%s:%d: %s -> %s (%u), want %s: %s\n", __FILE__,        \
              __LINE__, #expr, sr_result_name(rc_), (unsigned)rc_,             \
              sr_result_name(want_), msg_);                                    \
    }                                                                          \
  } while (0)

#define CHECK_OK(expr) CHECK_RC(expr, SR_OK)

/* Stops the program when a precondition of the remaining checks fails. */
#define REQUIRE_OK(expr)                                                       \
  do {                                                                         \
    int before_ = g_fail;                                                      \
    CHECK_OK(expr);                                                            \
    if (g_fail != before_) {                                                   \
      fprintf(stderr, "%s:%d: cannot continue\n", __FILE__, __LINE__);         \
      exit(2);                                                                 \
    }                                                                          \
  } while (0)

static int finish(const char *name) {
  printf("%s: %d checks passed, %d failed\n", name, g_pass, g_fail);
  return g_fail == 0 ? 0 : 1;
}

/* A fresh directory under $TMPDIR (or /tmp); the caller removes it. */
static void make_temp_dir(char *buf, size_t len) {
  const char *base = getenv("TMPDIR");
  if (base == NULL || base[0] == '\0')
    base = "/tmp";
  snprintf(buf, len, "%s/sr-ctest-XXXXXX", base);
  if (mkdtemp(buf) == NULL) {
    perror("mkdtemp");
    exit(2);
  }
}

/* sr_read_fn / sr_write_fn over a stdio FILE * (the user pointer). */
static inline int file_read(void *user, uint8_t *buf, size_t len, size_t *out_read) {
  FILE *f = user;
  *out_read = fread(buf, 1, len, f);
  return ferror(f) ? -1 : 0;
}

static inline int file_write(void *user, const uint8_t *buf, size_t len) {
  FILE *f = user;
  return fwrite(buf, 1, len, f) == len ? 0 : -1;
}

/* Whether the calling thread's last failure message contains `needle`. */
static inline int last_message_has(const char *needle) {
  char msg[512];
  size_t n = 0;
  return sr_last_error_message(msg, sizeof msg, &n) == SR_OK && strstr(msg, needle) != NULL;
}

/* Number of keys ListKeys reports. */
static inline int count_keys(sr_keystore *ks) {
  sr_bytes j = SR_BYTES_INIT;
  int n = -1;
  if (sr_list_keys(ks, 1000, NULL, &j) == SR_OK) {
    n = 0;
    for (const char *p = (const char *)j.ptr; (p = strstr(p, "\"KeyId\"")) != NULL; p++)
      n++;
  }
  sr_bytes_free(&j);
  return n;
}

static void remove_temp_dir(const char *dir) {
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "warning: could not remove %s\n", dir);
}

#endif
