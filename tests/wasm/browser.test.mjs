// A real browser: Debian's headless Chromium, driven by playwright-core,
// loads a page from a localhost static server; the page imports the
// package's web build, creates a key, encrypts, decrypts, exports and
// re-imports the keystore, signs and verifies an envelope message, checks
// a KMS ECDSA signature with WebCrypto, sees a freed handle throw,
// encrypts with RSAES-OAEP (in wasm and in the browser's WebCrypto) and
// decrypts in wasm, and reports back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '../../bindings/wasm/pkg');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// How long the browser's start, the page's load and its run may take before
// the test fails as hung (not a measure of speed).
const HANG_BOUND_MS = 300_000;
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

function serve() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const file = url.pathname === '/'
      ? path.join(here, 'browser/page.html')
      : url.pathname.startsWith('/pkg/') ? path.join(pkg, url.pathname.slice(5)) : null;
    if (!file || !file.startsWith(pkg) && !file.startsWith(here) || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('headless Chromium runs the web build', { skip: !fs.existsSync(CHROMIUM) && `no ${CHROMIUM}` }, async () => {
  const server = await serve();
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strongroom-chromium-'));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: HANG_BOUND_MS,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
  try {
    const page = browser.pages()[0] || await browser.newPage();
    // Bounds that only keep a broken build from hanging the run: on a
    // loaded machine the page (the wasm module compiled, an RSA 2048 key
    // generated, whose prime search takes a random time) can take far
    // longer than Playwright's 30 s defaults.
    page.setDefaultTimeout(HANG_BOUND_MS);
    page.setDefaultNavigationTimeout(HANG_BOUND_MS);
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => window.__strongroom !== undefined, null, { timeout: HANG_BOUND_MS });
    const r = await page.evaluate(() => window.__strongroom);
    assert.deepEqual(errors, []);
    assert.equal(r.ok, true, r.error);
    console.log(`# browser: ${r.userAgent}`);
    assert.match(r.userAgent, /HeadlessChrome|Chrome/);
    assert.equal(r.decrypted, 'hello from chromium');
    assert.equal(r.wrongContextCode, 'InvalidCiphertextException');
    assert.equal(r.importedDecrypted, 'hello from chromium');
    assert.equal(r.kmsSignatureVerified, true);
    assert.equal(r.webCryptoVerified, true);
    assert.equal(r.freedCode, 'ValidationException');
    assert.equal(r.notBytesCode, 'ValidationException');
    assert.equal(r.rsaOaep, 'oaep in chromium');
    assert.equal(r.rsaOaepLength, 256);
    assert.equal(r.rsaOaepFromWebCrypto, 'from webcrypto');
    assert.equal(r.envelope, 'signed message');
    assert.equal(r.envelopeSuite, 'AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384');
    assert.equal(r.tamperedSignatureCode, 'InvalidCiphertextException');
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
});
