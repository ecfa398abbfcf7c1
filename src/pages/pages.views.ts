import { html, trusted, type Html } from './html.template.js';
import type { Brand } from './pages.brand.js';
import { STRINGS as S } from './pages.strings.js';

/** What every page needs besides its own content. */
export interface PageFrame {
  readonly brand: Brand;
  readonly nonce: string;
  /** The session's CSRF token when there is a session (then the footer offers sign-out). */
  readonly csrf: string | null;
}

export interface CodeError {
  readonly message: string;
  /** Set when the refusal is a lockout: every code form of the user is refused until then. */
  readonly lockedUntil?: string;
}

export const ASSETS = {
  css: '/two-factor/assets/pages.css',
  brandCss: '/two-factor/assets/brand.css',
  js: '/two-factor/assets/pages.js',
} as const;

export function layout(frame: PageFrame, title: string, body: Html): Html {
  const { brand } = frame;
  return html`${documentHead(`${title} · ${brand.productName}`, frame.nonce, { script: ASSETS.js })}
<body>
<a class="skip-link" href="#main">${S.skipToContent}</a>
<header class="masthead">
<div class="masthead-inner">${brandMark(brand)}</div>
</header>
<main id="main" class="card" tabindex="-1">
<h1>${title}</h1>
${body}
</main>
${pageFooter(brand, frame.csrf, 'footer')}
</body>
</html>
`;
}

/** Help and sign-out, the same on the pages and the console (sign-out only with a session to end). */
export function pageFooter(brand: Brand, csrf: string | null, className: string): Html {
  return html`<footer class="${className}">
${brand.supportUrl ? html`<a href="${brand.supportUrl}">${S.help}</a>` : null}
${csrf ? html`<form method="post" action="/two-factor/signout" class="inline-form">${csrfField(csrf)}<button type="submit" class="link-button">${S.signOut}</button></form>` : null}
</footer>`;
}

/**
 * The head every page and console page shares: never sent as a referrer, never indexed, the
 * pages' and the brand's stylesheets, and scripts only as files carrying the CSP nonce.
 */
export function documentHead(fullTitle: string, nonce: string, extra: { readonly script: string; readonly stylesheet?: string; readonly refreshSeconds?: number }): Html {
  return html`<!doctype html>
<html lang="${S.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
${extra.refreshSeconds ? html`<meta http-equiv="refresh" content="${extra.refreshSeconds}">` : null}
<title>${fullTitle}</title>
<link rel="stylesheet" href="${ASSETS.css}">
<link rel="stylesheet" href="${ASSETS.brandCss}">
${extra.stylesheet ? html`<link rel="stylesheet" href="${extra.stylesheet}">` : null}
<script src="${extra.script}" nonce="${nonce}" defer></script>
</head>`;
}

export function brandMark(brand: Brand): Html {
  return brand.logoUrl ? html`<img class="logo" src="${brand.logoUrl}" alt="${brand.productName}">` : html`<span class="product">${brand.productName}</span>`;
}

export function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="csrf" value="${csrf}">`;
}

export function alert(message: string | null): Html {
  if (!message) return html``;
  return html`<div class="alert" role="alert"><p>${message}</p></div>`;
}

export function notice(message: string): Html {
  return html`<div class="notice" role="status"><p>${message}</p></div>`;
}

/**
 * A form's code field and buttons, disabled while the user is locked out: the service refuses every
 * code (and backup code, and remembered browser) until then, so the page must not invite one.
 * The message stays readable above the greyed-out controls; a reload after the time enables them.
 * (The verify page then also drops its "lost your phone? use a backup code" hint: those wait too.)
 */
function codeControls(lock: CodeError | null, controls: Html): Html {
  return lock?.lockedUntil ? html`<fieldset class="code-controls" disabled>${controls}</fieldset>` : controls;
}

/** A code field: labelled, described by its hint and its error, numeric keyboard, one-time-code autofill. */
export function codeField(id: string, label: string, hint: string, error: CodeError | null, maxLength = 6): Html {
  const described = error ? `${id}-hint ${id}-error` : `${id}-hint`;
  return html`<div class="field${error ? ' field-error' : ''}">
<label for="${id}">${label}</label>
<p class="hint" id="${id}-hint">${hint}</p>
${error ? html`<p class="error-message" id="${id}-error" role="alert">${error.message}</p>` : null}
<input class="code-input" id="${id}" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" spellcheck="false" autocapitalize="off" maxlength="${maxLength + 3}" required aria-describedby="${described}"${error ? trusted(' aria-invalid="true" autofocus') : null}>
</div>`;
}

export interface SetupView {
  readonly qrCodeSvg: string;
  readonly manualKey: string;
  readonly expiresAt: string;
  readonly csrf: string;
  readonly error: CodeError | null;
  readonly notice: string | null;
}

export function setupPage(view: SetupView): Html {
  const groups = view.manualKey.match(/.{1,4}/g) ?? [];
  return html`<p class="lead">${S.setup.intro}</p>
