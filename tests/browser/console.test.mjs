// The web console in a real browser: the real merchgate binary on 127.0.0.1 (fresh temp DB,
// sandbox partners), Debian's headless Chromium driven by playwright-core.
//   node console.test.mjs <path/to/merchgate> [output-dir]
// Signs in, adds a Stripe adapter through the form generated from its schema, adds a product,
// creates a checkout through the API with the app key and watches its timeline reach fulfilled
// without reloading; saves screenshots in output-dir. Exit 0 pass, 1 fail, 77 skipped.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN_KEY = 'mgk_test_admin_console_0123456789abcdef';
const APP_KEY = 'mgk_test_app_console_0123456789abcdef01';
const MASTER_KEY = Buffer.alloc(32, 'k').toString('base64');
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function skip(why) {
  console.log('skipped: ' + why);
  process.exit(77);
}

const binary = process.argv[2] || process.env.MERCHGATE_BINARY;
const outDir = process.argv[3] || join(process.cwd(), 'test-output');
if (!binary || !existsSync(binary)) skip('no merchgate binary given (node console.test.mjs <merchgate> [out-dir])');
if (!existsSync(CHROMIUM)) skip(CHROMIUM + ' is missing: apt-get install -y chromium');
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  skip('playwright-core is not installed: run `npm ci` in tests/browser');
}

const dir = mkdtempSync(join(tmpdir(), 'merchgate-console-'));
mkdirSync(outDir, { recursive: true });
let gateway = null;
let browser = null;

// A hard bound on the whole test, whatever hangs.
const watchdog = setTimeout(() => {
  console.error('FAIL: the console test took longer than 150 s');
  cleanup();
  process.exit(1);
}, 150_000);

function cleanup() {
  try { if (gateway && gateway.exitCode === null) gateway.kill('SIGKILL'); } catch (e) { /* gone */ }
  try { rmSync(dir, { recursive: true, force: true }); } catch (e) { /* best effort */ }
}

