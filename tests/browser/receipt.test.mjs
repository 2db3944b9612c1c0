// A citizen downloads a step's receipt from the case page and checks it on /verify;
// a receipt with one proof line altered is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  BASE_URL, CASE_NO, DESKTOP, PHONE, QUERY_CODE, TIMEOUT, VKEY, goto, horizontalOverflow, openBrowser,
  overflowingElements, screenshotPath, submitAndWait,
} from './lib.mjs';

const isVerifyPost = (r) => new URL(r.url()).pathname === '/verify' && r.request().method() === 'POST';
// The verifier key is "<name>+<key hash>+<key>"; the name is the log's origin.
const ORIGIN = VKEY.split('+')[0];

let b;
let receipt;
before(async () => {
  b = await openBrowser(DESKTOP);
}, { timeout: 30_000 });
after(async () => {
  await b?.close();
}, { timeout: 30_000 });

/** Pastes text into the receipt box on /verify (on page) and submits it. */
async function verify(page, text) {
  assert.equal((await goto(page, '/verify')).status(), 200);
  const box = page.getByLabel('回执内容');
  await box.fill(text);
  assert.equal(await box.inputValue(), text);
  return submitAndWait(page, 'main button[type=submit]', isVerifyPost);
}

test('the first step\'s receipt downloads as a tlog-proof', { timeout: 60_000 }, async () => {
  const { page } = b;
  const url = `/query?case_no=${encodeURIComponent(CASE_NO)}&code=${encodeURIComponent(QUERY_CODE)}`;
  assert.equal((await goto(page, url)).status(), 200);
  const link = page.getByRole('link', { name: '下载回执' }).first();
  const href = await link.getAttribute('href');
  assert.ok(href.startsWith(`/api/v1/public/cases/${CASE_NO}/receipts/`), `receipt link ${href}`);
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: TIMEOUT }), link.click()]);
  assert.equal(await download.failure(), null);
  assert.match(download.suggestedFilename(), new RegExp(`^${CASE_NO}-\\d+\\.tlog-proof$`));
  assert.equal(download.url(), BASE_URL + href);
  receipt = await readFile(await download.path(), 'utf8');
  assert.ok(receipt.startsWith('c2sp.org/tlog-proof@v1\n'), `receipt starts with the header: ${receipt.slice(0, 40)}`);
  assert.match(receipt, /^index \d+$/m);
  assert.ok(receipt.includes(`\n${ORIGIN}\n`), 'the receipt carries a checkpoint of this log');
  // The page is still the case page: a download does not navigate away.
  assert.equal((await page.locator('main h1').textContent()).trim(), `办件 ${CASE_NO}`);
});

test('/verify accepts the downloaded receipt', { timeout: 60_000 }, async () => {
  assert.ok(receipt, 'a receipt was downloaded');
  const { page } = b;
  const response = await verify(page, receipt);
  assert.equal(response.status(), 200);
  const status = page.getByRole('status');
  assert.ok(await status.isVisible());
  const text = await status.innerText();
  assert.match(text, /验证通过/);
  assert.ok(text.includes(ORIGIN), `names the log ${ORIGIN}: ${text}`);
  const index = Number(receipt.match(/^index (\d+)$/m)[1]);
  assert.ok(text.includes(`第 ${index + 1} 条记录`), 'names the record');
  assert.ok(text.includes(CASE_NO), 'shows the committed record of this case');
  assert.equal(await page.getByRole('alert').count(), 0);
  assert.deepEqual(b.pageErrors, []);
  await page.screenshot({ path: screenshotPath('verify.png'), fullPage: true });
});

test('/verify refuses the receipt with one proof line altered', { timeout: 60_000 }, async () => {
  assert.ok(receipt, 'a receipt was downloaded');
  const lines = receipt.split('\n');
  const at = lines.findIndex((l) => /^index \d+$/.test(l)) + 1;
  assert.match(lines[at], /^[A-Za-z0-9+/]{43}=$/, 'the first proof line is a base64 hash');
  // Change one character of the hash to another base64 digit: still well-formed, now wrong.
  const c = lines[at][0];
  lines[at] = (c === 'A' ? 'B' : 'A') + lines[at].slice(1);
  const tampered = lines.join('\n');
  assert.notEqual(tampered, receipt);

  const { page } = b;
  const response = await verify(page, tampered);
  assert.equal(response.status(), 422);
  const alert = page.getByRole('alert');
  assert.ok(await alert.isVisible());
  assert.match(await alert.innerText(), /验证失败|回执格式不正确/);
  assert.equal(await page.getByText('验证通过').count(), 0);
});

// The verified record is shown in a <pre> that must wrap: nothing may be wider than the window,
// at 1280 px or on a phone (where Chromium would otherwise zoom the page out).
test('the verification result fits the window on a desktop and on a phone', {
  timeout: 60_000,
}, async () => {
  assert.ok(receipt, 'a receipt was downloaded');
  const phone = await openBrowser(PHONE);
  try {
    const found = [];
    for (const [name, page] of [['1280 px', b.page], ['phone', phone.page]]) {
      assert.equal((await verify(page, receipt)).status(), 200);
      const overflow = await horizontalOverflow(page);
      if (overflow > 1) found.push(`${name}: ${overflow}px (${(await overflowingElements(page)).join(', ')})`);
    }
    assert.deepEqual(found, [], 'nothing overflows');
  } finally {
    await phone.close();
  }
});