${view.notice ? notice(view.notice) : null}
<ol class="steps">
<li>
<p>${S.setup.step1}</p>
<div class="qr" role="img" aria-label="${S.setup.qrLabel}">${trusted(view.qrCodeSvg)}</div>
</li>
<li>
<p>${S.setup.step2}</p>
<p class="key-label" id="manual-key-label">${S.setup.keyLabel}</p>
<p class="manual-key" data-manual-key="${view.manualKey}" aria-labelledby="manual-key-label"><code>${groups.map((group, i) => html`${i > 0 ? ' ' : ''}<span>${group}</span>`)}</code></p>
</li>
<li>
<p>${S.setup.step3}</p>
<form method="post" action="/two-factor/setup" novalidate>
${csrfField(view.csrf)}
${codeField('code', S.code.label, S.code.hint, view.error)}
<button type="submit" class="button primary">${S.setup.submit}</button>
</form>
<p class="hint">${S.setup.expires(view.expiresAt.slice(11, 16))}</p>
</li>
</ol>`;
}

export function backupCodesSection(codes: readonly string[], productName: string, continueUrl: string | null): Html {
  return html`<section class="codes-section" aria-labelledby="codes-heading">
<h2 id="codes-heading">${S.codes.heading}</h2>
<p>${S.codes.intro}</p>
<ul class="backup-codes" aria-label="${S.codes.listLabel}" data-file-heading="${S.codes.fileHeading(productName)}">
${codes.map((code) => html`<li><code data-backup-code="${code}">${code}</code></li>`)}
</ul>
<div class="code-actions" data-code-actions hidden>
<button type="button" class="button" data-copy-codes>${S.codes.copy}</button>
<button type="button" class="button" data-download-codes>${S.codes.download}</button>
<button type="button" class="button" data-print>${S.codes.print}</button>
</div>
<p class="hint" role="status" aria-live="polite" data-copy-status data-copied-text="${S.codes.copied}"></p>
${continueUrl ? html`<p><a class="button primary" href="${continueUrl}">${S.continue}</a></p>` : null}
</section>`;
}

export function setupDonePage(codes: readonly string[], productName: string, continueUrl: string): Html {
  return backupCodesSection(codes, productName, continueUrl);
}

export function alreadyEnabledPage(continueUrl: string): Html {
  return html`${notice(S.setup.alreadyEnabled)}
<p>${S.setup.alreadyEnabledDetail}</p>
<p class="actions"><a class="button primary" href="${continueUrl}">${S.continue}</a> <a href="/two-factor/manage">${S.setup.manageLink}</a></p>`;
}

export interface RequiringOrganisation {
  readonly name: string;
  readonly mode: string;
  readonly xeroConnected: boolean;
}

/** One way forward (set up now); signing out is the footer's, as on every page with a session. */
export function requiredPage(organisations: readonly RequiringOrganisation[]): Html {
  return html`<p class="lead">${S.required.intro}</p>
<h2 class="small-heading">${S.required.why}</h2>
<ul class="org-list">
${organisations.map((org) => html`<li><strong>${org.name}</strong> ${org.mode === 'hard' ? S.required.hard : S.required.soft}${org.xeroConnected ? html`<br><span class="reason">${S.required.xero}</span>` : null}</li>`)}
</ul>
<p>${S.required.takes}</p>
<div class="actions"><a class="button primary" href="/two-factor/setup">${S.required.setUp}</a></div>`;
}

/** What the verify page offers about trusted devices. */
export interface VerifyDeviceOptions {
  readonly rememberDays: number;
  /** Until when this browser is a trusted device of the session's user, when it is one. */
  readonly trustedUntil: string | null;
}

export function verifyPage(csrf: string, error: CodeError | null, device: VerifyDeviceOptions): Html {
  return html`${device.trustedUntil ? trustedDeviceForm(csrf, device.trustedUntil) : html`<p class="lead">${S.verify.intro}</p>`}
<form method="post" action="/two-factor/verify" novalidate>
${csrfField(csrf)}
${codeControls(error, html`${codeField('code', S.code.verifyLabel, S.code.verifyHint, error, 8)}
<div class="field-check">
<input type="checkbox" id="remember" name="remember" value="yes" aria-describedby="remember-hint">
<div><label for="remember">${S.verify.remember(device.rememberDays)}</label><p class="hint" id="remember-hint">${S.verify.rememberHint}</p></div>
</div>
<button type="submit" class="button${device.trustedUntil ? '' : ' primary'}">${S.verify.submit}</button>`)}
</form>
${error?.lockedUntil ? null : html`<p class="hint">${S.verify.noPhone}</p>`}`;
}

/** One click continues with the remembered browser: a form (CSRF), never a GET with a side effect. */
function trustedDeviceForm(csrf: string, until: string): Html {
  return html`<section class="trusted-device" aria-label="${S.manage.devicesHeading}">
