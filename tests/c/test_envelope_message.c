/* One-call envelope messages in memory: sr_envelope_encrypt_message*,
 * sr_envelope_decrypt_message* (KMS and raw AES keyrings, sr_bytes and
 * caller-buffer outputs), against the streaming calls, a message made by
 * another AWS Encryption SDK, and every error path (tampering, wrong
 * context, limits, small buffers, NULL arguments), checking that failures
 * leave outputs untouched. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

static const uint8_t WRAP[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const char *NS = "strongroom-ctest";
static const char *NAME = "file-key";
static const char *CK[] = {"file", "owner"};
static const char *CV[] = {"data.bin", "alice"};

/* A growable memory buffer used as a stream (read and write callbacks). */
typedef struct {
  uint8_t *data;
  size_t len, cap, pos;
} membuf;

static int mem_write(void *user, const uint8_t *buf, size_t len) {
  membuf *m = user;
  if (m->len + len > m->cap) {
    size_t cap = (m->len + len) * 2;
    uint8_t *p = realloc(m->data, cap);
    if (p == NULL)
      return -1;
    m->data = p;
    m->cap = cap;
  }
  memcpy(m->data + m->len, buf, len);
  m->len += len;
  return 0;
}

static int mem_read(void *user, uint8_t *buf, size_t len, size_t *out_read) {
  membuf *m = user;
  size_t n = m->len - m->pos < len ? m->len - m->pos : len;
  memcpy(buf, m->data + m->pos, n);
  m->pos += n;
  *out_read = n;
  return 0;
}

static void fill(uint8_t *p, size_t n, unsigned seed) {
  srand(seed);
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(rand() & 0xff);
}

/* Whether all `n` bytes of `p` are `v`. */
static int all_bytes(const uint8_t *p, size_t n, uint8_t v) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != v)
      return 0;
  return 1;
}

static sr_keystore *new_keystore(const char *dir, char *key1, char *key2) {
  char path[600];
  snprintf(path, sizeof path, "%s/message.db", dir);
  uint8_t root[32];
  memset(root, 0x42, sizeof root);
  sr_keystore *ks = NULL;
  REQUIRE_OK(sr_keystore_create(path, SR_ROOT_KEY_BYTES, root, sizeof root, NULL, NULL, &ks));
  size_t n = 0;
  REQUIRE_OK(sr_create_key(ks, "message one", NULL, NULL, key1, SR_KEY_ID_LEN, &n));
  REQUIRE_OK(sr_create_key(ks, "message two", NULL, NULL, key2, SR_KEY_ID_LEN, &n));
  return ks;
}

/* Round trips over sizes around the frame boundaries, both suites, both
 * output kinds; each message also decrypts with the streaming call, and a
 * streamed message decrypts with the one-call function. */
