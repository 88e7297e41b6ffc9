/* Several threads share one sr_keystore handle: concurrent encrypt/decrypt,
 * data keys, key creation (writes), per-thread last error messages, and
 * handles derived concurrently for other principals (each thread its own
 * principal, freed while the others still run). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "check.h"

#define THREADS 8
#define ROUNDS 25

static sr_keystore *ks;
static char shared_key[SR_KEY_ID_LEN];

struct job {
  int index;
  int failures;
  int operations;
};

#define T_EXPECT(job, cond)                                                     \
  do {                                                                          \
    (job)->operations++;                                                        \
    if (!(cond)) {                                                              \
      (job)->failures++;                                                        \
      fprintf(stderr, "thread %d: %s:%d: %s\n", (job)->index, __FILE__, __LINE__, #cond); \
    }                                                                           \
  } while (0)

static void *worker(void *arg) {
  struct job *job = arg;
  char value[32];
  snprintf(value, sizeof value, "thread-%d", job->index);
  const char *ck[] = {"thread"};
  const char *cv[] = {value};

  /* Each thread also creates a key of its own (a concurrent write). */
  char own[SR_KEY_ID_LEN];
  size_t n = 0;
  T_EXPECT(job, sr_create_key(ks, value, NULL, NULL, own, sizeof own, &n) == SR_OK);

  for (int r = 0; r < ROUNDS; r++) {
    uint8_t msg[64];
    int len = snprintf((char *)msg, sizeof msg, "message %d from thread %d", r, job->index);
    const char *key = (r % 2 == 0) ? shared_key : own;
    sr_bytes blob = SR_BYTES_INIT, pt = SR_BYTES_INIT;
    T_EXPECT(job, sr_encrypt(ks, key, msg, (size_t)len, ck, cv, 1, &blob) == SR_OK);
    T_EXPECT(job, sr_decrypt(ks, blob.ptr, blob.len, ck, cv, 1, NULL, &pt) == SR_OK);
    T_EXPECT(job, pt.len == (size_t)len && memcmp(pt.ptr, msg, (size_t)len) == 0);
    sr_bytes_free(&pt);

    /* This thread's own failure and its own message, whatever the others do. */
    const char *wrong[] = {"someone else"};
    T_EXPECT(job, sr_decrypt(ks, blob.ptr, blob.len, ck, wrong, 1, NULL, &pt) == SR_INVALID_CIPHERTEXT);
    if (r % 5 == 0) {
      T_EXPECT(job, sr_encrypt(ks, key, msg, (size_t)len, NULL, NULL, 0, NULL) == SR_NULL_PARAMETER);
      char m[256];
      size_t mn = 0;
      T_EXPECT(job, sr_last_error_message(m, sizeof m, &mn) == SR_OK);
      T_EXPECT(job, strstr(m, "out_blob") != NULL);
    } else {
      char m[256];
      size_t mn = 0;
      T_EXPECT(job, sr_last_error_message(m, sizeof m, &mn) == SR_OK);
      T_EXPECT(job, strstr(m, "not valid") != NULL);
    }
    sr_bytes_free(&blob);

    sr_bytes dk = SR_BYTES_INIT, dkb = SR_BYTES_INIT;
    T_EXPECT(job, sr_generate_data_key(ks, shared_key, "AES_256", 0, ck, cv, 1, &dk, &dkb) == SR_OK);
    T_EXPECT(job, dk.len == 32);
    sr_bytes_free(&dk);
    sr_bytes_free(&dkb);
  }
  sr_bytes j = SR_BYTES_INIT;
  T_EXPECT(job, sr_describe_key(ks, own, &j) == SR_OK);
  sr_bytes_free(&j);

  /* A handle of this thread's own principal, derived from the shared one:
   * an account principal is allowed, another account's is refused. */
  char principal[128];
  snprintf(principal, sizeof principal, "arn:aws:iam::%s:user/t%d", job->index % 2 ? "000000000000" : "999999999999",
           job->index);
  sr_keystore *mine = NULL;
  T_EXPECT(job, sr_keystore_as_principal(ks, principal, &mine) == SR_OK);
  sr_bytes blob = SR_BYTES_INIT;
  sr_result want = job->index % 2 ? SR_OK : SR_ACCESS_DENIED;
  T_EXPECT(job, sr_encrypt(mine, shared_key, (const uint8_t *)"x", 1, ck, cv, 1, &blob) == want);
  sr_bytes_free(&blob);
  sr_keystore_free(mine);
  return NULL;
}

int main(void) {
  char dir[512], path[600];
  uint8_t root[32];
  memset(root, 0x07, sizeof root);
  make_temp_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/threads.db", dir);
  REQUIRE_OK(sr_keystore_create(path, SR_ROOT_KEY_BYTES, root, sizeof root, NULL, NULL, &ks));
  size_t n = 0;
  REQUIRE_OK(sr_create_key(ks, "shared", NULL, NULL, shared_key, sizeof shared_key, &n));

  pthread_t threads[THREADS];
  struct job jobs[THREADS];
  for (int i = 0; i < THREADS; i++) {
    jobs[i] = (struct job){.index = i};
    CHECK(pthread_create(&threads[i], NULL, worker, &jobs[i]) == 0);
  }
  int ops = 0;
  for (int i = 0; i < THREADS; i++) {
    CHECK(pthread_join(threads[i], NULL) == 0);
    CHECK(jobs[i].failures == 0);
    ops += jobs[i].operations;
  }
  CHECK(ops > THREADS * ROUNDS * 5);

  /* Every thread's key was written: 1 shared + THREADS own keys. */
  sr_bytes j = SR_BYTES_INIT;
  CHECK_OK(sr_list_keys(ks, 1000, NULL, &j));
  int keys = 0;
  for (const char *p = (const char *)j.ptr; p && (p = strstr(p, "\"KeyId\"")) != NULL; p++)
    keys++;
  CHECK(keys == THREADS + 1);
  sr_bytes_free(&j);

  sr_keystore_free(ks);
  remove_temp_dir(dir);
  printf("test_threads: %d threads x %d rounds, %d thread operations\n", THREADS, ROUNDS, ops);
  return finish("test_threads");
}
