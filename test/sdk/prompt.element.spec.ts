import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { renderPrompt, type EnforcementDecision } from '../../sdk/two-factor-sdk.js';
import { listen, type LocalServer } from './sdk-steps.js';

/** The custom element in real Chromium (DESIGN §8: Debian's chromium driven by playwright-core). */

// Browser globals, used only inside page.evaluate callbacks: the project compiles without the DOM lib.
declare const document: any;
declare const window: any;
declare function getComputedStyle(element: unknown): any;

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const NONCE = 'n0nce-for-the-prompt-spec';
const SCRIPT = readFileSync(join(process.cwd(), 'public/two-factor-prompt.js'), 'utf8');
const AXE = readFileSync(join(process.cwd(), 'node_modules/axe-core/axe.min.js'), 'utf8');

const decision: EnforcementDecision = { requirement: 'soft', action: 'prompt', twoFactorEnabled: false, enforcedBy: [{ orgId: 'acme', mode: 'soft', xeroConnected: true }] };

/** A host page with hostile-to-leaks styles: if either side's CSS crossed over, the computed styles would show it. */
function hostPage(withPrompt: boolean, withElementScript = withPrompt): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host page</title>
<style nonce="${NONCE}">
  div, p, h2, section, a, button { color: rgb(200, 0, 0); font-size: 40px; border: 4px dotted rgb(0, 128, 0); font-family: serif; }
  body { --tfp-brand: rgb(0, 70, 140); }