<p>${S.verify.trusted(until.slice(0, 10))}</p>
<form method="post" action="/two-factor/verify">
${csrfField(csrf)}
<input type="hidden" name="method" value="device">
<button type="submit" class="button primary">${S.verify.trustedContinue}</button>
</form>
</section>
<p>${S.verify.orCode}</p>`;
}

/** A trusted device as the manage page lists it. */
export interface DeviceRow {
  readonly id: string;
  readonly label: string | null;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly expiresAt: string;
  /** The device this browser holds. */
  readonly current: boolean;
}

export interface ManageView {
  readonly csrf: string;
  readonly enabled: boolean;
  readonly enabledSince: string | null;
  readonly backupCodesLeft: number;
  /** Names of the organisations that keep 2FA on; empty when it may be turned off. */
  readonly enforcedBy: readonly string[];
  readonly message: string | null;
  readonly regenerateError: CodeError | null;
  readonly disableError: CodeError | null;
  /** A lockout in force when the page is drawn (its message and end), or null. */
  readonly lock: CodeError | null;
  readonly newCodes: readonly string[] | null;
  readonly devices: readonly DeviceRow[];
  readonly productName: string;
  readonly returnTo: string;
}

export function managePage(view: ManageView): Html {
  if (!view.enabled) {
    return html`${view.message ? notice(view.message) : null}
<p>${S.manage.statusOff}</p>
<p class="actions"><a class="button primary" href="/two-factor/setup">${S.manage.setUp}</a> <a href="${view.returnTo}">${S.continue}</a></p>`;
  }
  // A refusal on one form may be what started the lockout (the read model not there yet): it locks both.
  const refusedLocked = [view.regenerateError, view.disableError].find((error) => error?.lockedUntil) ?? null;
  const lock = refusedLocked ?? view.lock;
  return html`${view.message ? notice(view.message) : null}
${lock && !refusedLocked ? alert(lock.message) : null}
<dl class="status">
<div><dt>${S.manage.statusLabel}</dt><dd>${S.manage.statusOn((view.enabledSince ?? '').slice(0, 10))}</dd></div>
<div><dt>${S.manage.codesLabel}</dt><dd>${S.manage.codesLeft(view.backupCodesLeft)}${view.backupCodesLeft <= 2 ? html` <strong>${S.manage.fewLeft}</strong>` : null}</dd></div>
</dl>
${view.newCodes ? backupCodesSection(view.newCodes, view.productName, null) : null}
<section aria-labelledby="regenerate-heading">
<h2 id="regenerate-heading">${S.manage.regenerateHeading}</h2>
<p>${S.manage.regenerateIntro}</p>
<form method="post" action="/two-factor/manage/backup-codes" novalidate>
${csrfField(view.csrf)}
${codeControls(lock, html`${codeField('regenerate-code', S.code.label, S.manage.codeConfirm, view.regenerateError)}
<button type="submit" class="button">${S.manage.regenerate}</button>`)}
</form>
</section>
${devicesSection(view)}
<section aria-labelledby="disable-heading">
<h2 id="disable-heading">${S.manage.disableHeading}</h2>
${view.enforcedBy.length > 0 && !view.disableError ? html`<p class="reason">${S.manage.enforced(listOf(view.enforcedBy), view.enforcedBy.length)}</p>` : disableForm(view, lock)}
</section>
<p><a href="${view.returnTo}">${S.continue}</a></p>`;
}

function devicesSection(view: ManageView): Html {
  return html`<section aria-labelledby="devices-heading">
<h2 id="devices-heading">${S.manage.devicesHeading}</h2>
${view.devices.length === 0
    ? html`<p>${S.manage.noDevices}</p>`
    : html`<p>${S.manage.devicesIntro}</p>
<ul class="device-list">
${view.devices.map((device) => deviceItem(device, view.csrf))}
</ul>`}
</section>`;
}

function deviceItem(device: DeviceRow, csrf: string): Html {
  const name = device.label ?? S.manage.unnamedDevice;
  return html`<li data-device-id="${device.id}">
<div><strong>${name}</strong>${device.current ? html` ${S.manage.thisDevice}` : null}
<p class="hint">${S.manage.deviceDates(device.createdAt.slice(0, 10), device.lastUsedAt?.slice(0, 10) ?? null, device.expiresAt.slice(0, 10))}</p></div>
<form method="post" action="/two-factor/manage/devices/revoke" class="inline-form">
${csrfField(csrf)}
<input type="hidden" name="deviceId" value="${device.id}">
<button type="submit" class="button" aria-label="${S.manage.forgetDeviceLabel(name)}">${S.manage.forgetDevice}</button>
</form>
</li>`;
}

/** Offered only when no organisation keeps 2FA on (an action that can only fail is not offered). */
function disableForm(view: ManageView, lock: CodeError | null): Html {
  return html`<p>${S.manage.disableIntro}</p>
<form method="post" action="/two-factor/manage/disable" novalidate>
${csrfField(view.csrf)}
${codeControls(lock, html`${codeField('disable-code', S.code.label, S.manage.codeConfirm, view.disableError)}
<button type="submit" class="button danger">${S.manage.disable}</button>`)}
</form>`;
}

export function messagePage(message: string, backUrl: string | null, backLabel: string = S.continue): Html {
  return html`<p class="lead">${message}</p>
${backUrl ? html`<p class="actions"><a class="button primary" href="${backUrl}">${backLabel}</a></p>` : null}`;
}

export function listOf(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
