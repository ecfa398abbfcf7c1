import type { Page } from 'playwright-core';
import { mainText, originOf, pathOf, review, signInAs, startBrowserStack, type BrowserStack } from '../support/browser-harness.js';

/**
 * The console in Chromium, reached as its users reach it: through hand-offs from the demo host
 * (an org admin from Settings, back-office staff from the sign-in page, each with the roles the
 * host gives them). Every console page gets a screenshot and an axe check.
 */
describe('console in Chromium, through the demo host', () => {
  let env: BrowserStack;
  /** The service's time when the demo was seeded (Harbour Books: Xero-connected, soft). */
  let seededAt: Date;
  beforeAll(async () => {
    env = await startBrowserStack();
    seededAt = env.clock.now();
    // The admin's change below happens a minute after the seed, so the auditor can pick an instant between
    // (no more: the host signs hand-offs by its own clock, and they live a few minutes).
    env.clock.advance(60_000);
  }, 60_000);
  afterAll(async () => {
    await env?.dispose();
  });

  const click = async (page: Page, name: RegExp | string, role: 'link' | 'button' = 'link') => {
    await Promise.all([page.waitForNavigation(), page.getByRole(role, { name }).first().click()]);
  };

  async function openStaffConsole(page: Page, staffId: string): Promise<void> {
    await page.goto(`${env.stack.demoUrl}/sign-in`);
    await Promise.all([page.waitForNavigation(), page.locator(`button[data-staff="${staffId}"]`).click()]);
    expect({ origin: originOf(page.url()), path: pathOf(page) }).toEqual({ origin: env.stack.serviceUrl, path: '/console' });
  }

  it('lets an org admin switch soft → hard with a reason after seeing the preview; a member is redirected at once; off is not offered while Xero-connected', async () => {
    const { stack } = env;
    const page = await env.newPage();
    await signInAs(page, stack.demoUrl, 'ada');
    await page.goto(`${stack.demoUrl}/settings`);
    await Promise.all([page.waitForNavigation(), page.locator('[data-open-console]').click()]);
    expect(pathOf(page)).toBe('/console');
    await review(page, 'console-01-admin-index');

    await click(page, 'Harbour Books Ltd');
    expect(pathOf(page)).toBe('/console/organisations/harbour-books');
    // Xero-connected: no "off" choice, and the reason is on the page.
    expect(await page.locator('input[name="mode"][value="off"]').count()).toBe(0);
    await page.getByText(/Off is not offered: this organisation is connected to Xero/).waitFor();
    await review(page, 'console-02-organisation');
    await page.setViewportSize({ width: 390, height: 844 });
    await review(page, 'console-02b-organisation-narrow');
    await page.setViewportSize({ width: 1100, height: 800 });

    await page.locator('label[for="mode-hard"]').click();
    await click(page, 'Preview the effect', 'button');
    // Ada and Ben have no 2FA yet, Cleo has.
    await page.getByText('2 members will be redirected to set up two-factor authentication at their next page load.').waitFor();
    await review(page, 'console-03-preview');

    // A reason is required.
    await click(page, 'Switch to Hard', 'button');
    await page.getByText('Write why you are changing the mode.').waitFor();
    await review(page, 'console-04-reason-required');
    await page.getByLabel('Reason for the change').fill('Xero security review: everyone on 2FA this week');
    await click(page, 'Switch to Hard', 'button');
    await page.getByText('The mode is now Hard.', { exact: false }).waitFor();
    await page.getByRole('cell', { name: 'Xero security review: everyone on 2FA this week' }).first().waitFor();
    await review(page, 'console-05-saved');

    // Ben, a member of the organisation, is redirected at his next page load.
    const ben = await env.newPage();
    await signInAs(ben, stack.demoUrl, 'ben');
    expect({ origin: originOf(ben.url()), path: pathOf(ben) }).toEqual({ origin: stack.serviceUrl, path: '/two-factor/required' });
  }, 90_000);

  it('lets support find a user by e-mail and reset their factor with a reason and a confirmation; the reason is in the timeline', async () => {
    const page = await env.newPage();
    await openStaffConsole(page, 'sam');
    await review(page, 'console-10-support-index');
    await click(page, /^Open: Support$/);
    await review(page, 'console-11-support-search');
    await page.getByLabel('User id or e-mail address').fill('cleo@example.com');
    await click(page, 'Find user', 'button');
    expect(pathOf(page)).toBe('/console/support/users/cleo');
    expect(await page.locator('[data-two-factor-status]').getAttribute('data-two-factor-status')).toBe('enabled');
    await review(page, 'console-12-support-user');

    await page.getByLabel('Reason for the reset').fill('Lost phone and backup codes; identity checked on a video call');
    await click(page, 'Continue', 'button');
    await page.getByRole('button', { name: 'Yes, reset two-factor authentication' }).waitFor();
    await review(page, 'console-13-confirm-reset');
    await click(page, 'Yes, reset two-factor authentication', 'button');
    await page.getByText('Two-factor authentication was reset.', { exact: false }).waitFor();
    expect(await page.locator('[data-two-factor-status]').getAttribute('data-two-factor-status')).toBe('none');
    const timeline = page.locator('table[data-timeline]');
    await timeline.getByRole('cell', { name: 'Lost phone and backup codes; identity checked on a video call' }).waitFor();
    expect(await timeline.locator('tbody tr').first().innerText()).toContain('TwoFactorReset');
    await review(page, 'console-14-reset-done');
  }, 90_000);

  it('lets an auditor open a timeline, see an earlier instant\'s mode, run the integrity check and download the report', async () => {
    const page = await env.newPage();
    await openStaffConsole(page, 'avery');
    await click(page, /^Open: Audit$/);
    await review(page, 'console-20-audit');
    await page.getByLabel('Id', { exact: true }).fill('harbour-books');
    await click(page, 'Open timeline', 'button');
    await page.locator('[data-chain-status="intact"]').waitFor();
    await page.locator('table[data-audit-timeline]').getByText('Xero security review: everyone on 2FA this week').waitFor();
    // Times are shown in the viewer's zone by console.js, the UTC instant on hover.
    const firstTime = page.locator('table[data-audit-timeline] time').first();
    expect(await firstTime.getAttribute('title')).toMatch(/^UTC: \d{4}-\d{2}-\d{2}T/);
    await review(page, 'console-21-timeline');

    // An instant between the seed and the admin's change, typed in the browser's own time zone.
    const between = new Date(seededAt.getTime() + 30_000).toISOString();
    const local = await page.evaluate((iso) => {
      const d = new Date(iso);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    }, between);
    await page.locator('input[name="at"]').fill(local);
    await click(page, 'Show state', 'button');
    const facts = page.locator('[data-state] dl');
    await facts.waitFor();
    expect(await facts.innerText()).toMatch(/Mode\s+Soft/);
    await review(page, 'console-22-state-earlier');
    const now = await page.evaluate(() => {
      const d = new Date(Date.now() + 60 * 60_000);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    });
    await page.locator('input[name="at"]').fill(now);
    await click(page, 'Show state', 'button');
    expect(await page.locator('[data-state] dl').innerText()).toMatch(/Mode\s+Hard/);

    // The integrity check runs as a job; its page refreshes itself until done.
    await click(page, 'Run the integrity check', 'button');
    expect(pathOf(page)).toMatch(/^\/console\/audit\/integrity\/[A-Za-z0-9_-]{22}$/);
    await page.locator('[data-job-state="done"]').waitFor({ timeout: 20_000 });
    expect(await mainText(page)).toMatch(/no break found/);
    await review(page, 'console-23-integrity');

    // The compliance report for the period, then its download.
    await click(page, /Back to the audit console/);
    const today = env.clock.now().toISOString().slice(0, 10);
    await page.getByLabel('Organisation id').fill('harbour-books');
    await page.getByLabel('From (UTC, inclusive)').fill(today);
    await page.getByLabel('To (UTC, inclusive)').fill(today);
    await click(page, 'Show report', 'button');
    expect(pathOf(page)).toBe('/console/audit/compliance');
    await page.getByRole('rowheader', { name: 'ben' }).first().waitFor();
    await review(page, 'console-24-compliance');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-download="csv"]').click()]);
    expect(download.suggestedFilename()).toBe(`compliance-harbour-books-${today}-${today}.csv`);
    const path = await download.path();
    const { readFileSync } = await import('node:fs');
    const csv = readFileSync(path, 'utf8');
    expect(csv.split('\r\n')[0]).toMatch(/^record,orgId,userId/);
    expect(csv).toContain('Xero security review: everyone on 2FA this week');
  }, 90_000);

  it('shows a plain member the 403 "not allowed" page', async () => {
    const page = await env.newPage();
    // Dev is a member (not an admin) of Northwind Legal, and no member of staff.
    await signInAs(page, env.stack.demoUrl, 'dev');
    await page.goto(`${env.stack.demoUrl}/account/two-factor/console`);
    expect(pathOf(page)).toBe('/console');
    const response = await page.reload();
    expect(response?.status()).toBe(403);
    await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    await review(page, 'console-30-not-allowed');
  }, 60_000);
});
