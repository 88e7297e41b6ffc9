/* The keystore anchor from C (docs/FORMAT.md, "Keystore anchor",
 * "Anchored keystores"): sr_keystore_create_with_anchor() anchors the
 * keystore; sr_keystore_open() without it is SR_KMS_INVALID_STATE and
 * changes nothing; sr_keystore_open_with_anchor() with the anchor,
 * SR_ANCHOR_INIT for a missing one, SR_ANCHOR_REINIT to re-anchor an
 * anchored keystore (audited), SR_WITHOUT_ANCHOR to opt out (audited);
 * a keystore put back to an earlier state is refused; the import of an
 * anchored export needs a new anchor or the opt-out; sr_keystore_remove_anchor();
 * sr_keystore_open_as_principal(): the open's own events act for its principal. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

static uint8_t ROOT[32];
static char dir[512];

static void target(char *buf, size_t len, const char *name) { snprintf(buf, len, "%s/%s", dir, name); }

static int exists(const char *p) { return access(p, F_OK) == 0; }

/* The whole file at `p` into a malloc'd buffer (`*len` bytes); NULL if absent. */
static uint8_t *slurp(const char *p, size_t *len) {
  FILE *f = fopen(p, "rb");
  if (f == NULL)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
  *len = fread(b, 1, (size_t)n, f);
  fclose(f);
  return b;
}

static void spill(const char *p, const uint8_t *b, size_t len) {
  FILE *f = fopen(p, "wb");
  if (f == NULL || fwrite(b, 1, len, f) != len) {
    perror(p);
    exit(2);
  }
  fclose(f);
}

/* Whether the file at `p` holds `needle`. */
static int contains(const char *p, const char *needle) {
  size_t n = 0;
  uint8_t *b = slurp(p, &n);
  int found = 0;
  if (b != NULL) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n && !found; i++)
      found = memcmp(b + i, needle, k) == 0;
  }
  free(b);
  return found;
}