static void test_round_trips(sr_keystore *ks, const char *k1, const char *k2) {
  const char *keys[] = {k1, k2};
  const size_t sizes[] = {0, 1, 999, 1000, 1001, 4096, 4097, 70000};
  const uint16_t suites[] = {0, 0x0478, 0x0578};
  const uint32_t frames[] = {0, 1000};
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
    for (size_t su = 0; su < 3; su++)
      for (size_t fi = 0; fi < 2; fi++) {
        size_t n = sizes[si];
        uint8_t *plain = malloc(n + 1);
        fill(plain, n, (unsigned)(n + su));
        sr_bytes msg = SR_BYTES_INIT, pt = SR_BYTES_INIT;
        CHECK_OK(sr_envelope_encrypt_message(ks, keys, 2, CK, CV, 2, frames[fi], suites[su], plain, n, &msg));
        CHECK(msg.len > n);
        CHECK_OK(sr_envelope_decrypt_message(ks, NULL, 0, NULL, msg.ptr, msg.len, &pt));
        CHECK(pt.len == n && (n == 0 || memcmp(pt.ptr, plain, n) == 0));
        sr_bytes_free(&pt);
        /* Strict keyring over the second key only. */
        CHECK_OK(sr_envelope_decrypt_message(ks, keys + 1, 1, NULL, msg.ptr, msg.len, &pt));
        CHECK(pt.len == n);
        sr_bytes_free(&pt);

        /* The streaming decrypt reads the one-call message... */
        membuf in = {msg.ptr, msg.len, msg.len, 0}, out = {0};
        CHECK_OK(sr_envelope_decrypt(ks, NULL, 0, NULL, NULL, 0, 0, mem_read, &in, mem_write, &out));
        CHECK(out.len == n && (n == 0 || memcmp(out.data, plain, n) == 0));
        free(out.data);

        /* ...and the one-call decrypt reads the streamed message, which has
         * the same length for the unsigned suite (the signed suite's DER
         * signature varies in length; both fit the size a query reports,
         * checked below). */
        membuf pin = {plain, n, n, 0}, streamed = {0};
        CHECK_OK(sr_envelope_encrypt(ks, keys, 2, CK, CV, 2, frames[fi], suites[su], mem_read, &pin, mem_write,
                                     &streamed));
        if (suites[su] == 0x0478)
          CHECK(streamed.len == msg.len);
        CHECK_OK(sr_envelope_decrypt_message(ks, NULL, 0, NULL, streamed.data, streamed.len, &pt));
        CHECK(pt.len == n && (n == 0 || memcmp(pt.ptr, plain, n) == 0));
        sr_bytes_free(&pt);

        /* Caller buffers: a size query, then the size it reported. */
        size_t need = 0, got = 0;
        CHECK_RC(sr_envelope_encrypt_message_into(ks, keys, 2, CK, CV, 2, frames[fi], suites[su], plain, n, NULL, 0,
                                                  &need),
                 SR_BUFFER_TOO_SMALL);
        /* An upper bound (exact for 0x0478) of every message of these
         * arguments: the one-call and the streamed one. */
        CHECK(need >= msg.len && need >= streamed.len);
        if (suites[su] == 0x0478)
          CHECK(need == msg.len);
        uint8_t *buf = malloc(need + 8);
        memset(buf, 0xAA, need + 8);
        CHECK_OK(sr_envelope_encrypt_message_into(ks, keys, 2, CK, CV, 2, frames[fi], suites[su], plain, n, buf, need,
                                                  &got));
        CHECK(got <= need && all_bytes(buf + need, 8, 0xAA));
        if (suites[su] == 0x0478)
          CHECK(got == need);
        uint8_t *pbuf = malloc(got);
        size_t plen = 0;
        CHECK_OK(sr_envelope_decrypt_message_into(ks, NULL, 0, NULL, buf, got, pbuf, got, &plen));
        CHECK(plen == n && (n == 0 || memcmp(pbuf, plain, n) == 0));
        /* Exact plaintext size; one byte less is too small, nothing written. */
        if (n > 0) {
          memset(pbuf, 0xAA, got);
          size_t want = 0;
          CHECK_RC(sr_envelope_decrypt_message_into(ks, NULL, 0, NULL, buf, got, pbuf, n - 1, &want),
                   SR_BUFFER_TOO_SMALL);
          CHECK(want == n && all_bytes(pbuf, got, 0xAA));
          CHECK_OK(sr_envelope_decrypt_message_into(ks, NULL, 0, NULL, buf, got, pbuf, n, &plen));
          CHECK(plen == n && memcmp(pbuf, plain, n) == 0);
        }
        free(pbuf);
        free(buf);
        free(streamed.data);
        sr_bytes_free(&msg);
        free(plain);
      }
}

/* Whether each of the `n` bytes of `p` is 0 (written, then wiped) or `v`
 * (untouched): no plaintext left. */
static int no_plaintext(const uint8_t *p, size_t n, uint8_t v) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != 0 && p[i] != v)
      return 0;
  return 1;
}

/* Flips one byte at `off` of a copy of `m`; the decrypt calls fail with
 * SR_INVALID_CIPHERTEXT, write no sr_bytes and leave no plaintext in a
 * caller buffer (what the in-place decryption wrote is zero again). */
static void check_tampered(sr_keystore *ks, const sr_bytes *m, size_t off) {
  uint8_t *bad = malloc(m->len);
  memcpy(bad, m->ptr, m->len);
  bad[off] ^= 0x01;
  sr_bytes pt = SR_BYTES_INIT;
  CHECK_RC(sr_envelope_decrypt_message(ks, NULL, 0, NULL, bad, m->len, &pt), SR_INVALID_CIPHERTEXT);
  CHECK(pt.ptr == NULL && pt.len == 0);
  uint8_t *buf = malloc(m->len);
  memset(buf, 0xAA, m->len);
  size_t got = 12345;
  CHECK_RC(sr_envelope_decrypt_message_into(ks, NULL, 0, NULL, bad, m->len, buf, m->len, &got),
           SR_INVALID_CIPHERTEXT);
  CHECK(got == 12345 && no_plaintext(buf, m->len, 0xAA));
  memset(buf, 0xAA, m->len);
  /* A size query or a small buffer: the message is checked first, so the
   * answer is the tampering, not a size. */
  CHECK_RC(sr_envelope_decrypt_message_into(ks, NULL, 0, NULL, bad, m->len, NULL, 0, &got), SR_INVALID_CIPHERTEXT);
  CHECK_RC(sr_envelope_decrypt_message_into(ks, NULL, 0, NULL, bad, m->len, buf, 3, &got), SR_INVALID_CIPHERTEXT);
  CHECK(got == 12345 && all_bytes(buf, m->len, 0xAA));
  free(buf);
  free(bad);
}

