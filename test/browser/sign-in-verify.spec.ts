import type { Page } from 'playwright-core';
import { mainText, originOf, pathOf, review, signInAs, startBrowserStack, totpAt, type BrowserStack } from '../support/browser-harness.js';

/** The sign-in challenge for a user with 2FA: the service checks the code, the host checks the assertion. */
describe('sign-in challenge in Chromium, through the demo host', () => {
  let env: BrowserStack;
  beforeAll(async () => {
    env = await startBrowserStack();
  }, 60_000);
  afterAll(async () => {
    await env?.dispose();
  });

  const onVerifyPage = (page: Page) => originOf(page.url()) === env.stack.serviceUrl && pathOf(page) === '/two-factor/verify';
  const submitCode = async (page: Page, code: string) => {
    await page.locator('input[name="code"]').first().fill(code);
    await Promise.all([page.waitForNavigation(), page.locator('input[name="code"]').first().press('Enter')]);
  };
  /** The backup code goes in its own field when the page has one, else in the code field. */
  const submitBackupCode = async (page: Page, code: string) => {
    const own = page.locator('input[name="backupCode"]');
    if ((await own.count()) === 0) return submitCode(page, code);
    if (!(await own.isVisible())) await page.getByText(/backup code/i).first().click();
    await own.fill(code);
    await Promise.all([page.waitForNavigation(), own.press('Enter')]);
  };
  const signOut = async (page: Page) => {
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign out' }).click()]);
    expect(pathOf(page)).toBe('/sign-in');
  };

  it('signs in with a code, then a backup code; refuses a replayed code, locks out, and the host refuses a replayed assertion', async () => {
    const { stack, clock } = env;
    const key = stack.secrets.enrolledKeys['cleo']!;
    const backupCode = stack.backupCodes['cleo']![0]!;
    // The seed's confirmation used the current time step: the next one is fresh.
    clock.advance(30_000);
    const page = await env.newPage();
    const assertions: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(`${stack.demoUrl}/sign-in/two-factor?`)) assertions.push(request.url());
    });

    await signInAs(page, stack.demoUrl, 'cleo');
    expect(onVerifyPage(page)).toBe(true);
    await review(page, 'verify-01-challenge');
    const code = totpAt(key, clock);
    await submitCode(page, code);
    expect({ at: `${originOf(page.url())}${pathOf(page)}`, says: await mainText(page) }).toMatchObject({ at: `${stack.demoUrl}/approvals` });
    expect(assertions).toHaveLength(1);
    await signOut(page);

    await signInAs(page, stack.demoUrl, 'cleo');
    expect(onVerifyPage(page)).toBe(true);
    await submitBackupCode(page, backupCode);
    expect(`${originOf(page.url())}${pathOf(page)}`).toBe(`${stack.demoUrl}/approvals`);
    // The assertion says a backup code was spent (amr), and the host says so.
    await page.getByText('You signed in with a backup code.', { exact: false }).waitFor();
    await review(page, 'verify-02a-signed-in-with-backup-code');
    await signOut(page);

    // The same TOTP code again, within its time step: refused as already used.
    await signInAs(page, stack.demoUrl, 'cleo');
    await submitCode(page, code);
    expect(onVerifyPage(page)).toBe(true);
    expect(await page.locator('main, body').first().innerText()).toMatch(/already (been )?used/i);
    await review(page, 'verify-02-replayed-code');

    // Wrong codes until the lockout, which says how long it lasts.
    let text = '';
    for (let attempt = 0; attempt < 6 && !/locked|too many/i.test(text); attempt += 1) {
      await submitCode(page, '000000');
      text = await page.locator('main, body').first().innerText();
    }
    expect(text).toMatch(/locked|too many/i);
    expect(text).toMatch(/minute/i);
    // Every code is refused until the lockout ends: the field and the button say so by being disabled.
    expect(await page.locator('#code').isDisabled()).toBe(true);
    expect(await page.locator('form[action="/two-factor/verify"] button[type="submit"]').isDisabled()).toBe(true);
    await review(page, 'verify-03-locked-out');

    // Cleo's host sign-in still waits for a second factor: the assertion already used must not complete it.
    const response = await page.goto(assertions[0]!);
    expect(response?.status()).toBe(403);
    expect(await page.locator('main').innerText()).toMatch(/already used/i);
    expect(pathOf(page)).toBe('/sign-in/two-factor');
    await review(page, 'verify-04-host-refuses-replayed-assertion');
  }, 90_000);
});