async function until(what, fn, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startGateway() {
  const config = {
    listen: '127.0.0.1:0',
    storage: { url: 'sqlite:' + join(dir, 'merchgate.db') },
    data_dir: dir,
    log: { format: 'text', level: 'info' },
    jobs: { poll_ms: 50 },
    seed: {
      adapters: [
        { id: 'sandbox-pay', type: 'sandbox_payments',
          credentials: { webhook_secret: 'whsec_dGVzdC1zYW5kYm94LXBheW1lbnRzLXNlY3JldA==' },
          settings: { succeed_after_ms: 300 } },
        { id: 'sandbox-merch', type: 'sandbox_fulfillment',
          credentials: { webhook_secret: 'whsec_dGVzdC1zYW5kYm94LWZ1bGZpbGxtZW50LXNlY3JldA==' },
          settings: { in_production_after_ms: 600, shipped_after_ms: 1200, delivered_after_ms: 1800,
            shipping: { EUR: 495 } } },
      ],
      sellers: [{ id: 'sel_hype', name: 'Hype', platform_fee_bps: 500, payouts: { 'sandbox-pay': 'acct_hype' } }],
    },
  };
  const configPath = join(dir, 'merchgate.json');
  writeFileSync(configPath, JSON.stringify(config));
  const ready = join(dir, 'ready');
  const log = openSync(join(dir, 'merchgate.log'), 'a');
  gateway = spawn(binary, ['serve', '--config', configPath, '--ready-file', ready], {
    stdio: ['ignore', log, log],
    env: { PATH: '/usr/bin:/bin', MERCHGATE_ADMIN_KEY: ADMIN_KEY, MERCHGATE_API_KEY: APP_KEY,
      MERCHGATE_MASTER_KEY: MASTER_KEY, MERCHGATE_ALLOW_LOOPBACK: '1' },
  });
  const line = await until('merchgate to listen', () => {
    if (gateway.exitCode !== null) throw new Error('merchgate exited:\n' + readFileSync(join(dir, 'merchgate.log'), 'utf8'));
    return existsSync(ready) && readFileSync(ready, 'utf8').trim();
  });
  return 'http://127.0.0.1:' + line.slice(line.lastIndexOf(':') + 1);
}

async function checkHeaders(base) {
  const index = await fetch(base + '/admin/');
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-security-policy'), CSP);
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const etag = index.headers.get('etag');
  assert.ok(etag, 'an ETag');
  const again = await fetch(base + '/admin/', { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  const js = await fetch(base + '/admin/console.js');
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  const css = await fetch(base + '/admin/console.css');
  assert.match(css.headers.get('content-type'), /^text\/css/);
  const bare = await fetch(base + '/admin', { redirect: 'manual' });
  assert.equal(bare.status, 301);
  assert.equal(bare.headers.get('location'), '/admin/');
  assert.equal((await fetch(base + '/admin/nope.js')).status, 404);
}

async function createCheckout(base) {
  const res = await fetch(base + '/v1/checkouts', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + APP_KEY, 'Content-Type': 'application/json',
      'Idempotency-Key': 'console-test-1' },
    body: JSON.stringify({
      seller: 'sel_hype', currency: 'EUR', lines: [{ sku: 'console-tee', quantity: 2 }],
      buyer: { id: 'u_1', email: 'ada@example.com', shipping_address: { name: 'Ada L', line1: '1 Main St',
        city: 'Milan', postal_code: '20121', country: 'IT' } },
      payment: { processor: 'sandbox-pay', method: 'pm_sandbox_ok' },
    }),
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body.id;
}

async function main() {
  const base = await startGateway();
  await checkHeaders(base);

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.setDefaultTimeout(20_000);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));

  // Sign in: the key goes into sessionStorage, never into the URL.
  await page.goto(base + '/admin/');
  await page.fill('#signin-key', 'mgk_wrong_key');
  await page.click('#signin-submit');
  await page.waitForSelector('#signin-error:not([hidden])');
  problems.length = 0;  // the refused sign-in logs a 401 on purpose
  await page.fill('#signin-key', ADMIN_KEY);
  await page.click('#signin-submit');
  await page.waitForSelector('#adapters-table tr[data-id="sandbox-pay"]');
  assert.ok(!page.url().includes(ADMIN_KEY));

  // Health: the sandbox processor's credential test from its row.
  await page.click('#adapters-table tr[data-id="sandbox-pay"] [data-action="test"]');
  await page.waitForSelector('#adapters-table tr[data-id="sandbox-pay"] .test-result.ok');

  // A Stripe adapter through the form generated from its type's schema.
  await page.click('#add-adapter');
  await page.selectOption('#adapter-type', 'stripe');
  await page.waitForSelector('#credentials-secret_key');
  assert.equal(await page.getAttribute('#credentials-secret_key', 'type'), 'password');
  await page.fill('#adapter-id', 'stripe-main');
  await page.fill('#credentials-secret_key', 'sk_test_console_4242');
  await page.fill('#credentials-webhook_secret', 'whsec_Y29uc29sZS10ZXN0LXNlY3JldA==');
  await page.selectOption('#settings-capture_method', 'automatic');
  await page.fill('#settings-webhook_tolerance_s', '300');
  await page.click('#save');
  await page.waitForSelector('#adapters-table tr[data-id="stripe-main"]');
  const stored = await (await fetch(base + '/v1/admin/adapters/stripe-main', {
    headers: { Authorization: 'Bearer ' + ADMIN_KEY } })).json();
  assert.equal(stored.type, 'stripe');
  assert.equal(stored.settings.capture_method, 'automatic');
  assert.equal(stored.settings.webhook_tolerance_s, 300);
  assert.ok(!JSON.stringify(stored).includes('sk_test_console_4242'), 'credentials are redacted');

  // A schema error lands next to its field.
  await page.click('#add-adapter');
  await page.selectOption('#adapter-type', 'stripe');
  await page.fill('#adapter-id', 'stripe-bad');
  await page.fill('#credentials-secret_key', 'not-a-stripe-key');
  await page.fill('#credentials-webhook_secret', 'whsec_Y29uc29sZS10ZXN0LXNlY3JldA==');
  await page.click('#save');
  await page.waitForSelector('#notice.bad');
  problems.length = 0;  // the refused PUT logs a 400 on purpose

  // A product.
  await page.click('[data-nav="products"]');
  await page.click('#add-product');
  await page.fill('#product-sku', 'console-tee');
  await page.selectOption('#product-seller', 'sel_hype');
  await page.fill('#product-title', 'Console tee');
  await page.fill('#product-amount', '2500');
  await page.fill('#product-currency', 'EUR');
  await page.selectOption('#product-fulfillment', 'sandbox-merch');
  await page.click('#save');
  await page.waitForSelector('#products-table tr[data-id="console-tee"]');

  // A checkout from the app backend; the console finds it and follows its timeline live.
  await page.click('[data-nav="checkouts"]');
  await page.waitForSelector('#checkouts-table, .empty');
  const id = await createCheckout(base);
  await page.click(`#checkouts-table tr[data-id="${id}"]`);  // appears by auto-refresh
  await page.waitForSelector('#timeline li[data-type="checkout.created"]');
  const url = page.url();
  await page.waitForSelector('#timeline li[data-type="checkout.fulfilled"]', { timeout: 40_000 });
  assert.equal(page.url(), url, 'no navigation: the view refreshed itself');
  assert.equal((await page.textContent('#checkout-status')).trim(), 'fulfilled');
  for (const type of ['checkout.paid', 'fulfillment.submitted', 'fulfillment.shipped']) {
    assert.ok(await page.$(`#timeline li[data-type="${type}"]`), type + ' in the timeline');
  }
  await page.screenshot({ path: join(outDir, 'console-checkout.png'), fullPage: true });

  await page.click('[data-nav="adapters"]');
  await page.waitForSelector('#adapters-table tr[data-id="stripe-main"]');
  await page.screenshot({ path: join(outDir, 'console-adapters.png'), fullPage: true });

  // An app key made in the console works at once, is shown once, and stops working when revoked.
  await page.click('[data-nav="keys"]');
  await page.fill('#key-name', 'console-test');
  await page.selectOption('#key-role', 'app');
  await page.click('#save');
  const secret = (await page.textContent('#key-secret code')).trim();
  assert.ok(secret.length > 20 && !secret.includes('…'), 'the whole key, once');
  const asApp = () => fetch(base + '/v1/checkouts?limit=1', { headers: { Authorization: 'Bearer ' + secret } });
  assert.equal((await asApp()).status, 200);
  page.once('dialog', (d) => d.accept());
  await page.click('#keys-table tr:has-text("console-test") button:has-text("Revoke")');
  await page.waitForSelector('#keys-table tr:has-text("console-test") .badge:has-text("revoked")');
  assert.equal((await asApp()).status, 401);

  // The audit log shows the console's changes, without their secrets.
  await page.click('[data-nav="audit"]');
  await page.waitForSelector('#audit-table tr:has-text("/v1/admin/adapters/stripe-main")');
  const audit = await page.textContent('#audit-table');
  assert.ok(!audit.includes('sk_test_console_4242') && !audit.includes(secret), 'no secrets in the audit log');

  // Sign out forgets the key.
  await page.click('#signout');
  await page.waitForSelector('#signin:not([hidden])');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);

  assert.deepEqual(problems.filter((p) => /Content Security Policy|Refused/i.test(p)), [], 'no CSP violations');
  assert.deepEqual(problems, [], 'no console errors');
  assert.ok(!readFileSync(join(dir, 'merchgate.log'), 'utf8').includes(ADMIN_KEY), 'the key is not logged');
  console.log('ok: console signed in, added stripe-main and console-tee, followed ' + id +
    ' to fulfilled; screenshots in ' + outDir);
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  console.error('FAIL:', e.stack || e);
  try {
    const pages = browser ? browser.contexts().flatMap((c) => c.pages()) : [];
    if (pages[0]) await pages[0].screenshot({ path: join(outDir, 'console-failure.png'), fullPage: true });
  } catch (x) { /* best effort */ }
  if (existsSync(join(dir, 'merchgate.log'))) {
    console.error('--- merchgate log (tail) ---\n' + readFileSync(join(dir, 'merchgate.log'), 'utf8').split('\n').slice(-40).join('\n'));
  }
} finally {
  if (browser) await browser.close().catch(() => {});
  if (gateway && gateway.exitCode === null) {
    gateway.kill('SIGTERM');
    await until('merchgate to stop', () => gateway.exitCode !== null, 10_000).catch(() => {});
  }
  cleanup();
  clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);
