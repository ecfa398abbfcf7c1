import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { generateSync } from 'otplib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { FakeClock } from '../../src/kernel/clock.js';
import { startDemoStack, type DemoStack } from '../../examples/demo-stack.js';
import { makeTempDir } from './temp-dir.js';

/**
 * Real Chromium (Debian's package) driving the demo host beside the real service, both in this
 * process on loopback ports. Only the service's time is fake, so a test can step past a TOTP
 * window or a hand-off's expiry without waiting.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const STEP_TIMEOUT_MS = 10_000;

export interface BrowserStack {
  readonly stack: DemoStack;
  readonly clock: FakeClock;
  readonly browser: Browser;
  /** A new browser profile's worth of state: no cookies, no history. */
  newPage(): Promise<Page>;
  /** Everything the service logged, for failure diagnosis. */
  logs(): string;
  dispose(): Promise<void>;
}

/** Fails (never skips) without Chromium: CI installs it in .ci/run, and a skipped browser suite would hide a broken product. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is missing at ${CHROMIUM_PATH}: the browser tests need Debian's chromium package (apt-get install -y chromium; .ci/run installs it).`);
  }
}

export async function startBrowserStack(): Promise<BrowserStack> {
  requireChromium();
  const temp = makeTempDir('tfe-browser-');
  const clock = new FakeClock(new Date());
  let captured = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      captured += chunk.toString();
      done();
    },
  });
  const stack = await startDemoStack({ dataDir: temp.path, port: 0, demoPort: 0, clock, env: { LOG_LEVEL: 'warn' }, logDestination: sink });
  let browser: Browser;
  try {
    // launch() gives every run a fresh temporary user-data-dir, removed on close.
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, timeout: 20_000 });
  } catch (error) {
    await stack.stop();
    temp.remove();
    throw error;
  }
  const contexts: BrowserContext[] = [];
  return {
    stack,
    clock,
    browser,
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
      context.setDefaultTimeout(STEP_TIMEOUT_MS);
      context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
      contexts.push(context);
      return context.newPage();
    },
    logs: () => captured,
    async dispose() {
      await Promise.allSettled(contexts.map((context) => context.close()));
      await browser.close();
      await stack.stop();
      temp.remove();
    },
  };
}

/** The current TOTP code for a key, at the service's (fake) time. */
export function totpAt(secret: string, clock: FakeClock): string {
  return generateSync({ secret, epoch: Math.floor(clock.now().getTime() / 1000) });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: string[];
}

/**
 * Runs axe-core inside the page as it is. DevTools evaluation is not subject to the page's CSP,
 * so the pages keep their real policy (no bypassCSP) while axe looks at them.
 */
export async function seriousAccessibilityViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.map((violation) => ({ id: violation.id, impact: violation.impact, help: violation.help, targets: violation.nodes.map((node) => String(node.target.join(' '))) }));
  });
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

/** Screenshot and accessibility check of the page the browser shows now. */
export async function review(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  const violations = await seriousAccessibilityViolations(page);
  if (violations.length > 0) {
    throw new Error(`${name} (${page.url()}) has serious accessibility violations:\n${violations.map((v) => `  ${v.impact} ${v.id}: ${v.help} at ${v.targets.join(', ')}`).join('\n')}`);
  }
}

export function pathOf(page: Page): string {
  return new URL(page.url()).pathname;
}

export function originOf(url: string): string {
  return new URL(url).origin;
}

export async function signInAs(page: Page, demoUrl: string, userId: string): Promise<void> {
  await page.goto(`${demoUrl}/sign-in`);
  await Promise.all([page.waitForNavigation(), page.locator(`button[data-user="${userId}"]`).click()]);
}

/** Changes an organisation's mode over the API and waits until the user's decision shows it. */
export async function changeMode(stack: DemoStack, orgId: string, mode: 'off' | 'soft' | 'hard', userId: string, action: 'allow' | 'prompt' | 'redirect'): Promise<void> {
  const token = await stack.platformToken();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const changed = await fetch(`${stack.serviceUrl}/v1/organisations/${orgId}/enforcement`, { method: 'PUT', headers, body: JSON.stringify({ mode, reason: 'browser test' }) });
  if (changed.status !== 200) throw new Error(`mode change answered ${changed.status}`);
  const { position } = (await changed.json()) as { position: string };
  const decision = await fetch(`${stack.serviceUrl}/v1/enforcement/${userId}?minPosition=${position}`, { headers });
  const body = (await decision.json()) as { action: string };
  if (body.action !== action) throw new Error(`expected ${userId}'s decision to be ${action}, got ${JSON.stringify(body)}`);
}

/** On the setup page: reads the manual key, enters the current code, returns the backup codes shown. */
export async function confirmSetup(page: Page, clock: FakeClock): Promise<{ key: string; backupCodes: string[] }> {
  const key = await page.locator('[data-manual-key]').first().getAttribute('data-manual-key');
  if (!key) throw new Error(`no data-manual-key on ${page.url()}`);
  await page.locator('input[name="code"]').fill(totpAt(key, clock));
  await Promise.all([page.waitForNavigation(), page.locator('input[name="code"]').press('Enter')]);
  await page
    .locator('[data-backup-code]')
    .first()
    .waitFor()
    .catch(async (error: Error) => {
      throw new Error(`no backup codes after the code on ${page.url()}: ${await mainText(page)}`, { cause: error });
    });
  const backupCodes = (await page.locator('[data-backup-code]').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-backup-code') || node.textContent || ''))).map((code) => code.trim());
  return { key, backupCodes };
}

/** Follows the page's "Continue" (a link or a button). */
export async function continueFrom(page: Page): Promise<void> {
  const target = page.getByRole('link', { name: /continue/i }).or(page.getByRole('button', { name: /continue/i })).first();
  await Promise.all([page.waitForNavigation(), target.click()]);
}

/** What the page says, for failure messages. */
export async function mainText(page: Page): Promise<string> {
  return (await page.locator('main, body').first().innerText().catch(() => '(no text)')).replace(/\s+/g, ' ').slice(0, 600);
}
