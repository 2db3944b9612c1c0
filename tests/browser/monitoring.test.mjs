// Enterprise monitoring points (经济发展环境监测点) in a real browser: the supervisor opens a new
// survey round in the console and gets an answer link for each point; the enterprise opens its
// link on a phone, rates every department on the five indicators and overall, and submits once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PHONE, goto, horizontalOverflow, openBrowser, overflowingElements, screenshotPath, submitAndWait } from './lib.mjs';

const path = (r) => new URL(r.url()).pathname;

describe('monitoring points', () => {
  let staff;
  let enterprise;
  let link;
  before(async () => { staff = await openBrowser(); enterprise = await openBrowser(PHONE); });
  after(async () => { await staff?.close(); await enterprise?.close(); });

  test('the supervisor opens a round and gets the answer links', { timeout: 60_000 }, async () => {
    const page = staff.page;
    assert.equal((await goto(page, '/console/login')).status(), 200);
    await page.getByLabel('用户名').fill('jcj');
    await page.getByLabel('密码').fill('supervisor-pass-1');
    await submitAndWait(page, 'main form button[type=submit]', (r) => path(r) === '/console');
    assert.equal((await goto(page, '/console/monitoring')).status(), 200);
    await page.locator('summary', { hasText: '开始新一期评议' }).click();
    await page.locator('#period').fill('2030-01');
    await page.locator('#due_workdays').fill('5');
    await page.locator('#open-round input[type=checkbox]').first().check();
    await page.locator('#open-round input[type=checkbox]').nth(1).check();
    const res = await submitAndWait(page, '#open-round button[type=submit]', (r) => path(r) === '/console/monitoring/rounds');
    assert.equal(res.status(), 200, await page.locator('main').innerText());
    link = await page.locator('#tokens a').first().getAttribute('href');
    assert.match(link, /^\/monitoring\/respond\?request=.+&token=[0-9a-f]+$/);
  });

  test('the enterprise answers on its phone, once', { timeout: 60_000 }, async () => {
    assert.ok(link, 'a round was opened');
    const page = enterprise.page;
    assert.equal((await goto(page, link)).status(), 200);
    assert.equal(await horizontalOverflow(page), 0, `the form fits a phone: ${await overflowingElements(page)}`);
    const selects = page.locator('#respond select');
    const n = await selects.count();
    assert.equal(n, 12, 'two departments, five indicators and overall each');
    // Submitting with a score missing is refused by the browser; fill all but check the labels.
    await page.getByLabel('办事效率').first().selectOption('5');
    for (let i = 0; i < n; i += 1) await selects.nth(i).selectOption(i % 6 === 5 ? '4' : '5');
    await page.locator('#d0_comment').fill('审批提速明显，个别窗口仍需排队较久。');
    await page.screenshot({ path: screenshotPath('monitoring-respond.png'), fullPage: true });
    const res = await submitAndWait(page, '#respond button[type=submit]', (r) => path(r) === '/monitoring/respond');
    assert.equal(res.status(), 200);
    assert.ok(await page.locator('#done').isVisible(), 'the answer is confirmed');
    assert.equal((await goto(page, link)).status(), 200);
    assert.ok(await page.locator('#answered').isVisible(), 'the link now says it was answered');
  });
});
