import { randomBytes } from 'node:crypto';
import type { EnforcementDecision } from './enforcement.decision.js';

/** What the prompt's sentences may mention. */
export interface PromptContext {
  /** How many organisations ask for 2FA. */
  readonly count: number;
  readonly productName?: string;
  /** Whether one of them is connected to Xero (which requires 2FA). */
  readonly xero: boolean;
}

/** The prompt's words: replace any of them to translate or rephrase. Functions get the context. */
export interface PromptStrings {
  /** The banner's accessible name. */
  readonly label: string;
  readonly heading: string | ((context: PromptContext) => string);
  /** Who asks and why. */
  readonly message: string | ((context: PromptContext) => string);
  /** Shown when an enforcing organisation is connected to Xero. */
  readonly xeroReason: string | ((context: PromptContext) => string);
  readonly setUp: string;
  readonly notNow: string;
}

export const DEFAULT_PROMPT_STRINGS: PromptStrings = {
  label: 'Two-factor authentication',
  heading: 'Protect your account with two-factor authentication',
  message: ({ count, productName }) =>
    `${count === 1 ? 'An organisation you belong to' : `${count} organisations you belong to`}${productName ? ` in ${productName}` : ''} ${count === 1 ? 'asks' : 'ask'} you to set up two-factor authentication.`,
  xeroReason: 'It is required for Xero: Xero asks everyone who works in a connected organisation to use two-factor authentication.',
  setUp: 'Set up now',
  notNow: 'Not now',
};

export interface RenderPromptOptions {
  /** The host's route that sends the user to the setup hand-off (`handoffUrl({ purpose: 'setup', ... })`). */
  readonly setupUrl: string;
  readonly productName?: string;
  readonly strings?: Partial<PromptStrings>;
  /** The host page's CSP nonce, for the banner's small fallback stylesheet. */
  readonly nonce?: string;
}

/**
 * The soft prompt as HTML for the host's layout: a `<two-factor-prompt>` element that
 * `/two-factor/prompt.js` upgrades, with light-DOM content that works without JavaScript
 * ("Not now" is a checkbox whose label hides the banner for this page view, by CSS only).
 * Every value is escaped. Returns `''` unless the decision is `prompt`.
 * @throws TypeError when `setupUrl` is not an http(s) URL or a path (never a `javascript:` URL).
 */
export function renderPrompt(decision: EnforcementDecision | null | undefined, options: RenderPromptOptions): string {
  if (!decision || decision.action !== 'prompt') return '';
  const setupUrl = safeLink(options.setupUrl);
  const strings = { ...DEFAULT_PROMPT_STRINGS, ...options.strings };
  const context: PromptContext = {
    count: Math.max(1, decision.enforcedBy.length),
    xero: decision.enforcedBy.some((org) => org.xeroConnected),
    ...(options.productName !== undefined ? { productName: options.productName } : {}),
  };
  const heading = phrase(strings.heading, context);
  const message = phrase(strings.message, context);
  const reason = context.xero ? phrase(strings.xeroReason, context) : '';
  // Unique per banner so two prompts on one page never toggle each other.
  const id = `tfp-${randomBytes(6).toString('hex')}`;
  const attributes = [
    attr('setup-url', setupUrl),
    attr('org-count', String(context.count)),
    context.xero ? attr('xero', '') : '',
    options.productName !== undefined ? attr('product-name', options.productName) : '',
    attr('label', strings.label),
    attr('heading', heading),
    attr('message', message),
    reason ? attr('reason', reason) : '',
    attr('setup-label', strings.setUp),
    attr('dismiss-label', strings.notNow),
  ].join('');
  return [
    `<two-factor-prompt${attributes}>`,
    `<style${options.nonce !== undefined ? attr('nonce', options.nonce) : ''}>${FALLBACK_CSS}</style>`,
    `<section class="tfp-banner" aria-label="${escapeHtml(strings.label)}">`,
    `<p class="tfp-heading"><strong>${escapeHtml(heading)}</strong></p>`,
    `<p class="tfp-message">${escapeHtml(message)}${reason ? ` ${escapeHtml(reason)}` : ''}</p>`,
    `<p class="tfp-actions"><a class="tfp-setup" href="${escapeHtml(setupUrl)}">${escapeHtml(strings.setUp)}</a> `,
    `<input type="checkbox" class="tfp-dismiss" id="${id}">`,
    `<label class="tfp-not-now" for="${id}">${escapeHtml(strings.notNow)}</label></p>`,
    `</section>`,
    `</two-factor-prompt>`,
  ].join('');
}

/**
 * Scoped to the element so it never styles the host page. The checkbox stays focusable after
 * "Set up now" (keyboard users toggle it with Space) while only its label shows; `:has()` lets
 * it sit in reading order instead of before the banner.
 */
const FALLBACK_CSS = [
  'two-factor-prompt{display:block}',
  'two-factor-prompt .tfp-dismiss{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}',
  'two-factor-prompt:has(.tfp-dismiss:checked) .tfp-banner{display:none}',
  'two-factor-prompt .tfp-banner{margin:0;padding:12px 16px;border-radius:var(--tfp-radius,8px);background:var(--tfp-bg,#eef3fd);color:var(--tfp-fg,#1a1a1a);font:15px/1.5 var(--tfp-font,system-ui,sans-serif)}',
  'two-factor-prompt .tfp-banner p{margin:0 0 8px}',
  'two-factor-prompt .tfp-setup,two-factor-prompt .tfp-not-now{display:inline-block;padding:6px 14px;border-radius:var(--tfp-radius,8px);cursor:pointer;font-weight:600;text-decoration:none}',
  'two-factor-prompt .tfp-setup{background:var(--tfp-brand,#0b57d0);color:var(--tfp-brand-fg,#fff)}',
  'two-factor-prompt .tfp-not-now{border:1px solid currentColor;color:var(--tfp-fg,#1a1a1a)}',
  'two-factor-prompt .tfp-setup:focus-visible,two-factor-prompt .tfp-dismiss:focus-visible+.tfp-not-now{outline:3px solid var(--tfp-focus,#1a1a1a);outline-offset:2px}',
].join('');

function phrase(value: string | ((context: PromptContext) => string), context: PromptContext): string {
  return typeof value === 'function' ? value(context) : value;
}

function attr(name: string, value: string): string {
  return ` ${name}="${escapeHtml(value)}"`;
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for HTML content and quoted attribute values alike. */
export function escapeHtml(value: string): string {
  return String(value).replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function safeLink(value: string): string {
  if (typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\')) return value;
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url.href;
  } catch {
    // Falls through to the refusal below.
  }
  throw new TypeError('renderPrompt: setupUrl must be an http(s) URL or a path on this host');
}
