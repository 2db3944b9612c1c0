// Complaints (投诉) in a real browser: a citizen files a complaint on a phone and gets a number and
// a query code; the supervisor triages it to SCJG; the SCJG clerk accepts and answers it; the
// citizen reads the answer and rates it. Then the 民主评议 page shows the figures and its charts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PHONE, goto, horizontalOverflow, openBrowser, overflowingElements, screenshotPath, submitAndWait } from './lib.mjs';

const path = (r) => new URL(r.url()).pathname;

async function login(page, user, password) {
  assert.equal((await goto(page, '/console/login')).status(), 200);
  await page.getByLabel('用户名').fill(user);
  await page.getByLabel('密码').fill(password);
  const res = await submitAndWait(page, 'main form button[type=submit]', (r) => path(r) === '/console');
  assert.equal(res.status(), 200, `${user} is logged in`);
}

describe('complaints', () => {
  let citizen;
  let staff;
  let complaintNo;
  let queryCode;
  before(async () => { citizen = await openBrowser(PHONE); staff = await openBrowser(); });
  after(async () => { await citizen?.close(); await staff?.close(); });

  test('a citizen files a complaint on a phone', { timeout: 60_000 }, async () => {
    const page = citizen.page;
    await goto(page, '/');
    await page.getByRole('link', { name: '投诉举报' }).first().click();
    await page.waitForURL(/\/complaints\/new$/);
    assert.equal(await horizontalOverflow(page), 0, `the form fits a phone: ${await overflowingElements(page)}`);
    await page.getByLabel('投诉类别').selectOption('TD');
    await page.getByLabel('被投诉单位').selectOption('SCJG');
    await page.getByLabel('投诉内容').fill('在市场监管窗口办理营业执照变更时，工作人员态度生硬，让我来回跑了三趟。');
    await page.locator('input[name=identity][value=real]').check();
    await page.getByLabel('姓名（实名投诉填写）').fill('李四');
    await page.getByLabel('联系电话（实名投诉填写）').fill('13912345678');
    await page.screenshot({ path: screenshotPath('complaint-new.png'), fullPage: true });
    const res = await submitAndWait(page, 'form.complaint-form button[type=submit]', (r) => path(r) === '/complaints/new');
    assert.equal(res.status(), 200);
    complaintNo = (await page.locator('#complaint-no').innerText()).trim();
    queryCode = (await page.locator('#query-code').innerText()).trim();
    assert.match(complaintNo, /^TS\d{14}$/);
    assert.match(queryCode, /^\d+$/);
    assert.equal(await horizontalOverflow(page), 0, `the receipt fits a phone: ${await overflowingElements(page)}`);
  });

  test('the supervisor triages it and the SCJG clerk accepts and answers it', { timeout: 90_000 }, async () => {
    assert.ok(complaintNo, 'a complaint was filed');
    const page = staff.page;
    await login(page, 'jcj', 'supervisor-pass-1');
    await page.getByRole('link', { name: '投诉处理' }).first().click();
    await page.waitForURL(/\/console\/complaints$/);
    await page.getByRole('link', { name: complaintNo }).click();
    await page.waitForURL(new RegExp(`/console/complaints/${complaintNo}$`));
    assert.ok((await page.locator('main').innerText()).includes('李四'), 'the supervisor sees the complainant');
    await page.locator('#route').selectOption('responsible');
    await page.locator('#t_department').selectOption('SCJG');
    await submitAndWait(page, '#triage button', (r) => path(r) === `/console/complaints/${complaintNo}`);
    assert.equal(await page.locator('#status').innerText(), '已转办');
    await page.context().clearCookies();

    await login(page, 'scjg-clerk', 'clerk-pass-123');
    await goto(page, '/console/complaints');
    await page.getByRole('link', { name: complaintNo }).click();
    await page.waitForURL(new RegExp(`/console/complaints/${complaintNo}$`));
    await submitAndWait(page, '#accept button', (r) => path(r) === `/console/complaints/${complaintNo}`);
    assert.equal(await page.locator('#status').innerText(), '办理中');
    await page.locator('#outcome').selectOption('sustained');
    await page.locator('#a_text').fill('经核查情况属实，已对该窗口人员批评教育，并安排专人为您一次办结变更。');
    await page.screenshot({ path: screenshotPath('console-complaint.png'), fullPage: true });
    await submitAndWait(page, 'form#answer button', (r) => path(r) === `/console/complaints/${complaintNo}`);
    assert.equal(await page.locator('#status').innerText(), '已答复');
  });

  test('the citizen reads the answer and rates it', { timeout: 60_000 }, async () => {
    assert.ok(queryCode, 'a complaint was filed');
    const page = citizen.page;
    await goto(page, '/complaints/query');
    await page.getByLabel('投诉编号').fill(complaintNo);
    await page.getByLabel('查询码').fill(queryCode);
    await submitAndWait(page, 'main form button[type=submit]', (r) => path(r) === '/complaints/query');
    assert.match(await page.locator('#answer').innerText(), /批评教育/);
    await page.getByLabel('基本满意').check();
    await submitAndWait(page, 'form[action="/complaints/rate"] button', (r) => path(r) === '/complaints/query');
    assert.equal(await page.locator('#status').innerText(), '已办结');
    assert.equal(await horizontalOverflow(page), 0, `the page fits a phone: ${await overflowingElements(page)}`);
  });

  test('民主评议 shows the figures with charts', { timeout: 60_000 }, async () => {
    const page = staff.page;
    const res = await goto(page, '/appraisal');
    assert.equal(res.status(), 200);
    await page.locator('[data-chart][data-drawn]').first().waitFor();
    assert.ok(await page.locator('#complaint-stats tbody tr').count() >= 1);
    await page.screenshot({ path: screenshotPath('appraisal.png'), fullPage: true });
  });
});
