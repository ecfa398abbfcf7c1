import type { Page } from 'playwright-core';
import { changeMode, confirmSetup, continueFrom, originOf, pathOf, review, signInAs, startBrowserStack, type BrowserStack } from '../support/browser-harness.js';

/** Hard enforcement as a person meets it in the demo host: nothing but the 2FA page until set up. */
describe('hard enforcement in Chromium, through the demo host', () => {
  let env: BrowserStack;
  beforeAll(async () => {
    env = await startBrowserStack();
  }, 60_000);
  afterAll(async () => {
    await env?.dispose();
  });

  const HOST_PAGES = ['/approvals', '/approvals/INV-1042', '/settings', '/'];
  const onRequiredPage = (page: Page) => originOf(page.url()) === env.stack.serviceUrl && pathOf(page) === '/two-factor/required';

  it('redirects every page and action to /two-factor/required (also after Back and typed URLs); after setup the same pages are allowed', async () => {
    const { stack, clock } = env;
    const page = await env.newPage();
    // Dev starts out merely prompted, so host pages with actions are open in the tab when the organisation turns hard.
    await changeMode(stack, 'northwind-legal', 'soft', 'dev', 'prompt');
    await signInAs(page, stack.demoUrl, 'dev');
    expect(pathOf(page)).toBe('/approvals');
    await changeMode(stack, 'northwind-legal', 'hard', 'dev', 'redirect');

    // An action from the page already open.
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Approve INV-1042' }).click()]);
    expect(onRequiredPage(page)).toBe(true);
    await review(page, 'hard-01-required');
    await page.setViewportSize({ width: 390, height: 844 });
    await review(page, 'hard-01b-required-narrow');
    await page.setViewportSize({ width: 1100, height: 800 });
    const requiredText = await page.locator('main, body').first().innerText();
    expect(requiredText).toMatch(/Northwind Legal|northwind-legal/);

    // The browser's Back button returns to the host page, which is asked for again and redirected.
    await page.goBack();
    await page.waitForLoadState();
    expect({ landed: page.url(), required: onRequiredPage(page) }).toMatchObject({ required: true });
    expect(await page.getByRole('button', { name: 'Approve INV-1042' }).count()).toBe(0);

    // Typed URLs.
    for (const path of HOST_PAGES) {
      await page.goto(`${stack.demoUrl}${path}`);
      expect({ path, landed: page.url(), required: onRequiredPage(page) }).toMatchObject({ path, required: true });
    }
    // A form post from elsewhere (no CSRF token needed to be turned away first).
    await page.setContent(`<form method="post" action="${stack.demoUrl}/approvals/INV-1043/approve"><button>go</button></form>`);
    await Promise.all([page.waitForNavigation(), page.locator('button').click()]);
    expect(onRequiredPage(page)).toBe(true);

    // The one way forward: set up now.
    const setUp = page.getByRole('link', { name: /set up/i }).or(page.getByRole('button', { name: /set up/i })).first();
    await Promise.all([page.waitForNavigation(), setUp.click()]);
    expect(pathOf(page)).toBe('/two-factor/setup');
    await review(page, 'hard-02-setup');
    const { backupCodes } = await confirmSetup(page, clock);
    expect(backupCodes).toHaveLength(10);
    expect(new Set(backupCodes).size).toBe(10);
    await review(page, 'hard-03-backup-codes');
    await continueFrom(page);
    expect(originOf(page.url())).toBe(stack.demoUrl);
    // Shown once: the setup page, asked for again, has no codes to show.
    await page.goto(`${stack.serviceUrl}/two-factor/setup`);
    expect(await page.locator('[data-backup-code]').count()).toBe(0);

    // Allowed now, pages and actions alike.
    for (const path of HOST_PAGES) {
      await page.goto(`${stack.demoUrl}${path}`);
      expect({ path, landed: originOf(page.url()) }).toEqual({ path, landed: stack.demoUrl });
    }
    await page.goto(`${stack.demoUrl}/approvals`);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Approve INV-1042' }).click()]);
    expect(pathOf(page)).toBe('/approvals');
    await page.getByText('INV-1042 approved.').waitFor();
    await review(page, 'hard-04-allowed-after-setup');
  }, 90_000);
});
