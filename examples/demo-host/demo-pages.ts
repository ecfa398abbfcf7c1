import { html, type SafeHtml } from './demo-html.js';
import { DEMO_STAFF, DEMO_USERS, findDemoOrganisation, type DemoUser } from './demo-directory.js';
import type { Invoice } from './demo-approvals.js';

export interface LayoutInput {
  readonly title: string;
  readonly user: DemoUser | null;
  readonly csrf: string | null;
  readonly body: SafeHtml;
  /** The SDK's server-rendered prompt, when the decision is `prompt`. */
  readonly prompt?: SafeHtml | null;
  readonly serviceBaseUrl: string;
  readonly current?: 'approvals' | 'settings';
}

/** One layout for every page: header, navigation, the 2FA prompt slot, then the page. */
export function layout({ title, user, csrf, body, prompt, serviceBaseUrl, current }: LayoutInput): string {
  const navLink = (href: string, label: string, key: LayoutInput['current']) =>
    html`<a href="${href}"${key === current ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Approvals demo</title>
<link rel="stylesheet" href="/static/demo.css">
<script src="${serviceBaseUrl}/two-factor/prompt.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="bar">
  <span class="brand">Approvals demo</span>
  ${user
    ? html`<nav aria-label="Main">${navLink('/approvals', 'Approvals', 'approvals')}${navLink('/settings', 'Settings', 'settings')}</nav>
  <form class="signout" method="post" action="/sign-out"><input type="hidden" name="csrf" value="${csrf ?? ''}"><span class="who">${user.name}</span> <button type="submit" class="link">Sign out</button></form>`
    : ''}
</header>
${prompt ? html`<div class="prompt-slot">${prompt}</div>` : ''}
<main id="main" tabindex="-1">
<h1>${title}</h1>
${body}
</main>
</body>
</html>`.value;
}

export function signInBody(error: string | null): SafeHtml {
  return html`<p class="lead">This is a host application that uses the two-factor service through its SDK. Pick someone to sign in as.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<ul class="people">
${DEMO_USERS.map(
  (user) => html`<li class="card">
  <form method="post" action="/sign-in">
    <input type="hidden" name="userId" value="${user.id}">
    <p class="name">${user.name} <span class="muted">(${user.role} of ${findDemoOrganisation(user.orgId)?.name ?? user.orgId})</span></p>
    <p class="story">${user.story}</p>
    <button type="submit" data-user="${user.id}">Sign in as ${user.name}</button>
  </form>
</li>`,
)}
</ul>
<h2>Back office</h2>
<p class="lead">The host's staff open the service's console with the roles the host gives them (demo: no password).</p>
<ul class="people">
${DEMO_STAFF.map(
  (staff) => html`<li class="card">
  <form method="post" action="/staff/console">
    <input type="hidden" name="staffId" value="${staff.id}">
    <p class="name">${staff.name} <span class="muted">(${staff.roles.join(', ')})</span></p>
    <p class="story">${staff.story}</p>
    <button type="submit" data-staff="${staff.id}">Open the console as ${staff.name}</button>
  </form>
</li>`,
)}
</ul>`;
}

export function approvalsBody(invoices: readonly Invoice[], csrf: string, flash: string | null): SafeHtml {
  return html`${flash ? html`<p class="notice" role="status">${flash}</p>` : ''}
<div class="table-wrap" role="region" aria-labelledby="invoices-caption" tabindex="0">
<table>
<caption id="invoices-caption">Invoices waiting for approval</caption>
<thead><tr><th scope="col">Invoice</th><th scope="col">Supplier</th><th scope="col" class="num">Amount</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>
${invoices.map(
  (invoice) => html`<tr>
  <td><a href="/approvals/${invoice.id}">${invoice.id}</a></td>
  <td>${invoice.supplier}</td>
  <td class="num">${invoice.amount}</td>
  <td>${invoice.approved ? 'Approved' : 'Waiting'}</td>
  <td>${invoice.approved
    ? ''
    : html`<form method="post" action="/approvals/${invoice.id}/approve"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" aria-label="Approve ${invoice.id}">Approve</button></form>`}</td>
</tr>`,
)}
</tbody>
</table>
</div>`;
}

export function invoiceBody(invoice: Invoice, csrf: string): SafeHtml {
  return html`<dl class="facts">
<dt>Supplier</dt><dd>${invoice.supplier}</dd>
<dt>Amount</dt><dd>${invoice.amount}</dd>
<dt>Status</dt><dd>${invoice.approved ? 'Approved' : 'Waiting for approval'}</dd>
</dl>
${invoice.approved
  ? ''
  : html`<form method="post" action="/approvals/${invoice.id}/approve"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Approve ${invoice.id}</button></form>`}
<p><a href="/approvals">Back to approvals</a></p>`;
}

export function settingsBody(user: DemoUser, twoFactorEnabled: boolean | null): SafeHtml {
  const org = findDemoOrganisation(user.orgId);
  const status = twoFactorEnabled === null ? 'unknown (the two-factor service did not answer)' : twoFactorEnabled ? 'on' : 'off';
  return html`<dl class="facts">
<dt>Name</dt><dd>${user.name}</dd>
<dt>Email</dt><dd>${user.email}</dd>
<dt>Organisation</dt><dd>${org?.name ?? user.orgId} (${user.role})</dd>
<dt>Two-factor authentication</dt><dd data-two-factor-status="${status}">${status}</dd>
</dl>
${user.role === 'admin' ? html`<p><a class="button" href="/account/two-factor/console?returnTo=/settings" data-open-console>Open the organisation console</a></p>` : ''}
<p>${twoFactorEnabled
    ? html`<a class="button" href="/account/two-factor/manage?returnTo=/settings">Manage two-factor authentication</a>`
    : html`<a class="button" href="/account/two-factor/setup?returnTo=/settings">Set up two-factor authentication</a>`}</p>`;
}

export function problemBody(message: string, back: { href: string; label: string }): SafeHtml {
  return html`<p class="error" role="alert">${message}</p><p><a href="${back.href}">${back.label}</a></p>`;
}
