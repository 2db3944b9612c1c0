// The portal and the console in English: a visible switch on every page, remembered across
// pages, and back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DESKTOP, goto, openBrowser, screenshotPath, submitAndWait } from './lib.mjs';

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

test('a supervisor switches the console to English and back', { timeout: 60_000 }, async () => {
  const c = await openBrowser(DESKTOP);
  try {
    const { page } = c;
    assert.equal((await goto(page, '/console/login')).status(), 200);
    await page.getByLabel('用户名').fill('jcj');
    await page.getByLabel('密码').fill('supervisor-pass-1');
    await submitAndWait(page, 'main form button[type=submit]', (r) => new URL(r.url()).pathname === '/console');
    assert.equal((await page.locator('main h1').innerText()).trim(), '工作台');
    // The switch keeps the page and its filters.
    await goto(page, '/console?level=3');
    await Promise.all([page.waitForURL(/level=3&lang=en/), page.getByRole('link', { name: 'English' }).click()]);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal((await page.locator('main h1').innerText()).trim(), 'Console');
    assert.match(await page.locator('main').innerText(), /Alerts/);
    await page.screenshot({ path: screenshotPath('console-en.png') });
    // The choice follows the supervisor to the next console page.
    await page.getByRole('link', { name: 'Complaint handling' }).click();
    await page.waitForURL(/\/console\/complaints$/);
    assert.equal((await page.locator('main h1').innerText()).trim(), 'Complaint handling');
    await Promise.all([page.waitForURL(/lang=zh/), page.getByRole('link', { name: '中文' }).click()]);
    assert.equal((await page.locator('main h1').innerText()).trim(), '投诉处理');
    assert.deepEqual(c.pageErrors, []);
  } finally {
    await c.close();
  }
});