static void test_errors(sr_keystore *ks, const char *k1, const char *k2) {
  const char *keys[] = {k1};
  uint8_t plain[10000];
  fill(plain, sizeof plain, 3);
  sr_bytes msg = SR_BYTES_INIT, pt = SR_BYTES_INIT, unsigned_msg = SR_BYTES_INIT;
  REQUIRE_OK(sr_envelope_encrypt_message(ks, keys, 1, CK, CV, 2, 1000, 0, plain, sizeof plain, &msg));
  REQUIRE_OK(
      sr_envelope_encrypt_message(ks, keys, 1, CK, CV, 2, 1000, 0x0478, plain, sizeof plain, &unsigned_msg));

  /* A flipped byte anywhere: the header, the first frame, the middle, the
   * final frame, the signature. */
  const size_t offs[] = {0, 5, 300, msg.len / 2, msg.len - 150, msg.len - 1};
  for (size_t i = 0; i < sizeof offs / sizeof *offs; i++)
    check_tampered(ks, &msg, offs[i]);
  check_tampered(ks, &unsigned_msg, unsigned_msg.len / 2);
  check_tampered(ks, &unsigned_msg, unsigned_msg.len - 1);
  /* Truncated (by one byte, to the header) and followed by another byte. */
  CHECK_RC(sr_envelope_decrypt_message(ks, NULL, 0, NULL, msg.ptr, msg.len - 1, &pt), SR_INVALID_CIPHERTEXT);
  CHECK_RC(sr_envelope_decrypt_message(ks, NULL, 0, NULL, unsigned_msg.ptr, unsigned_msg.len - 1, &pt),
           SR_INVALID_CIPHERTEXT);
  CHECK_RC(sr_envelope_decrypt_message(ks, NULL, 0, NULL, msg.ptr, 100, &pt), SR_INVALID_CIPHERTEXT);
  CHECK_RC(sr_envelope_decrypt_message(ks, NULL, 0, NULL, msg.ptr, 0, &pt), SR_INVALID_CIPHERTEXT);
  uint8_t *longer = malloc(msg.len + 1);
  memcpy(longer, msg.ptr, msg.len);
  longer[msg.len] = 0;
  CHECK_RC(sr_envelope_decrypt_message(ks, NULL, 0, NULL, longer, msg.len + 1, &pt), SR_INVALID_CIPHERTEXT);
  free(longer);
  CHECK(pt.ptr == NULL);

  /* Required context: a matching pair passes, a wrong value or a missing
   * key fails, with nothing released. */
  sr_envelope_decrypt_options o = {0};
  const char *rk[] = {"owner"}, *rv[] = {"alice"}, *rv_bad[] = {"mallory"}, *rk_bad[] = {"tenant"};
  o.required_ctx_keys = rk;
  o.required_ctx_values = rv;
  o.required_ctx_len = 1;
  CHECK_OK(sr_envelope_decrypt_message(ks, NULL, 0, &o, msg.ptr, msg.len, &pt));
  CHECK(pt.len == sizeof plain && memcmp(pt.ptr, plain, sizeof plain) == 0);
  sr_bytes_free(&pt);
  o.required_ctx_values = rv_bad;
  CHECK_RC(sr_envelope_decrypt_message(ks, NULL, 0, &o, msg.ptr, msg.len, &pt), SR_INVALID_CIPHERTEXT);
  o.required_ctx_keys = rk_bad;
  o.required_ctx_values = rv;
  CHECK_RC(sr_envelope_decrypt_message(ks, NULL, 0, &o, msg.ptr, msg.len, &pt), SR_INVALID_CIPHERTEXT);
  CHECK(pt.ptr == NULL);
  o.required_ctx_keys = NULL;
  CHECK_RC(sr_envelope_decrypt_message(ks, NULL, 0, &o, msg.ptr, msg.len, &pt), SR_NULL_PARAMETER);

  /* Unsigned-only refuses the signed message, reads the unsigned one. */
  sr_envelope_decrypt_options u = {0};
  u.unsigned_only = 1;
  CHECK_RC(sr_envelope_decrypt_message(ks, NULL, 0, &u, msg.ptr, msg.len, &pt), SR_VALIDATION);
  CHECK(pt.ptr == NULL && last_message_has("signed"));
  CHECK_OK(sr_envelope_decrypt_message(ks, NULL, 0, &u, unsigned_msg.ptr, unsigned_msg.len, &pt));
  CHECK(pt.len == sizeof plain);
  sr_bytes_free(&pt);
  /* An unknown commitment policy. */
  u.unsigned_only = 0;
  u.commitment_policy = 3;
  CHECK_RC(sr_envelope_decrypt_message(ks, NULL, 0, &u, msg.ptr, msg.len, &pt), SR_VALIDATION);

  /* A strict keyring over a key that did not wrap the data key. */
  const char *other[] = {k2};
  CHECK_RC(sr_envelope_decrypt_message(ks, other, 1, NULL, msg.ptr, msg.len, &pt), SR_INVALID_CIPHERTEXT);

  /* The encrypted-data-key limit: 11 EDKs refused by default, read with no limit. */
  const char *eleven[11];
  for (size_t i = 0; i < 11; i++)
    eleven[i] = k1;
  sr_bytes many = SR_BYTES_INIT;
  CHECK_OK(sr_envelope_encrypt_message(ks, eleven, 11, NULL, NULL, 0, 0, 0, plain, 10, &many));
  CHECK_RC(sr_envelope_decrypt_message(ks, NULL, 0, NULL, many.ptr, many.len, &pt), SR_VALIDATION);
  CHECK(last_message_has("more than the limit on encrypted data keys (10)"));
  sr_envelope_decrypt_options nolimit = {0};
  nolimit.max_encrypted_data_keys = SR_NO_MAX_ENCRYPTED_DATA_KEYS;
  CHECK_OK(sr_envelope_decrypt_message(ks, NULL, 0, &nolimit, many.ptr, many.len, &pt));
  CHECK(pt.len == 10);
  sr_bytes_free(&pt);
  sr_bytes_free(&many);

  /* Encryption arguments: no key, unknown key, disabled key, bad suite,
   * bad frame length, a reserved context key. */
  sr_bytes m = SR_BYTES_INIT;
  CHECK_RC(sr_envelope_encrypt_message(ks, NULL, 0, NULL, NULL, 0, 0, 0, plain, 10, &m), SR_VALIDATION);
  const char *missing[] = {"11111111-2222-3333-4444-555555555555"};
  CHECK_RC(sr_envelope_encrypt_message(ks, missing, 1, NULL, NULL, 0, 0, 0, plain, 10, &m), SR_NOT_FOUND);
  CHECK_RC(sr_envelope_encrypt_message(ks, keys, 1, NULL, NULL, 0, 0, 0x0178, plain, 10, &m), SR_VALIDATION);
  CHECK_RC(sr_envelope_encrypt_message(ks, keys, 1, NULL, NULL, 0, 0x80000000u, 0, plain, 10, &m), SR_VALIDATION);
  const char *rsv_k[] = {"aws-crypto-public-key"}, *rsv_v[] = {"x"};
  CHECK_RC(sr_envelope_encrypt_message(ks, keys, 1, rsv_k, rsv_v, 1, 0, 0, plain, 10, &m), SR_VALIDATION);
  CHECK(m.ptr == NULL);
  size_t got = 777;
  uint8_t small[64];
  memset(small, 0xAA, sizeof small);
  CHECK_RC(sr_envelope_encrypt_message_into(ks, missing, 1, NULL, NULL, 0, 0, 0, plain, 10, small, sizeof small,
                                            &got),
           SR_NOT_FOUND);
  CHECK(got == 777 && all_bytes(small, sizeof small, 0xAA));
  /* Too small: nothing written, the size reported. */
  CHECK_RC(sr_envelope_encrypt_message_into(ks, keys, 1, NULL, NULL, 0, 0, 0x0478, plain, 10, small, sizeof small,
                                            &got),
           SR_BUFFER_TOO_SMALL);
  CHECK(got > sizeof small && all_bytes(small, sizeof small, 0xAA));

  CHECK_OK(sr_disable_key(ks, k2));
  const char *disabled[] = {k2};
  CHECK_RC(sr_envelope_encrypt_message(ks, disabled, 1, NULL, NULL, 0, 0, 0, plain, 10, &m), SR_DISABLED);
  CHECK_OK(sr_enable_key(ks, k2));

  /* NULL arguments. */
  CHECK_RC(sr_envelope_encrypt_message(NULL, keys, 1, NULL, NULL, 0, 0, 0, plain, 10, &m), SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_encrypt_message(ks, keys, 1, NULL, NULL, 0, 0, 0, plain, 10, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_encrypt_message(ks, keys, 1, NULL, NULL, 0, 0, 0, NULL, 10, &m), SR_NULL_PARAMETER);
  CHECK(last_message_has("plaintext"));
  CHECK_RC(sr_envelope_encrypt_message(ks, NULL, 1, NULL, NULL, 0, 0, 0, plain, 10, &m), SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_encrypt_message(ks, keys, 1, CK, NULL, 2, 0, 0, plain, 10, &m), SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_encrypt_message_into(ks, keys, 1, NULL, NULL, 0, 0, 0, plain, 10, small, sizeof small, NULL),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_encrypt_message_into(ks, keys, 1, NULL, NULL, 0, 0, 0, plain, 10, NULL, 100, &got),
           SR_NULL_PARAMETER);
  CHECK(last_message_has("buf"));
  CHECK_RC(sr_envelope_decrypt_message(NULL, NULL, 0, NULL, msg.ptr, msg.len, &pt), SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_decrypt_message(ks, NULL, 0, NULL, NULL, msg.len, &pt), SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_decrypt_message(ks, NULL, 0, NULL, msg.ptr, msg.len, NULL), SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_decrypt_message_into(ks, NULL, 0, NULL, msg.ptr, msg.len, small, sizeof small, NULL),
           SR_NULL_PARAMETER);
  CHECK_RC(sr_envelope_decrypt_message_into(ks, NULL, 0, NULL, msg.ptr, msg.len, NULL, 5, &got), SR_NULL_PARAMETER);
  CHECK(m.ptr == NULL && pt.ptr == NULL);
  /* Plaintext too large for the small buffer: the exact size. */
  CHECK_RC(sr_envelope_decrypt_message_into(ks, NULL, 0, NULL, msg.ptr, msg.len, small, sizeof small, &got),
           SR_BUFFER_TOO_SMALL);
  CHECK(got == sizeof plain && all_bytes(small, sizeof small, 0xAA));

  sr_bytes_free(&msg);
  sr_bytes_free(&unsigned_msg);
}

/* The in-place decryption (an sr_bytes allocated at the plaintext's
 * length, a caller buffer that holds it) with a message that fails only
 * after every frame but the last, or the last too, has been decrypted: a
 * tampered last frame, final-frame length or signature. Nothing is
 * returned, every byte written to a caller buffer is zero again, the
 * bytes past the plaintext untouched (Valgrind: nothing leaked). */
static void test_late_failures(sr_keystore *ks, const char *k1) {
  const char *keys[] = {k1};
  enum { N = 10000, FL = 1000 };
  static uint8_t plain[N];
  fill(plain, sizeof plain, 9);
  for (int signed_suite = 0; signed_suite < 2; signed_suite++) {
    uint16_t suite = signed_suite ? 0x0578 : 0x0478;
    sr_bytes msg = SR_BYTES_INIT, raw = SR_BYTES_INIT;
    REQUIRE_OK(sr_envelope_encrypt_message(ks, keys, 1, CK, CV, 2, FL, suite, plain, N, &msg));
    REQUIRE_OK(sr_envelope_encrypt_message_raw_aes(NS, NAME, WRAP, 32, CK, CV, 2, FL, suite, plain, N, &raw));
    const sr_bytes *both[] = {&msg, &raw};
    for (int r = 0; r < 2; r++) {
      const sr_bytes *m = both[r];
      /* The footer (signed suite) is 2 bytes of length and the DER
       * signature (at most 104 bytes): found from the end. The final frame
       * (4 + 4 + 12 + 4 + 1000 + 16 bytes) ends where it starts. */
      size_t body_end = m->len;
      if (signed_suite) {
        for (size_t sig = 64; sig <= 104; sig++) {
          size_t at = m->len - 2 - sig;
          if (((size_t)m->ptr[at] << 8 | m->ptr[at + 1]) == sig) {
            body_end = at;
            break;
          }
        }
      }
      size_t final_frame = body_end - (4 + 4 + 12 + 4 + FL + 16);
      size_t offs[4] = {final_frame + 30, body_end - 1, final_frame + 23, 0};
      size_t n_offs = 3;
      if (signed_suite)
        offs[n_offs++] = m->len - 1;
      for (size_t i = 0; i < n_offs; i++) {
        uint8_t *bad = malloc(m->len);
        memcpy(bad, m->ptr, m->len);
        bad[offs[i]] ^= 0x01;
        sr_bytes pt = SR_BYTES_INIT;
        uint8_t *buf = malloc(m->len);
        memset(buf, 0xAA, m->len);
        size_t got = 777;
        if (r == 0) {
          CHECK_RC(sr_envelope_decrypt_message(ks, NULL, 0, NULL, bad, m->len, &pt), SR_INVALID_CIPHERTEXT);
          CHECK_RC(sr_envelope_decrypt_message_into(ks, NULL, 0, NULL, bad, m->len, buf, m->len, &got),
                   SR_INVALID_CIPHERTEXT);
        } else {
          CHECK_RC(sr_envelope_decrypt_message_raw_aes(NS, NAME, WRAP, 32, NULL, bad, m->len, &pt),
                   SR_INVALID_CIPHERTEXT);
          CHECK_RC(sr_envelope_decrypt_message_raw_aes_into(NS, NAME, WRAP, 32, NULL, bad, m->len, buf, m->len, &got),
                   SR_INVALID_CIPHERTEXT);
        }
        CHECK(pt.ptr == NULL && pt.len == 0 && got == 777);
        /* Nine frames decrypted before the last one failed: written, then
         * wiped; a changed final-frame length (offset 23) fails that frame
         * too. */
        CHECK(all_bytes(buf, N - FL, 0) && no_plaintext(buf, N, 0xAA));
        CHECK(all_bytes(buf + N, m->len - N, 0xAA));
        free(buf);
        free(bad);
      }
      /* The untampered message into a buffer of exactly the plaintext. */
      uint8_t *buf = malloc(N);
      size_t got = 0;
      if (r == 0)
        CHECK_OK(sr_envelope_decrypt_message_into(ks, NULL, 0, NULL, m->ptr, m->len, buf, N, &got));
      else
        CHECK_OK(sr_envelope_decrypt_message_raw_aes_into(NS, NAME, WRAP, 32, NULL, m->ptr, m->len, buf, N, &got));
      CHECK(got == N && memcmp(buf, plain, N) == 0);
      free(buf);
    }
    sr_bytes_free(&msg);
    sr_bytes_free(&raw);
  }
}

/* The raw AES keyring: round trips, the streaming raw AES calls read the
 * one-call message and the other way round, and a message made by another
 * AWS Encryption SDK (Python, tests/c/fixtures) decrypts. */
static void test_raw_aes(void) {
  uint8_t plain[5000];
  fill(plain, sizeof plain, 11);
  sr_bytes msg = SR_BYTES_INIT, pt = SR_BYTES_INIT;
  CHECK_OK(sr_envelope_encrypt_message_raw_aes(NS, NAME, WRAP, 32, CK, CV, 2, 1000, 0, plain, sizeof plain, &msg));
  CHECK_OK(sr_envelope_decrypt_message_raw_aes(NS, NAME, WRAP, 32, NULL, msg.ptr, msg.len, &pt));
  CHECK(pt.len == sizeof plain && memcmp(pt.ptr, plain, sizeof plain) == 0);
  sr_bytes_free(&pt);
  membuf in = {msg.ptr, msg.len, msg.len, 0}, out = {0};
  CHECK_OK(sr_envelope_decrypt_raw_aes(NS, NAME, WRAP, 32, NULL, NULL, 0, mem_read, &in, mem_write, &out));
  CHECK(out.len == sizeof plain && memcmp(out.data, plain, sizeof plain) == 0);
  free(out.data);
  /* Another wrapping key or name: not this keyring's message. */
  uint8_t wrong[32];
  memcpy(wrong, WRAP, 32);
  wrong[31] ^= 1;
  CHECK_RC(sr_envelope_decrypt_message_raw_aes(NS, NAME, wrong, 32, NULL, msg.ptr, msg.len, &pt),
           SR_INVALID_CIPHERTEXT);
  CHECK_RC(sr_envelope_decrypt_message_raw_aes(NS, "other", WRAP, 32, NULL, msg.ptr, msg.len, &pt),
           SR_INVALID_CIPHERTEXT);
  CHECK_RC(sr_envelope_decrypt_message_raw_aes(NS, NAME, WRAP, 33, NULL, msg.ptr, msg.len, &pt), SR_VALIDATION);
  CHECK(pt.ptr == NULL);

  membuf pin = {plain, sizeof plain, sizeof plain, 0}, streamed = {0};
  CHECK_OK(sr_envelope_encrypt_raw_aes(NS, NAME, WRAP, 32, CK, CV, 2, 1000, 0x0478, mem_read, &pin, mem_write,
                                       &streamed));
  size_t need = 0, got = 0;
  CHECK_RC(sr_envelope_encrypt_message_raw_aes_into(NS, NAME, WRAP, 32, CK, CV, 2, 1000, 0x0478, plain,
                                                    sizeof plain, NULL, 0, &need),
           SR_BUFFER_TOO_SMALL);
  CHECK(need == streamed.len);
  uint8_t *buf = malloc(need);
  CHECK_OK(sr_envelope_encrypt_message_raw_aes_into(NS, NAME, WRAP, 32, CK, CV, 2, 1000, 0x0478, plain, sizeof plain,
                                                    buf, need, &got));
  CHECK(got == need);
  uint8_t pbuf[sizeof plain];
  size_t plen = 0;
  CHECK_OK(sr_envelope_decrypt_message_raw_aes_into(NS, NAME, WRAP, 32, NULL, streamed.data, streamed.len, pbuf,
                                                    sizeof pbuf, &plen));
  CHECK(plen == sizeof plain && memcmp(pbuf, plain, sizeof plain) == 0);
  CHECK_OK(sr_envelope_decrypt_message_raw_aes_into(NS, NAME, WRAP, 32, NULL, buf, got, pbuf, sizeof pbuf, &plen));
  CHECK(plen == sizeof plain && memcmp(pbuf, plain, sizeof plain) == 0);
  free(buf);
  free(streamed.data);
  sr_bytes_free(&msg);

  /* Version 1 messages of the AWS Encryption SDK for Python. */
  FILE *f = fopen("tests/c/fixtures/esdk-0378.msg", "rb");
  FILE *e = fopen("tests/c/fixtures/esdk-legacy.txt", "rb");
  if (f == NULL || e == NULL) {
    fprintf(stderr, "cannot open tests/c/fixtures (run from the repository root)\n");
    g_fail++;
    return;
  }
  membuf esdk = {0}, expected = {0};
  uint8_t chunk[4096];
  size_t r;
  while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
    mem_write(&esdk, chunk, r);
  while ((r = fread(chunk, 1, sizeof chunk, e)) > 0)
    mem_write(&expected, chunk, r);
  fclose(f);
  fclose(e);
  CHECK_RC(sr_envelope_decrypt_message_raw_aes(NS, NAME, WRAP, 32, NULL, esdk.data, esdk.len, &pt), SR_VALIDATION);
  sr_envelope_decrypt_options o = {0};
  o.commitment_policy = SR_COMMITMENT_POLICY_REQUIRE_ENCRYPT_ALLOW_DECRYPT;
  CHECK_OK(sr_envelope_decrypt_message_raw_aes(NS, NAME, WRAP, 32, &o, esdk.data, esdk.len, &pt));
  CHECK(pt.len == expected.len && memcmp(pt.ptr, expected.data, expected.len) == 0);
  sr_bytes_free(&pt);
  o.unsigned_only = 1;
  CHECK_RC(sr_envelope_decrypt_message_raw_aes(NS, NAME, WRAP, 32, &o, esdk.data, esdk.len, &pt), SR_VALIDATION);
  free(esdk.data);
  free(expected.data);
}

/* A caller buffer overlapping the call's input is refused (SR_VALIDATION
 * naming `buf`) before any key is used, and nothing is written: the input
 * would be overwritten while it is read. */
static void test_overlap(sr_keystore *ks) {
  const char *missing[] = {"11111111-2222-3333-4444-555555555555"};
  uint8_t plain[3000], copy[3000];
  fill(plain, sizeof plain, 21);
  size_t mlen = sizeof plain + 1000;
  uint8_t *area = malloc(2 * mlen);
  memcpy(area, plain, sizeof plain);
  memcpy(copy, area, sizeof plain);
  size_t got = 4242;
  /* The same pointer, and a buffer starting inside the plaintext. */
  CHECK_RC(sr_envelope_encrypt_message_raw_aes_into(NS, NAME, WRAP, 32, NULL, NULL, 0, 1000, 0x0478, area,
                                                    sizeof plain, area, mlen, &got),
           SR_VALIDATION);
  CHECK(last_message_has("overlaps `plaintext`"));
  CHECK_RC(sr_envelope_encrypt_message_raw_aes_into(NS, NAME, WRAP, 32, NULL, NULL, 0, 1000, 0x0478, area,
                                                    sizeof plain, area + sizeof plain - 1, mlen, &got),
           SR_VALIDATION);
  /* The KMS keyring: refused before the key is looked up (not SR_NOT_FOUND). */
  CHECK_RC(sr_envelope_encrypt_message_into(ks, missing, 1, NULL, NULL, 0, 0, 0, area, sizeof plain, area + 10,
                                            mlen, &got),
           SR_VALIDATION);
  CHECK(got == 4242 && memcmp(area, copy, sizeof plain) == 0);
  /* Adjacent but disjoint: fine. */
  CHECK_OK(sr_envelope_encrypt_message_raw_aes_into(NS, NAME, WRAP, 32, NULL, NULL, 0, 1000, 0x0478, area,
                                                    sizeof plain, area + sizeof plain, mlen, &got));
  uint8_t *msg = area + sizeof plain;
  size_t msg_len = got;
  /* Decrypting in place, or into a buffer ending inside the message. */
  got = 4242;
  CHECK_RC(sr_envelope_decrypt_message_raw_aes_into(NS, NAME, WRAP, 32, NULL, msg, msg_len, msg, msg_len, &got),
           SR_VALIDATION);
  CHECK(last_message_has("overlaps `message`"));
  CHECK_RC(sr_envelope_decrypt_message_raw_aes_into(NS, NAME, WRAP, 32, NULL, msg, msg_len, area, sizeof plain + 1,
                                                    &got),
           SR_VALIDATION);
  CHECK_RC(sr_envelope_decrypt_message_into(ks, missing, 1, NULL, msg, msg_len, msg + 1, 5, &got), SR_VALIDATION);
  CHECK(got == 4242);
  CHECK_OK(sr_envelope_decrypt_message_raw_aes_into(NS, NAME, WRAP, 32, NULL, msg, msg_len, area, sizeof plain,
                                                    &got));
  CHECK(got == sizeof plain && memcmp(area, plain, sizeof plain) == 0);
  free(area);
}

/* Frame lengths go up to 256 MiB, the largest frame a streaming decryptor
 * buffers by default, so every message written decrypts with the defaults;
 * a larger one is refused before anything is written. (Messages of other
 * writers with larger frames decrypt in one call: the ESDK interop test.) */
static void test_large_frame_length(sr_keystore *ks, const char *k1) {
  const char *keys[] = {k1};
  uint8_t plain[100];
  fill(plain, sizeof plain, 5);
  sr_bytes msg = SR_BYTES_INIT, pt = SR_BYTES_INIT;
  REQUIRE_OK(sr_envelope_encrypt_message(ks, keys, 1, NULL, NULL, 0, 256u << 20, 0, plain, sizeof plain, &msg));
  CHECK_OK(sr_envelope_decrypt_message(ks, NULL, 0, NULL, msg.ptr, msg.len, &pt));
  CHECK(pt.len == sizeof plain && memcmp(pt.ptr, plain, sizeof plain) == 0);
  sr_bytes_free(&pt);
  uint8_t out[sizeof plain];
  size_t got = 0;
  CHECK_OK(sr_envelope_decrypt_message_into(ks, NULL, 0, NULL, msg.ptr, msg.len, out, sizeof out, &got));
  CHECK(got == sizeof plain && memcmp(out, plain, sizeof plain) == 0);
  sr_bytes_free(&msg);
  const uint32_t refused[] = {(256u << 20) + 1, 0x7FFFFFFFu};
  for (size_t i = 0; i < 2; i++) {
    CHECK_RC(sr_envelope_encrypt_message(ks, keys, 1, NULL, NULL, 0, refused[i], 0, plain, sizeof plain, &msg),
               SR_VALIDATION);
    CHECK(last_message_has("268435456 bytes"));
    CHECK(msg.ptr == NULL);
    CHECK_RC(sr_envelope_encrypt_message_raw_aes(NS, NAME, WRAP, 32, NULL, NULL, 0, refused[i], 0x0478, plain,
                                                   sizeof plain, &msg),
               SR_VALIDATION);
  }
}

int main(void) {
  char dir[512];
  make_temp_dir(dir, sizeof dir);
  char k1[SR_KEY_ID_LEN], k2[SR_KEY_ID_LEN];
  sr_keystore *ks = new_keystore(dir, k1, k2);
  test_round_trips(ks, k1, k2);
  test_errors(ks, k1, k2);
  test_late_failures(ks, k1);
  test_raw_aes();
  test_overlap(ks);
  test_large_frame_length(ks, k1);
  sr_keystore_free(ks);
  remove_temp_dir(dir);
  return finish("test_envelope_message");
}
