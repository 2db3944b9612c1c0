// Shared set-up for the browser tests: the environment run.sh provides, and a real Chromium
// (Debian's /usr/bin/chromium driven by playwright-core) with a fresh profile per context.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

/** Every wait in these tests is bounded by this (milliseconds). */
export const TIMEOUT = 15_000;

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run the tests with bash tests/browser/run.sh`);
  return v;
}

export const BASE_URL = need('BASE_URL').replace(/\/$/, '');
export const CASE_NO = need('CASE_NO');
export const QUERY_CODE = need('QUERY_CODE');
export const VKEY = need('VKEY');
/** The demo city's last simulated day (YYYY-MM-DD). */
export const DEMO_UNTIL = need('DEMO_UNTIL');
export const SCREENSHOT_DIR = resolve(process.env.SCREENSHOT_DIR || 'docs/screenshots');
mkdirSync(SCREENSHOT_DIR, { recursive: true });

export const screenshotPath = (name) => join(SCREENSHOT_DIR, name);

const ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The desktop viewport of the screenshots. */
export const DESKTOP = { viewport: { width: 1280, height: 900 } };
/** A phone: 390×844 CSS pixels, touch, mobile layout. */
export const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  userAgent:
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36',
};

/**
 * Starts Chromium with a fresh temporary profile (--user-data-dir) and the given context options.
 * Returns { context, page, close }; close() is safe to call more than once.
 */
export async function openBrowser(options = DESKTOP) {
  const profile = mkdtempSync(join(tmpdir(), 'lianzheng-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ARGS,
    timeout: TIMEOUT,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    acceptDownloads: true,
    ...options,
  });
  context.setDefaultTimeout(TIMEOUT);
  context.setDefaultNavigationTimeout(TIMEOUT);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  let closed = false;
  return {
    context,
    page,
    pageErrors,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}

/** Navigates and returns the main document's response; fails on a missing response. */
export async function goto(page, path) {
  const response = await page.goto(BASE_URL + path, { waitUntil: 'load' });
  if (!response) throw new Error(`no response for ${path}`);
  return response;
}

/** Clicks a submit button and returns the response of the navigation it causes. */
export async function submitAndWait(page, button, urlPredicate) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().isNavigationRequest() && urlPredicate(r), { timeout: TIMEOUT }),
    page.locator(button).click(),
  ]);
  await page.waitForLoadState('load');
  return response;
}

/**
 * How far the page overflows the window horizontally, in CSS pixels (0 when it fits):
 * document.scrollingElement.scrollWidth against the layout width. On a phone (isMobile) Chromium
 * zooms out to show content wider than the screen and then widens window.innerWidth to match, so
 * innerWidth alone would hide the overflow; the layout viewport (documentElement.clientWidth,
 * 390 for a 390 px phone with width=device-width) does not move.
 */
export async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const el = document.scrollingElement || document.documentElement;
    const width = Math.min(window.innerWidth, document.documentElement.clientWidth);
    return Math.max(0, el.scrollWidth - width);
  });
}

/** The elements that stick out of the window (tag#id.class and right edge), to explain an overflow. */
export async function overflowingElements(page) {
  return page.evaluate(() => {
    const w = Math.min(window.innerWidth, document.documentElement.clientWidth);
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      // Either the box itself sticks out, or its content spills out of a box that does not scroll.
      const spills = el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 &&
        getComputedStyle(el).overflowX === 'visible' && r.left + el.scrollWidth > w + 1;
      if (r.right > w + 1 || spills) {
        const name = el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '') +
          (typeof el.className === 'string' && el.className ? `.${el.className.split(' ').join('.')}` : '');
        out.push(`${name} right=${Math.round(Math.max(r.right, r.left + el.scrollWidth))}`);
      }
    }
    return out.slice(0, 10);
  });
}

/** The platform fonts Chromium actually used to draw the text of the first node matching selector. */
export async function renderedFonts(page, selector) {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
    if (!nodeId) throw new Error(`no node for ${selector}`);
    const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
    return fonts;
  } finally {
    await cdp.detach();
  }
}