int main(void) {
  memset(ROOT, 0x24, sizeof ROOT);
  make_temp_dir(dir, sizeof dir);
  char path[700], anchor[700], log[720], wal[720], copy[700], copy_anchor[700], opted[700];
  target(path, sizeof path, "ks.db");
  target(anchor, sizeof anchor, "ks.anchor");
  snprintf(log, sizeof log, "%s.audit.jsonl", path);
  snprintf(wal, sizeof wal, "%s-wal", path);
  target(copy, sizeof copy, "copy.db");
  target(copy_anchor, sizeof copy_anchor, "copy.anchor");
  target(opted, sizeof opted, "opted.db");

  sr_keystore *ks = NULL, *none = NULL;
  REQUIRE_OK(sr_keystore_create_with_anchor(path, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, NULL, NULL, anchor, &ks));
  CHECK(exists(anchor));
  char key[SR_KEY_ID_LEN];
  size_t n = 0;
  REQUIRE_OK(sr_create_key(ks, "anchored", NULL, NULL, key, sizeof key, &n));
  sr_keystore_free(ks);
  ks = NULL;

  /* Without the anchor: refused, and no byte of the keystore changes. */
  size_t log_len = 0, anchor_len = 0;
  uint8_t *log_before = slurp(log, &log_len);
  uint8_t *anchor_before = slurp(anchor, &anchor_len);
  CHECK_RC(sr_keystore_open(path, SR_ROOT_KEY_BYTES, ROOT, 32, &none), SR_KMS_INVALID_STATE);
  CHECK_RC(sr_keystore_open_with_anchor(path, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, 0, &none), SR_KMS_INVALID_STATE);
  CHECK(none == NULL);
  size_t log_after_len = 0;
  uint8_t *log_after = slurp(log, &log_after_len);
  CHECK(log_after != NULL && log_after_len == log_len && memcmp(log_before, log_after, log_len) == 0);
  free(log_after);

  /* Misuse of the flags. */
  CHECK_RC(sr_keystore_open_with_anchor(path, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, SR_WITHOUT_ANCHOR, &none),
           SR_VALIDATION);
  CHECK_RC(sr_keystore_open_with_anchor(path, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, SR_ANCHOR_INIT, &none),
           SR_VALIDATION);
  CHECK_RC(sr_keystore_open_with_anchor(path, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, 8, &none), SR_VALIDATION);
  CHECK_RC(sr_keystore_open_with_anchor(path, SR_ROOT_KEY_BYTES, ROOT, 32, "/dev/null", 0, &none), SR_VALIDATION);
  CHECK_RC(sr_keystore_open_with_anchor(path, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, 0, NULL), SR_NULL_PARAMETER);
  CHECK(none == NULL);

  /* A write with the anchor, then the keystore put back: refused. */
  size_t ks_len = 0, wal_len = 0;
  uint8_t *ks_saved = slurp(path, &ks_len);
  uint8_t *wal_saved = slurp(wal, &wal_len);
  REQUIRE_OK(sr_keystore_open_with_anchor(path, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, 0, &ks));
  CHECK_OK(sr_disable_key(ks, key));
  sr_keystore_free(ks);
  ks = NULL;
  spill(path, ks_saved, ks_len);
  if (wal_saved != NULL)
    spill(wal, wal_saved, wal_len);
  spill(log, log_before, log_len);
  CHECK_RC(sr_keystore_open_with_anchor(path, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, 0, &none), SR_KMS_INTERNAL);
  CHECK_RC(sr_keystore_open(path, SR_ROOT_KEY_BYTES, ROOT, 32, &none), SR_KMS_INVALID_STATE);
  CHECK(none == NULL);

  /* Opting out opens it (audited); remove_anchor needs the anchor. */
  REQUIRE_OK(sr_keystore_open_with_anchor(path, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, SR_WITHOUT_ANCHOR, &ks));
  CHECK_RC(sr_keystore_remove_anchor(ks), SR_VALIDATION);
  CHECK_RC(sr_keystore_remove_anchor(NULL), SR_NULL_PARAMETER);
  sr_keystore_free(ks);
  ks = NULL;
  CHECK(contains(log, "OpenKeystoreWithoutAnchor"));

  /* A lost anchor: SR_ANCHOR_INIT does not re-anchor an anchored keystore
   * (nothing created); SR_ANCHOR_REINIT does, audited, and the earlier
   * anchor (its record kept aside) is refused after. */
  size_t old_anchor_len = 0;
  uint8_t *old_anchor = slurp(anchor, &old_anchor_len);
  remove(anchor);
  CHECK_RC(sr_keystore_open_with_anchor(path, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, 0, &none), SR_KMS_INTERNAL);
  CHECK_RC(sr_keystore_open_with_anchor(path, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, SR_ANCHOR_INIT, &none),
           SR_KMS_INVALID_STATE);
  CHECK(!exists(anchor) && none == NULL);
  CHECK_RC(sr_keystore_open_with_anchor(path, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, SR_ANCHOR_REINIT, &none),
           SR_VALIDATION);
  REQUIRE_OK(sr_keystore_open_with_anchor(path, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, SR_ANCHOR_REINIT, &ks));
  CHECK(contains(log, "ReinitializeKeystoreAnchor"));
  target(copy_anchor, sizeof copy_anchor, "old.anchor");
  if (old_anchor != NULL)
    spill(copy_anchor, old_anchor, old_anchor_len);
  CHECK_RC(sr_keystore_open_with_anchor(path, SR_ROOT_KEY_BYTES, ROOT, 32, copy_anchor, 0, &none),
           SR_KMS_INVALID_STATE);
  CHECK(none == NULL);
  free(old_anchor);
  target(copy_anchor, sizeof copy_anchor, "copy.anchor");

  /* Export and import keep the anchoring. */
  sr_bytes sealed = SR_BYTES_INIT;
  REQUIRE_OK(sr_keystore_export_sealed(ks, &sealed));
  CHECK_RC(sr_keystore_import_sealed(copy, sealed.ptr, sealed.len, SR_ROOT_KEY_BYTES, ROOT, 32, &none),
           SR_KMS_INVALID_STATE);
  CHECK(!exists(copy));
  CHECK_RC(sr_keystore_import_sealed_with_anchor(copy, sealed.ptr, sealed.len, SR_ROOT_KEY_BYTES, ROOT, 32, anchor, 0,
                                                 &none),
           SR_ALREADY_EXISTS);
  CHECK(!exists(copy) && none == NULL);
  sr_keystore *imported = NULL;
  REQUIRE_OK(sr_keystore_import_sealed_with_anchor(copy, sealed.ptr, sealed.len, SR_ROOT_KEY_BYTES, ROOT, 32,
                                                   copy_anchor, 0, &imported));
  sr_keystore_free(imported);
  imported = NULL;
  CHECK(exists(copy_anchor));
  CHECK_RC(sr_keystore_open(copy, SR_ROOT_KEY_BYTES, ROOT, 32, &none), SR_KMS_INVALID_STATE);
  REQUIRE_OK(sr_keystore_import_sealed_with_anchor(opted, sealed.ptr, sealed.len, SR_ROOT_KEY_BYTES, ROOT, 32, NULL,
                                                   SR_WITHOUT_ANCHOR, &imported));
  sr_keystore_free(imported);
  imported = NULL;
  CHECK_RC(sr_keystore_open(opted, SR_ROOT_KEY_BYTES, ROOT, 32, &none), SR_KMS_INVALID_STATE);
  CHECK(none == NULL);

  /* Removing the anchoring: afterwards sr_keystore_open() works. */
  CHECK_OK(sr_keystore_remove_anchor(ks));
  sr_keystore_free(ks);
  ks = NULL;
  REQUIRE_OK(sr_keystore_open(path, SR_ROOT_KEY_BYTES, ROOT, 32, &ks));
  sr_keystore_free(ks);
  CHECK(contains(log, "RemoveKeystoreAnchor"));

  /* The open's own events act for the principal of
   * sr_keystore_open_as_principal(); one that is not an ARN is refused
   * before anything is written. */
  const char *op_arn = "arn:aws:iam::000000000000:user/operator";
  char who[700], who_anchor[700], who_log[720];
  target(who, sizeof who, "who.db");
  target(who_anchor, sizeof who_anchor, "who.anchor");
  snprintf(who_log, sizeof who_log, "%s.audit.jsonl", who);
  REQUIRE_OK(sr_keystore_create_with_anchor(who, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, NULL, NULL, who_anchor, &ks));
  sr_keystore_free(ks);
  ks = NULL;
  size_t who_len = 0;
  uint8_t *who_before = slurp(who_log, &who_len);
  CHECK_RC(sr_keystore_open_as_principal(who, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, SR_WITHOUT_ANCHOR, "111122223333",
                                         &none),
           SR_VALIDATION);
  CHECK_RC(sr_keystore_open_as_principal(who, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, SR_WITHOUT_ANCHOR, "", &none),
           SR_VALIDATION);
  CHECK(none == NULL);
  size_t who_after_len = 0;
  uint8_t *who_after = slurp(who_log, &who_after_len);
  CHECK((who_before == NULL && who_after == NULL) ||
        (who_before != NULL && who_after != NULL && who_after_len == who_len &&
         memcmp(who_before, who_after, who_len) == 0));
  free(who_after);
  free(who_before);
  REQUIRE_OK(
      sr_keystore_open_as_principal(who, SR_ROOT_KEY_BYTES, ROOT, 32, NULL, SR_WITHOUT_ANCHOR, op_arn, &ks));
  char acting[300];
  CHECK_OK(sr_keystore_principal(ks, acting, sizeof acting, &n));
  CHECK(strcmp(acting, op_arn) == 0);
  sr_bytes events = SR_BYTES_INIT;
  CHECK_OK(sr_audit_events(ks, NULL, "OpenKeystoreWithoutAnchor", op_arn, NULL, NULL, &events));
  CHECK(events.ptr != NULL && strstr((const char *)events.ptr, "\"eventName\":\"OpenKeystoreWithoutAnchor\"") != NULL);
  sr_bytes_free(&events);
  CHECK_OK(sr_audit_events(ks, NULL, "OpenKeystoreWithoutAnchor", "arn:aws:iam::000000000000:root", NULL, NULL,
                           &events));
  CHECK(events.ptr != NULL && strcmp((const char *)events.ptr, "[]") == 0);
  sr_bytes_free(&events);
  sr_keystore_free(ks);
  ks = NULL;
  /* NULL: the administrator, as sr_keystore_open_with_anchor(). */
  REQUIRE_OK(sr_keystore_open_as_principal(who, SR_ROOT_KEY_BYTES, ROOT, 32, who_anchor, 0, NULL, &ks));
  CHECK_OK(sr_keystore_principal(ks, acting, sizeof acting, &n));
  CHECK(strcmp(acting, "arn:aws:iam::000000000000:root") == 0);
  sr_keystore_free(ks);
  ks = NULL;

  sr_bytes_free(&sealed);
  free(ks_saved);
  free(wal_saved);
  free(log_before);
  free(anchor_before);
  remove_temp_dir(dir);
  return finish("test_anchor");
}
