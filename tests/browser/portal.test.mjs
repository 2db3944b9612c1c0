// The portal beyond the case page: the catalog with an item's 办事指南 and version history, the
// statistics with their CSV, and a citizen rating a finished case once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, CASE_NO, QUERY_CODE, goto, openBrowser, screenshotPath, submitAndWait } from './lib.mjs';

describe('portal', () => {
  let b;
  before(async () => { b = await openBrowser(); });
  after(async () => { await b?.close(); });

  test('the catalog lists, filters and opens an item', { timeout: 60_000 }, async () => {
    const page = b.page;
    assert.equal((await goto(page, '/items')).status(), 200);
    const rows = page.locator('main table tbody tr');
    assert.equal(await rows.count(), 50, 'a full first page');
    assert.ok(await page.getByRole('link', { name: '下一页' }).isVisible());
    await page.getByLabel('事项名称关键词').fill('食品');
    await submitAndWait(page, 'main form button[type=submit]', (r) => new URL(r.url()).pathname === '/items');
    const names = await page.locator('main table tbody td:first-child').allInnerTexts();
    assert.ok(names.length > 0 && names.every((n) => n.includes('食品')), `only 食品 items: ${names}`);
    await page.locator('main table tbody a').first().click();
    await page.waitForURL(/\/items\/[0-9A-Z]+$/);
    const main = await page.locator('main').innerText();
    for (const part of ['办事指南', '申请材料', '收费', '办理环节', '变更记录', '法定办结时限']) {
      assert.ok(main.includes(part), `the item page shows ${part}`);
    }
    await page.screenshot({ path: screenshotPath('item.png'), fullPage: true });
  });

  test('the statistics page and its CSV', { timeout: 60_000 }, async () => {
    const page = b.page;
    assert.equal((await goto(page, '/stats')).status(), 200);
    assert.ok((await page.locator('#bydep ~ div table tbody tr').count()) >= 40, 'every department');
    assert.equal(await page.locator('#monthly ~ div table tbody tr').count(), 12, 'twelve months');
    // The charts are drawn by the ECharts the server embeds (no outside network).
    await page.waitForSelector('.chart[data-drawn="1"] svg', { timeout: 15_000 });
    assert.equal(await page.locator('.chart[data-drawn="1"] svg').count(), 3, 'three charts drawn');
    assert.deepEqual(b.pageErrors, []);
    const csv = await page.evaluate(async (u) => {
      const r = await fetch(u);
      return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
    }, `${BASE_URL}/stats.csv`);
    assert.equal(csv.status, 200);
    assert.match(csv.type, /text\/csv/);
    assert.match(csv.text, /部门代码,部门,办件/);
    assert.ok(csv.text.trim().split('\n').length >= 41);
    await page.screenshot({ path: screenshotPath('stats.png'), fullPage: true });
  });

  test('a citizen rates the finished case once and sees the rating', { timeout: 60_000 }, async () => {
    const page = b.page;
    const url = `/query?case_no=${encodeURIComponent(CASE_NO)}&code=${encodeURIComponent(QUERY_CODE)}`;
    assert.equal((await goto(page, url)).status(), 200);
    const form = page.locator('form[action="/query/rate"]');
    assert.ok(await form.isVisible(), 'the demo sample case is finished and not rated yet');
    await page.getByLabel('满意', { exact: true }).check();
    // The national indicator set (online): each optional, on the same five levels.
    await page.getByLabel('办事效率').selectOption({ label: '非常满意' });
    await page.getByLabel('办事便捷度').selectOption({ label: '满意' });
    await page.getByLabel('意见和建议（选填）').fill('窗口服务热情，一次办好');
    const res = await submitAndWait(page, 'form[action="/query/rate"] button[type=submit]', (r) => new URL(r.url()).pathname === '/query');
    assert.equal(res.status(), 200);
    const card = await page.locator('main .card').first().innerText();
    assert.match(card, /评价：满意/);
    assert.match(card, /一次办好/);
    assert.equal(await page.locator('form[action="/query/rate"]').count(), 0, 'rated once: no form any more');
    // A forged post (no token) changes nothing.
    const forged = await page.evaluate(async ({ u, no, code }) => {
      const body = new URLSearchParams({ csrf: 'x', case_no: no, code, satisfaction: '5' });
      const r = await fetch(u, { method: 'POST', body, credentials: 'omit' });
      return r.status;
    }, { u: `${BASE_URL}/query/rate`, no: CASE_NO, code: QUERY_CODE });
    assert.equal(forged, 403);
  });
});
