// The portal in English: a visible switch on every page, remembered across pages, and back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DESKTOP, goto, openBrowser, screenshotPath } from './lib.mjs';

let b;
before(async () => { b = await openBrowser(DESKTOP); }, { timeout: 30_000 });
after(async () => { await b?.close(); }, { timeout: 30_000 });

test('a visitor switches the portal to English and back', { timeout: 60_000 }, async () => {
  const { page } = b;
  assert.equal((await goto(page, '/items')).status(), 200);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  const toEnglish = page.getByRole('link', { name: 'English' });
  assert.ok(await toEnglish.isVisible(), 'the switch is visible');
  await Promise.all([page.waitForURL(/lang=en/), toEnglish.click()]);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal((await page.locator('main h1').innerText()).trim(), 'Approval items');
  // The choice follows the visitor to the next page.
  await page.getByRole('link', { name: 'Statistics' }).click();
  await page.waitForURL(/\/stats$/);
  assert.equal((await page.locator('main h1').innerText()).trim(), 'Statistics');
  await page.getByRole('link', { name: 'Home' }).or(page.locator('header a').first()).first().click();
  await page.waitForURL((u) => new URL(u).pathname === '/');
  assert.equal((await page.locator('main h1').innerText()).trim(), 'E-supervision of administrative approval');
  await page.screenshot({ path: screenshotPath('home-en.png') });
  await Promise.all([page.waitForURL(/lang=zh/), page.getByRole('link', { name: '中文' }).click()]);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.equal((await page.locator('main h1').innerText()).trim(), '行政审批电子监察平台');
  assert.deepEqual(b.pageErrors, []);
});