</style></head><body><main>
<div id="layout">${withPrompt ? renderPrompt(decision, { setupUrl: '/setup', productName: 'Approvals', nonce: NONCE }) : ''}</div>
<h1>Reports</h1><section aria-label="content"><h2 id="page-h2">Page heading</h2><p id="page-p">Page text</p><a id="page-a" href="/other">A link</a> <button id="page-button" type="button">A button</button></section>
</main>${withElementScript ? '<script src="/two-factor/prompt.js"></script>' : ''}<script src="/axe.js"></script></body></html>`;
}

describe('<two-factor-prompt> in Chromium', () => {
  let server: LocalServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    server = await listen((req, res) => {
      const csp = `default-src 'none'; script-src 'self'; style-src 'self' 'nonce-${NONCE}'; img-src 'self'`;
      if (req.url === '/two-factor/prompt.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(SCRIPT);
      if (req.url === '/axe.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(AXE);
      const html = req.url === '/plain' ? hostPage(false) : req.url === '/fallback' ? hostPage(true, false) : req.url === '/setup' ? '<!doctype html><title>Setup</title><h1>Setup</h1>' : hostPage(true);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp }).end(html);
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS, timeout: 30_000 });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  beforeEach(async () => {
    context = await browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
  });
  afterEach(() => context.close());

  const banner = () => page.locator('two-factor-prompt').getByRole('region', { name: 'Two-factor authentication' });

  it('renders in a shadow root: a labelled region that says who asks and why, with both actions', async () => {
    await page.goto(`${server.url}/`);
    await expect(banner().isVisible()).resolves.toBe(true);
    expect(await page.evaluate(() => !!document.querySelector('two-factor-prompt')!.shadowRoot)).toBe(true);
    const text = await banner().innerText();
    expect(text).toContain('An organisation you belong to in Approvals asks you to set up two-factor authentication.');
    expect(text).toContain('required for Xero');
    expect(await banner().getByRole('link', { name: 'Set up now' }).getAttribute('href')).toBe(`${server.url}/setup`);
    expect(await banner().getByRole('button', { name: 'Not now' }).isVisible()).toBe(true);
    // The server-rendered fallback is no longer what shows.
    expect(await page.locator('two-factor-prompt .tfp-banner').isVisible()).toBe(false);
  });

  it('hides on "Not now" for this page view and comes back on reload', async () => {
    await page.goto(`${server.url}/`);
    await banner().getByRole('button', { name: 'Not now' }).click();
    expect(await page.locator('two-factor-prompt').isVisible()).toBe(false);
    await page.reload();
    expect(await banner().isVisible()).toBe(true);
  });

  it('follows attribute changes, refuses a script setup-url, and announces "Not now" to the page', async () => {
    await page.goto(`${server.url}/`);
    await page.evaluate(() => {
      const element = document.querySelector('two-factor-prompt');
      element.setAttribute('heading', 'Sécurisez votre compte');
      element.setAttribute('setup-url', 'javascript:alert(1)');
      document.addEventListener('two-factor-prompt-dismiss', () => document.body.setAttribute('data-dismissed', 'yes'));
    });
    expect(await banner().innerText()).toContain('Sécurisez votre compte');
    expect(await banner().getByRole('link').count()).toBe(0);
    await banner().getByRole('button', { name: 'Not now' }).click();
    expect(await page.getAttribute('body', 'data-dismissed')).toBe('yes');
  });

  it('follows setup-url on "Set up now"', async () => {
    await page.goto(`${server.url}/`);
    await banner().getByRole('link', { name: 'Set up now' }).click();
    await page.waitForURL(`${server.url}/setup`);
  });

  it('is reached and used by keyboard, with a visible focus ring', async () => {
    await page.goto(`${server.url}/`);
    await page.keyboard.press('Tab');
    const focused = () =>
      page.evaluate(() => {
        const inner = document.activeElement?.shadowRoot?.activeElement;
        return inner ? { text: inner.textContent, outline: getComputedStyle(inner).outlineStyle, width: getComputedStyle(inner).outlineWidth } : null;
      });
    expect(await focused()).toEqual({ text: 'Set up now', outline: 'solid', width: '3px' });
    await page.keyboard.press('Tab');
    expect(await focused()).toMatchObject({ text: 'Not now', outline: 'solid' });
    await page.keyboard.press('Enter');
    expect(await page.locator('two-factor-prompt').isVisible()).toBe(false);
  });

  it('leaks no style either way: page rules do not restyle the banner, and the banner does not restyle the page', async () => {
    await page.goto(`${server.url}/`);
    const inner = await page.evaluate(() => {
      const root = document.querySelector('two-factor-prompt')!.shadowRoot!;
      const styleOf = (selector: string) => {
        const s = getComputedStyle(root.querySelector(selector)!);
        return { color: s.color, fontSize: s.fontSize, border: s.borderTopStyle, font: s.fontFamily };
      };
      return { heading: styleOf('h2'), text: styleOf('p'), setup: getComputedStyle(root.querySelector('a')!).backgroundColor };
    });
    expect(inner.heading).toEqual({ color: 'rgb(26, 26, 26)', fontSize: '15px', border: 'none', font: expect.not.stringMatching(/^serif$/) });
    expect(inner.text.color).toBe('rgb(26, 26, 26)');
    // Custom properties are the one way in, by design.
    expect(inner.setup).toBe('rgb(0, 70, 140)');
    const pageStyles = () =>
      page.evaluate(() =>
        ['page-h2', 'page-p', 'page-a', 'page-button'].map((id) => {
          const s = getComputedStyle(document.getElementById(id)!);
          return [s.color, s.fontSize, s.borderTopStyle, s.borderTopWidth, s.backgroundColor, s.padding, s.fontWeight, s.outlineStyle].join(' ');
        }),
      );
    const withPrompt = await pageStyles();
    await page.goto(`${server.url}/plain`);
    expect(withPrompt).toEqual(await pageStyles());
  });

  it.each([
    ['the element', '/'],
    ['the server-rendered fallback', '/fallback'],
  ])('has no serious or critical axe violations: %s', async (_, path) => {
    await page.goto(`${server.url}${path}`);
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string }[] }> } }).axe;
      const result = await axe.run({ include: [['two-factor-prompt']] }, { resultTypes: ['violations'] });
      return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
    });
    expect(violations).toEqual([]);
  });

  describe('without JavaScript (the server-rendered fallback)', () => {
    beforeEach(async () => {
      await context.close();
      context = await browser.newContext({ javaScriptEnabled: false });
      page = await context.newPage();
      page.setDefaultTimeout(10_000);
    });

    it('shows the banner, hides it on "Not now", and shows it again on reload', async () => {
      await page.goto(`${server.url}/`);
      const fallback = page.getByRole('region', { name: 'Two-factor authentication' });
      expect(await fallback.isVisible()).toBe(true);
      expect(await fallback.innerText()).toContain('required for Xero');
      expect(await fallback.getByRole('link', { name: 'Set up now' }).getAttribute('href')).toBe('/setup');
      await page.locator('two-factor-prompt label.tfp-not-now').click();
      expect(await fallback.isVisible()).toBe(false);
      await page.reload();
      expect(await fallback.isVisible()).toBe(true);
    });

    it('"Not now" works from the keyboard too, after "Set up now", with a visible focus ring', async () => {
      await page.goto(`${server.url}/`);
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Set up now');
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => getComputedStyle(document.activeElement!.nextElementSibling!).outlineStyle)).toBe('solid');
      await page.keyboard.press('Space');
      expect(await page.locator('two-factor-prompt .tfp-banner').isVisible()).toBe(false);
    });
  });
});
