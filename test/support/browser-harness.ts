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
