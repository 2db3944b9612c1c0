// The staff console in a real browser: a clerk registers an application at the window and
// records its steps to 送达; a supervisor issues a 督办; a clerk is refused what is not theirs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { goto, openBrowser, screenshotPath, submitAndWait } from './lib.mjs';

async function login(page, user, password) {
  assert.equal((await goto(page, '/console/login')).status(), 200);
  await page.getByLabel('用户名').fill(user);
  await page.getByLabel('密码').fill(password);
  const res = await submitAndWait(page, 'main form button[type=submit]', (r) => new URL(r.url()).pathname === '/console');
  assert.equal(res.status(), 200, `${user} is logged in`);
  assert.match(await page.locator('main h1').innerText(), /工作台/);
}

const path = (r) => new URL(r.url()).pathname;

describe('console', () => {
  let clerk;
  let sup;
  before(async () => { clerk = await openBrowser(); sup = await openBrowser(); });
  after(async () => { await clerk?.close(); await sup?.close(); });

  test('a clerk registers an application and records its steps', { timeout: 90_000 }, async () => {
    const page = clerk.page;
    await login(page, 'scjg-clerk', 'clerk-pass-123');
    await page.getByRole('link', { name: '窗口受理登记' }).click();
    await page.waitForURL(/\/console\/register$/);
    await submitAndWait(page, 'form[action="/console/register"][method="get"] button', (r) => path(r) === '/console/register');
    await page.getByLabel('申请人名称').fill('焦作市宏达商贸有限公司');
    await page.getByLabel('证件类型').selectOption('001');
    const boxes = page.locator('form[method="post"] input[type=checkbox]');
    for (let i = 0; i < await boxes.count(); i++) await boxes.nth(i).check();
    await page.screenshot({ path: screenshotPath('console-register.png'), fullPage: true });
    await submitAndWait(page, 'form[action="/console/register"][method="post"] button', (r) => path(r) === '/console/register');
    assert.match(await page.locator('main').innerText(), /受理通知书/);
    const caseNo = (await page.locator('main .notice strong').first().innerText()).trim();
    assert.match(caseNo, /^\d{8}SCJG\d{5}$/);
    await page.getByRole('link', { name: '办理该办件' }).click();
    await page.waitForURL(new RegExp(`/console/cases/${caseNo}$`));
    // The form proposes the next step each time: pass every step once, then 办结 and 送达.
    const n = await page.locator('select#step option').count();
    assert.ok(n >= 1, 'the item has steps');
    for (let i = 0; i < n; i++) {
      assert.equal(await page.locator('select#step').inputValue(), (await page.locator('select#step option').allInnerTexts())[i]);
      await submitAndWait(page, 'form:has(input[value="step"]) button', (r) => path(r).startsWith('/console/cases/'));
    }
    await submitAndWait(page, 'form:has(input[value="finish"]) button', (r) => path(r).startsWith('/console/cases/'));
    assert.equal(await page.locator('#status').innerText(), '已办结');
    await submitAndWait(page, 'form:has(input[value="deliver"]) button', (r) => path(r).startsWith('/console/cases/'));
    assert.equal(await page.locator('#status').innerText(), '已送达');
    await page.screenshot({ path: screenshotPath('console-case.png'), fullPage: true });
    // The clerk may not supervise: the board offers no 督办, and a forged post is refused.
    await goto(page, '/console');
    assert.equal(await page.locator('option[value="supervise"]').count(), 0);
  });

  test('a supervisor issues a 督办 on a red card', { timeout: 60_000 }, async () => {
    const page = sup.page;
    await login(page, 'jcj', 'supervisor-pass-1');
    await page.screenshot({ path: screenshotPath('console-board.png') });
    const row = page.locator('main table tbody tr:has(td.late):has(option[value="supervise"])').first();
    assert.ok(await row.count(), 'the demo city has an open red card');
    await row.locator('select').selectOption('supervise');
    await row.locator('input[name=text]').fill('请5个工作日内查明原因并整改');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().isNavigationRequest() && path(r) === '/console'),
      row.locator('button').click(),
    ]);
    assert.equal(res.status(), 200);
    assert.ok((await page.locator('main').innerText()).includes('督办中'), 'the finding is now under a 督办');
  });

  test('an administrator adds a user and issues and revokes an API key', { timeout: 90_000 }, async () => {
    const adm = await openBrowser();
    try {
      const page = adm.page;
      await login(page, 'admin', 'admin-pass-123');
      await page.getByRole('link', { name: '系统管理' }).click();
      await page.waitForURL(/\/console\/admin$/);
      for (const h of ['用户与角色', 'API 密钥', '规则包', '节假日安排']) {
        assert.ok(await page.getByRole('heading', { name: h, exact: true }).isVisible(), h);
      }
      assert.match(await page.locator('#rp_body').inputValue(), /A001/);
      // A new officer of the market-regulation department.
      await page.getByLabel('用户名').fill('scjg-officer');
      await page.getByLabel('姓名').fill('承办丁');
      await page.getByLabel('角色').selectOption('officer');
      await page.locator('#nu_dep').selectOption('SCJG');
      await page.getByLabel('初始密码（至少10位）').fill('officer-pass-1');
      await submitAndWait(page, 'form[action="/console/admin/users"] button', (r) => path(r) === '/console/admin');
      assert.ok(await page.locator('main table tbody td', { hasText: 'scjg-officer' }).first().isVisible());
      // A key: shown once, then listed without its secret, then revoked.
      await page.locator('#nk_name').fill('browser-test-key');
      await submitAndWait(page, 'form[action="/console/admin/keys"] button', (r) => path(r) === '/console/admin/keys');
      const key = (await page.locator('#new-key').innerText()).trim();
      assert.match(key, /^lz_[0-9a-f]{64}$/);
      await goto(page, '/console/admin');
      assert.ok(!(await page.locator('main').innerText()).includes(key), 'the secret is not shown again');
      const row = page.locator('main table tbody tr', { hasText: 'browser-test-key' });
      await page.screenshot({ path: screenshotPath('console-admin.png'), fullPage: true });
      await submitAndWait(page, 'tr:has-text("browser-test-key") form button', (r) => path(r) === '/console/admin');
      assert.match(await row.innerText(), /已吊销/);
      // The new officer logs in; the key no longer opens the API.
      const api = await page.evaluate(async (k) => (await fetch('/api/v1/findings', { headers: { authorization: `Bearer ${k}` } })).status, key);
      assert.equal(api, 401);
      assert.deepEqual(adm.pageErrors, []);
    } finally {
      await adm.close();
    }
  });

  test('a department edits an item as a new version, public at once', { timeout: 90_000 }, async () => {
    const page = clerk.page;
    await goto(page, '/console/catalog');
    const first = page.locator('main table tbody a').first();
    const name = (await first.innerText()).trim();
    await first.click();
    await page.waitForURL(/\/console\/catalog\/[0-9A-Z]+$/);
    const code = new URL(page.url()).pathname.split('/').pop();
    const versions = await page.locator('main h2:text-is("变更记录") + table tbody tr').count();
    await page.getByLabel('监督电话').fill('0391-12345');
    await page.getByLabel('变更原因').fill('更新监督电话');
    await page.screenshot({ path: screenshotPath('console-catalog.png'), fullPage: true });
    await submitAndWait(page, 'main form[method="post"] button', (r) => path(r) === `/console/catalog/${code}`);
    assert.equal(await page.locator('main h2:text-is("变更记录") + table tbody tr').count(), versions + 1);
    await goto(page, `/items/${code}`);
    const main = await page.locator('main').innerText();
    assert.ok(main.includes(name) && main.includes('更新监督电话') && main.includes('0391-12345'), 'the public guide shows the new version');
  });

  test('an anonymous visitor is sent to the login page', { timeout: 30_000 }, async () => {
    const fresh = await openBrowser();
    try {
      await goto(fresh.page, '/console');
      assert.match(new URL(fresh.page.url()).pathname, /\/console\/login$/);
    } finally {
      await fresh.close();
    }
  });
});
