// The home page (/) in a real browser: zh-CN content, the city's figures, CJK glyphs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_UNTIL, DESKTOP, goto, openBrowser, renderedFonts, screenshotPath } from './lib.mjs';

let b;
before(async () => {
  b = await openBrowser(DESKTOP);
}, { timeout: 30_000 });
after(async () => {
  await b?.close();
}, { timeout: 30_000 });

test('home page shows the platform and the city figures in zh-CN', { timeout: 60_000 }, async () => {
  const { page } = b;
  const response = await goto(page, '/');
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-type'], /text\/html/);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.match(await page.title(), /廉政监督平台/);

  const h1 = page.locator('main h1');
  assert.equal((await h1.textContent()).trim(), '行政审批电子监察平台');
  assert.ok(await h1.isVisible(), 'the h1 is visible');

  const figs = page.getByRole('heading', { name: '全市数据' });
  assert.ok(await figs.isVisible(), '全市数据 is visible');
  // Five figures of this month and now, each a label and a number (a count or a percentage).
  const figures = await page.locator('.figs .fig').evaluateAll((els) =>
    els.map((el) => ({ label: el.firstChild.textContent.trim(), value: el.querySelector('b').textContent.trim() })),
  );
  assert.deepEqual(
    figures.map((f) => f.label),
    ['本月受理办件', '本月按时办结率', '本月满意率', '在办红牌', '在办黄牌'],
  );
  // "This month" is the server's month (China Standard Time): the demo's cases fill it while its
  // last day lies in it, and none do once the calendar has moved past that month.
  const month = Number(figures[0].value);
  const thisMonth = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 7);
  if (DEMO_UNTIL.slice(0, 7) === thisMonth) {
    assert.ok(Number.isInteger(month) && month > 0, `本月受理办件 is a positive number, got ${figures[0].value}`);
  } else {
    assert.equal(figures[0].value, '0', `the demo ends ${DEMO_UNTIL}, before ${thisMonth}: 本月受理办件 is 0`);
  }
  for (const f of figures.slice(1, 3)) {
    if (month > 0) assert.match(f.value, /^\d+(\.\d+)?%$/, `${f.label} is a percentage`);
    else assert.equal(f.value, '—', `${f.label}: no case this month, no rate`);
  }
  for (const f of figures.slice(3)) assert.match(f.value, /^\d+$/, `${f.label} is a count`);
  for (const el of await page.locator('.figs .fig').all()) assert.ok(await el.isVisible());

  // The department table agrees with the running total, which is at least this month's.
  const total = Number((await page.locator('main section').first().innerText()).match(/累计办件 (\d+)/)[1]);
  assert.ok(total >= month, `累计办件 ${total} ≥ 本月 ${month}`);
  const perDept = await page.locator('table tbody tr td:nth-child(2)').allTextContents();
  assert.ok(perDept.length > 0, 'departments are listed');
  assert.equal(perDept.reduce((a, v) => a + Number(v), 0), total, '累计办件 is the sum of the departments');

  // The query form is on the page.
  assert.ok(await page.locator('#case_no').isVisible());
  assert.ok(await page.locator('#code').isVisible());

  // Chinese is drawn with a CJK font, not boxes from a fallback without the glyphs.
  const fonts = await renderedFonts(page, 'main h1');
  assert.ok(
    fonts.some((f) => /CJK|Noto Sans SC|Noto Serif SC|WenQuanYi|Droid Sans Fallback/i.test(f.familyName) && f.glyphCount > 0),
    `h1 drawn with a CJK font, got ${JSON.stringify(fonts)}`,
  );
  assert.deepEqual(b.pageErrors, []);

  await page.screenshot({ path: screenshotPath('home.png') });
});
