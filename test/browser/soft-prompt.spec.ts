import type { Page } from 'playwright-core';
import { confirmSetup, continueFrom, originOf, pathOf, review, signInAs, startBrowserStack, type BrowserStack } from '../support/browser-harness.js';

/** The soft prompt: on every page load, skippable for that view, gone once 2FA is on. */
describe('soft prompt in Chromium, through the demo host', () => {
  let env: BrowserStack;
  beforeAll(async () => {
    env = await startBrowserStack();
  }, 60_000);
  afterAll(async () => {
    await env?.dispose();
  });

  const prompt = (page: Page) => page.locator('two-factor-prompt');
  // Roles, not text: once prompt.js upgrades the element, its light-DOM fallback is still there but not rendered.
  const setUpNow = (page: Page) => prompt(page).getByRole('link', { name: 'Set up now' });
  const notNow = (page: Page) => prompt(page).getByRole('button', { name: 'Not now' });

  it('shows the prompt on every load, hides it with "Not now" until the next load, and never again after "Set up now"', async () => {
    const { stack, clock } = env;
    const page = await env.newPage();
    const cspErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) cspErrors.push(message.text());
    });
    await page.goto(`${stack.demoUrl}/sign-in`);
    await review(page, 'soft-01-sign-in');
    await signInAs(page, stack.demoUrl, 'ben');
    expect(pathOf(page)).toBe('/approvals');
    await setUpNow(page).waitFor();
    // Who asks and why: the organisation by name, and Xero as the reason.
    await prompt(page).getByText(/Harbour Books Ltd asks you/).filter({ visible: true }).first().waitFor();
    await prompt(page).getByText(/Xero/).filter({ visible: true }).first().waitFor();
    await review(page, 'soft-02-approvals-with-prompt');
    // A phone-sized window: the prompt and the table must stay usable.
    await page.setViewportSize({ width: 390, height: 844 });
    await review(page, 'soft-02b-approvals-with-prompt-narrow');
    await page.setViewportSize({ width: 1100, height: 800 });

    await notNow(page).click();
    await setUpNow(page).waitFor({ state: 'hidden' });
    await review(page, 'soft-03-prompt-dismissed');

    await page.reload();
    await setUpNow(page).waitFor();
    await page.goto(`${stack.demoUrl}/approvals/INV-1044`);
    await setUpNow(page).waitFor();
    await review(page, 'soft-04-invoice-with-prompt');
    await page.goto(`${stack.demoUrl}/settings`);
    await setUpNow(page).waitFor();
    await review(page, 'soft-05-settings-with-prompt');

    await Promise.all([page.waitForURL(/\/two-factor\/setup/), setUpNow(page).click()]);
    expect(originOf(page.url())).toBe(stack.serviceUrl);
    await review(page, 'soft-06-setup');
    const { backupCodes } = await confirmSetup(page, clock);
    expect(backupCodes).toHaveLength(10);
    await continueFrom(page);
    expect(`${originOf(page.url())}${pathOf(page)}`).toBe(`${stack.demoUrl}/settings`);
    expect(await prompt(page).count()).toBe(0);
    expect(await page.locator('[data-two-factor-status]').getAttribute('data-two-factor-status')).toBe('on');
    await review(page, 'soft-07-settings-after-setup');

    for (const path of ['/approvals', '/approvals/INV-1044', '/settings']) {
      await page.goto(`${stack.demoUrl}${path}`);
      expect({ path, prompts: await prompt(page).count() }).toEqual({ path, prompts: 0 });
    }
    await page.reload();
    expect(await prompt(page).count()).toBe(0);
    expect(cspErrors).toEqual([]);

    // Settings leads to the service's manage page through a `manage` hand-off.
    await page.goto(`${stack.demoUrl}/settings`);
    await Promise.all([page.waitForURL(/\/two-factor\/manage/), page.getByRole('link', { name: 'Manage two-factor authentication' }).click()]);
    expect(originOf(page.url())).toBe(stack.serviceUrl);
    await review(page, 'soft-08-manage');
  }, 90_000);
});
