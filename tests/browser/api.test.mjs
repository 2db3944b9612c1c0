// The staff API refuses a call without a key, seen from a page's own fetch.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, DESKTOP, goto, openBrowser } from './lib.mjs';

let b;
before(async () => {
  b = await openBrowser(DESKTOP);
}, { timeout: 30_000 });
after(async () => {
  await b?.close();
}, { timeout: 30_000 });

test('GET /api/v1/findings without a key answers 401 unauthorized', { timeout: 60_000 }, async () => {
  const { page } = b;
  assert.equal((await goto(page, '/')).status(), 200);
  const result = await page.evaluate(async (url) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 10_000);
    try {
      const r = await fetch(url, { signal: controller.signal });
      return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
    } finally {
      clearTimeout(timer);
    }
  }, BASE_URL + '/api/v1/findings');
  assert.equal(result.status, 401);
  assert.match(result.type, /application\/json/);
  const body = JSON.parse(result.text);
  assert.equal(body.error?.code, 'unauthorized');
  assert.equal(typeof body.error?.message, 'string');
  assert.ok(body.error.message.length > 0);
  // Nothing about findings leaks with the refusal.
  assert.deepEqual(Object.keys(body), ['error']);
});
