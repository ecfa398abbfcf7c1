import type { Page } from 'playwright-core';
import { mainText, originOf, pathOf, review, signInAs, startBrowserStack, totpAt, type BrowserStack } from '../support/browser-harness.js';

/** "Remember this device" in Chromium, through the demo host: remember, skip the code, forget on the manage page, asked again. */
describe('trusted device in Chromium, through the demo host', () => {
  let env: BrowserStack;
  beforeAll(async () => {
    env = await startBrowserStack();
  }, 60_000);
  afterAll(async () => {
    await env?.dispose();
  });

  const onVerifyPage = (page: Page) => originOf(page.url()) === env.stack.serviceUrl && pathOf(page) === '/two-factor/verify';
  const atHost = (page: Page) => `${originOf(page.url())}${pathOf(page)}`;
  const signOut = async (page: Page) => {
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign out' }).click()]);
    expect(pathOf(page)).toBe('/sign-in');
  };

  it('remembers this browser, continues without a code, forgets it on the manage page, then asks for the code again', async () => {
    const { stack, clock } = env;
    const key = stack.secrets.enrolledKeys['cleo']!;
    clock.advance(30_000);
    const page = await env.newPage();

    await signInAs(page, stack.demoUrl, 'cleo');
    expect(onVerifyPage(page)).toBe(true);
    const remember = page.getByLabel('Remember this device for 30 days');
    expect(await remember.isChecked()).toBe(false);
    await remember.check();
    await page.locator('input[name="code"]').fill(totpAt(key, clock));
    await review(page, 'device-01-remember-this-device');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Verify' }).click()]);
    expect({ at: atHost(page), says: await mainText(page) }).toMatchObject({ at: `${stack.demoUrl}/approvals` });
    const cookie = (await page.context().cookies(`${stack.serviceUrl}/two-factor/verify`)).find((c) => c.name === 'tfa_device');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/two-factor' });
    expect(cookie!.expires * 1000 - Date.now()).toBeGreaterThan(29 * 86_400_000);
    await signOut(page);

    // Signed in again (a fresh code step later): the remembered browser continues with one click, no code.
    clock.advance(30_000);
    await signInAs(page, stack.demoUrl, 'cleo');
    expect(onVerifyPage(page)).toBe(true);
    expect(await mainText(page)).toMatch(/remember this browser until/i);
    await review(page, 'device-02-continue-with-remembered-browser');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Continue' }).click()]);
    expect({ at: atHost(page), says: await mainText(page) }).toMatchObject({ at: `${stack.demoUrl}/approvals` });

    // The manage page lists it as this browser and forgets it.
    await page.goto(`${stack.demoUrl}/account/two-factor/manage`);
    expect(pathOf(page)).toBe('/two-factor/manage');
    const device = page.locator('.device-list li');
    expect(await device.count()).toBe(1);
    expect(await device.innerText()).toMatch(/Chrome on Linux[\s\S]*this browser[\s\S]*last used/i);
    await review(page, 'device-03-manage-lists-device');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: /^Forget / }).click()]);
    expect(await mainText(page)).toMatch(/device is forgotten/i);
    expect(await page.locator('.device-list li').count()).toBe(0);
    expect((await page.context().cookies(`${stack.serviceUrl}/two-factor/verify`)).find((c) => c.name === 'tfa_device')).toBeUndefined();
    await review(page, 'device-04-device-forgotten');

    // Signed in again: the code is asked for, and nothing offers to skip it.
    await page.goto(`${stack.demoUrl}/approvals`);
    await signOut(page);
    await signInAs(page, stack.demoUrl, 'cleo');
    expect(onVerifyPage(page)).toBe(true);
    expect(await page.getByRole('button', { name: 'Continue' }).count()).toBe(0);
    expect(await page.locator('input[name="code"]').count()).toBe(1);
    await review(page, 'device-05-code-asked-again');
  }, 120_000);
});
