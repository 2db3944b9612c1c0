// A citizen looks a case up on /query: on a desktop and on a phone; and with a wrong code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CASE_NO, DESKTOP, PHONE, QUERY_CODE, goto, horizontalOverflow, openBrowser, overflowingElements,
  screenshotPath, submitAndWait,
} from './lib.mjs';

const STATUSES = ['未受理', '不予受理', '按时办结', '超时办结', '已超时', '临近时限', '正常'];
const isQuery = (r) => new URL(r.url()).pathname === '/query';

/** Fills the form on /query the way a person would and submits it. */
async function lookUp(page, caseNo, code) {
  const form = await goto(page, '/query');
  assert.equal(form.status(), 200);
  assert.match(await page.locator('main').innerText(), /请输入受理时告知您的办件编号和查询码/);
  await page.getByLabel('办件编号').fill(caseNo);
  await page.getByLabel('查询码').fill(code);
  assert.equal(await page.locator('#case_no').inputValue(), caseNo);
  assert.equal(await page.locator('#code').inputValue(), code);
  return submitAndWait(page, 'main button[type=submit]', isQuery);
}

/** Checks the case page: heading, case card, time-limit status, the timeline with receipts. */
async function assertCasePage(page, response) {
  assert.equal(response.status(), 200);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('case_no'), CASE_NO);
  assert.equal(await page.locator('main h1').evaluate((el) => el.outerHTML), `<h1>办件 ${CASE_NO}</h1>`);
  assert.ok(await page.locator('main h1').isVisible());

  const card = await page.locator('main .card').first().innerText();
  for (const label of ['事项：', '实施部门：', '申请人：', '状态：', '承诺时限：', '承诺办结日期：', '时限状态：', '监督电话：']) {
    assert.ok(card.includes(label), `the case card shows ${label}`);
  }
  const status = page.locator('main .card span.ok, main .card span.late');
  assert.equal(await status.count(), 1, 'one time-limit status');
  const statusText = (await status.textContent()).trim();
  assert.ok(STATUSES.includes(statusText), `时限状态 is one of ${STATUSES}, got ${statusText}`);
  assert.ok(await status.isVisible());

  assert.ok(await page.getByRole('heading', { name: '办理过程' }).isVisible());
  // One card per step (it reads on a phone): time, step, details, and the step's receipt.
  const steps = page.locator('main ol.steps > li');
  const n = await steps.count();
  assert.ok(n >= 3, `办理过程 has at least 3 steps, got ${n}`);
  assert.match((await steps.first().locator('.when').innerText()).trim(), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/, 'a step has a time');
  assert.equal((await steps.first().locator('strong').innerText()).trim(), '申请', 'the first step is the application');
  assert.equal(await page.locator('main ol.steps').getByRole('link', { name: '下载回执' }).count(), n, 'every step has a receipt');
  // The query code travels only in the receipt links, never as page text.
  assert.ok(!(await page.locator('main').innerText()).includes(QUERY_CODE), 'the query code is not displayed');
}

describe('a citizen looks up a case on a desktop', () => {
  let b;
  before(async () => {
    b = await openBrowser(DESKTOP);
  }, { timeout: 30_000 });
  after(async () => {
    await b?.close();
  }, { timeout: 30_000 });

  test('case number and query code show the case and its steps', { timeout: 60_000 }, async () => {
    const response = await lookUp(b.page, CASE_NO, QUERY_CODE);
    await assertCasePage(b.page, response);
    assert.deepEqual(b.pageErrors, []);
    await b.page.screenshot({ path: screenshotPath('query.png'), fullPage: true });
  });

  test('a wrong query code is refused with 404 and an alert', { timeout: 60_000 }, async () => {
    const { page } = b;
    const wrong = QUERY_CODE === '00000000' ? '11111111' : '00000000';
    const response = await lookUp(page, CASE_NO, wrong);
    assert.equal(response.status(), 404);
    const alert = page.getByRole('alert');
    assert.equal((await alert.textContent()).trim(), '未找到该办件，或查询码不正确。');
    assert.ok(await alert.isVisible());
    // Nothing about the case is shown; the form is offered again with the number kept.
    assert.equal((await page.locator('main h1').textContent()).trim(), '办件查询');
    assert.equal(await page.locator('ol.steps').count(), 0);
    assert.equal(await page.locator('#case_no').inputValue(), CASE_NO);
    assert.equal(await page.locator('#code').inputValue(), '');
  });

  test('an unknown case answers exactly like a wrong code', { timeout: 60_000 }, async () => {
    const { page } = b;
    const response = await lookUp(page, '19990101XXX99999', QUERY_CODE);
    assert.equal(response.status(), 404);
    assert.equal((await page.getByRole('alert').textContent()).trim(), '未找到该办件，或查询码不正确。');
  });
});

describe('a citizen looks up a case on a phone', () => {
  let b;
  before(async () => {
    b = await openBrowser(PHONE);
  }, { timeout: 30_000 });
  after(async () => {
    await b?.close();
  }, { timeout: 30_000 });

  test('the case page fits a 390 px wide screen', { timeout: 60_000 }, async () => {
    const { page } = b;
    const form = await goto(page, '/query');
    assert.equal(form.status(), 200);
    // The page asks for the device width (meta viewport), so the layout is 390 px wide.
    assert.equal(await page.evaluate(() => window.innerWidth), 390);
    assert.ok((await horizontalOverflow(page)) <= 1, `the form fits: ${await overflowingElements(page)}`);
    const response = await lookUp(page, CASE_NO, QUERY_CODE);
    await assertCasePage(page, response);
    // Not zoomed out to fit something too wide.
    assert.equal(await page.evaluate(() => window.innerWidth), 390, 'the case page is not zoomed out');
    await page.screenshot({ path: screenshotPath('query-mobile.png'), fullPage: true });
    const overflow = await horizontalOverflow(page);
    assert.ok(
      overflow <= 1,
      `the case page overflows by ${overflow}px: ${(await overflowingElements(page)).join(', ')}`,
    );
  });
});
