import { html, type Html } from './html.template.js';
import type { Brand } from './pages.brand.js';
import { STRINGS as S } from './pages.strings.js';
import { brandMark, csrfField, documentHead, pageFooter } from './pages.views.js';
import { CONSOLE_STRINGS as C, durationText } from './console.strings.js';
import type { TimelineEntry } from '../audit/timeline.view.js';
import type { AuditEventView } from '../audit/audit-event.view.js';
import type { ComplianceReport } from '../audit/compliance.report.js';
import type { EnforcementPreview } from '../enforcement/enforcement-preview.query.js';
import type { MemberView, OrganisationView } from '../organisations/organisation.queries.js';
import type { UserView } from '../two-factor/user.queries.js';
import type { ResetRequestsPage } from '../two-factor/reset-requests.queries.js';

export const CONSOLE_ASSETS = { css: '/console/assets/console.css', js: '/console/assets/console.js' } as const;

export interface ConsoleFrame {
  readonly brand: Brand;
  readonly nonce: string;
  readonly csrf: string | null;
  /** The consoles this session may open, for the navigation; empty on the "not allowed" page. */
  readonly nav: readonly NavItem[];
  readonly current: string | null;
  /** A page that refreshes itself without JavaScript (a running job), in seconds. */
  readonly refreshSeconds?: number;
}

export interface NavItem {
  readonly href: string;
  readonly label: string;
}

export function consoleLayout(frame: ConsoleFrame, title: string, body: Html): Html {
  const { brand } = frame;
  return html`${documentHead(`${title} · ${C.titles.index} · ${brand.productName}`, frame.nonce, { script: CONSOLE_ASSETS.js, stylesheet: CONSOLE_ASSETS.css, ...(frame.refreshSeconds ? { refreshSeconds: frame.refreshSeconds } : {}) })}
<body class="console">
<a class="skip-link" href="#main">${S.skipToContent}</a>
<header class="masthead">
<div class="masthead-inner console-masthead">
${brandMark(brand)}
<span class="console-badge">${C.titles.index}</span>
${frame.nav.length > 0 ? html`<nav class="console-nav" aria-label="${C.nav.label}"><ul>${frame.nav.map((item) => html`<li><a href="${item.href}"${item.href === frame.current ? html` aria-current="page"` : null}>${item.label}</a></li>`)}</ul></nav>` : null}
</div>
</header>
<main id="main" class="console-main" tabindex="-1">
<h1>${title}</h1>
${body}
</main>
${pageFooter(brand, frame.csrf, 'footer console-footer')}
</body>
</html>
`;
}

/** An instant: UTC without JavaScript; console.js shows it in the viewer's zone and keeps UTC on hover. */
export function instant(iso: string | null | undefined, fallback: string = '—'): Html {
  if (!iso) return html`${fallback}`;
  const utc = `${iso.slice(0, 10)} ${iso.slice(11, 16)} ${C.time.utc}`;
  return html`<time datetime="${iso}" title="${iso}" data-local-time>${utc}</time>`;
}

export function notice(message: string): Html {
  return html`<div class="notice" role="status"><p>${message}</p></div>`;
}

export function alert(message: string): Html {
  return html`<div class="alert" role="alert"><p>${message}</p></div>`;
}

export function empty(message: string): Html {
  return html`<p class="empty-state">${message}</p>`;
}

/** A wide table scrolls sideways on a narrow screen: focusable and named, so a keyboard can scroll it too. */
function scroller(label: string, table: Html): Html {
  return html`<div class="table-wrap" role="region" tabindex="0" aria-label="${label}">${table}</div>`;
}

function panel(id: string, heading: string, body: Html, extra: string = ''): Html {
  return html`<section class="panel${extra}" aria-labelledby="${id}"><h2 id="${id}">${heading}</h2>${body}</section>`;
}

/** A labelled text area, described by its hint and its error. */
function reasonField(id: string, label: string, hint: string, error: string | null, value = ''): Html {
  const described = error ? `${id}-hint ${id}-error` : `${id}-hint`;
  return html`<div class="field${error ? ' field-error' : ''}">
<label for="${id}">${label}</label>
<p class="hint" id="${id}-hint">${hint}</p>
${error ? html`<p class="error-message" id="${id}-error">${error}</p>` : null}
<textarea id="${id}" name="reason" rows="3" maxlength="500" required aria-describedby="${described}"${error ? html` aria-invalid="true"` : null}>${value}</textarea>
</div>`;
}

// Index and refusal

export interface IndexView {
  readonly adminOrganisations: ReadonlyArray<{ readonly id: string; readonly name: string; readonly mode: string }>;
  readonly support: boolean;
  readonly audit: boolean;
}

export function indexPage(view: IndexView): Html {
  return html`<p class="lead">${C.index.intro}</p>
<div class="console-cards">
${view.adminOrganisations.length > 0
    ? html`<section class="panel" aria-labelledby="admin-heading"><h2 id="admin-heading">${C.index.adminHeading}</h2><p>${C.index.adminIntro}</p>
<ul class="link-list">${view.adminOrganisations.map((org) => html`<li><a href="/console/organisations/${org.id}">${org.name}</a> ${modeBadge(org.mode)}</li>`)}</ul></section>`
    : null}
${view.support ? html`<section class="panel" aria-labelledby="support-heading"><h2 id="support-heading">${C.index.supportHeading}</h2><p>${C.index.supportIntro}</p><p><a class="button" href="/console/support">${C.index.open}: ${C.index.supportHeading}</a></p></section>` : null}
${view.audit ? html`<section class="panel" aria-labelledby="audit-heading"><h2 id="audit-heading">${C.index.auditHeading}</h2><p>${C.index.auditIntro}</p><p><a class="button" href="/console/audit">${C.index.open}: ${C.index.auditHeading}</a></p></section>` : null}
</div>`;
}

export function messagePage(message: string, detail: string | null, back: NavItem | null): Html {
  return html`<div class="panel message-panel"><p class="lead">${message}</p>
${detail ? html`<p>${detail}</p>` : null}
${back ? html`<p class="actions"><a class="button primary" href="${back.href}">${back.label}</a></p>` : null}</div>`;
}

function modeBadge(mode: string): Html {
  return html`<span class="badge badge-${mode}">${C.org.modeNames[mode] ?? mode}</span>`;
}

// Organisation (admin)

export type MemberFilter = 'all' | 'none' | 'locked';

export interface OrganisationPageView {
  readonly csrf: string;
  readonly org: OrganisationView;
  readonly now: Date;
  readonly preview: EnforcementPreview | null;
  readonly reasonError: string | null;
  readonly refusal: string | null;
  readonly saved: string | null;
  readonly reason: string;
  readonly filter: MemberFilter;
  readonly members: { readonly items: readonly MemberView[]; readonly nextCursor: string | null; readonly isFirst: boolean };
  readonly history: { readonly items: readonly TimelineEntry[]; readonly nextCursor: string | null };
}

export function organisationPage(view: OrganisationPageView): Html {
  const { org } = view;
  const base = `/console/organisations/${org.id}`;
  return html`${view.saved ? notice(view.saved) : null}
${view.refusal ? alert(view.refusal) : null}
<div class="console-grid">
${panel('summary-heading', C.org.summary, summaryList(org))}
${panel('enforcement-heading', C.org.enforcementHeading, enforcementSection(view, base))}
</div>
${panel('members-heading', C.org.membersHeading, membersSection(view, base))}
${panel('history-heading', C.org.historyHeading, html`${historyTable(view.history.items)}${view.history.nextCursor ? html`<p class="pager"><a href="${base}?historyCursor=${encodeURIComponent(view.history.nextCursor)}#history-heading">${C.org.olderChanges}</a></p>` : null}`)}`;
}

function summaryList(org: OrganisationView): Html {
  return html`<dl class="facts">
<div><dt>${C.org.mode}</dt><dd>${modeBadge(org.mode)} <span class="hint">${C.org.modeHelp[org.mode] ?? ''}</span></dd></div>
<div><dt>${C.org.xero}</dt><dd>${org.xeroConnected ? C.org.xeroConnected : C.org.xeroNotConnected}</dd></div>
<div><dt>${C.org.members}</dt><dd>${C.org.membersCount(org.members.total, org.members.withTwoFactor)}</dd></div>
<div><dt>${C.org.lastChange}</dt><dd>${org.modeLastChanged ? html`${instant(org.modeLastChanged.at)} ${C.org.lastChangeBy(org.modeLastChanged.by)}${org.modeLastChanged.reason ? html`: <q>${org.modeLastChanged.reason}</q>` : null}` : '—'}</dd></div>
${org.hardFrom ? html`<div><dt>${C.org.scheduled}</dt><dd>${instant(org.hardFrom)}</dd></div>` : null}
</dl>`;
}

const MODES = ['off', 'soft', 'hard'] as const;

function enforcementSection(view: OrganisationPageView, base: string): Html {
  const { org, preview } = view;
  const offered = MODES.filter((mode) => mode !== 'off' || !org.xeroConnected);
  const chosen = preview?.mode ?? org.mode;
  const choose = html`<form method="get" action="${base}" class="mode-form">
<fieldset>
<legend>${C.org.chooseMode}</legend>
${offered.map((mode) => html`<div class="radio"><input type="radio" id="mode-${mode}" name="mode" value="${mode}"${mode === chosen ? html` checked` : null}><label for="mode-${mode}"><strong>${C.org.modeNames[mode]}</strong> <span class="hint">${C.org.modeHelp[mode]}</span></label></div>`)}
</fieldset>
${org.xeroConnected ? html`<p class="reason xero-note" data-off-not-offered>${C.org.offNotOffered}</p>` : null}
<button type="submit" class="button">${C.org.preview}</button>
</form>`;
  if (!preview) return choose;
  const modeName = C.org.modeNames[preview.mode] ?? preview.mode;
  const effect = preview.mode === 'hard' ? C.org.effect.hard(preview.counts.redirected) : preview.mode === 'soft' ? C.org.effect.soft(preview.counts.prompted) : C.org.effect.off;
  return html`${choose}
<div class="preview" aria-labelledby="preview-heading">
<h3 id="preview-heading">${C.org.previewHeading(modeName)}</h3>
<p class="effect" data-preview-effect>${effect}</p>
<p class="hint">${C.org.effectDetail(preview.counts.compliant, preview.counts.exempt)}</p>
${preview.mode === org.mode ? html`<p class="hint">${C.org.sameMode}</p>` : null}
<form method="post" action="${base}/enforcement" novalidate>
${csrfField(view.csrf)}
<input type="hidden" name="mode" value="${preview.mode}">
${reasonField('reason', C.org.reason, C.org.reasonHint, view.reasonError, view.reason)}
<div class="actions"><button type="submit" class="button primary">${C.org.save(modeName)}</button> <a href="${base}">${C.org.cancel}</a></div>
</form>
</div>`;
}

function membersSection(view: OrganisationPageView, base: string): Html {
  const filters: MemberFilter[] = ['all', 'none', 'locked'];
  const query = (filter: MemberFilter) => (filter === 'all' ? '' : `?filter=${filter}`);
  return html`<div class="toolbar">
<nav aria-label="${C.org.filters['label']}" class="filters"><ul>${filters.map((filter) => html`<li><a href="${base}${query(filter)}#members-heading"${filter === view.filter ? html` aria-current="true"` : null}>${C.org.filters[filter]}</a></li>`)}</ul></nav>
<a class="button" href="${base}/members.csv${query(view.filter)}" download>${C.org.downloadCsv}</a>
</div>
${view.members.items.length === 0 ? empty(C.empty.members) : membersTable(view.members.items, view.now)}
<p class="pager">
${view.members.isFirst ? null : html`<a href="${base}${query(view.filter)}#members-heading">${C.org.firstPage}</a>`}
${view.members.nextCursor ? html`<a href="${base}?${view.filter === 'all' ? '' : `filter=${view.filter}&`}cursor=${encodeURIComponent(view.members.nextCursor)}#members-heading" rel="next">${C.org.nextPage}</a>` : null}
</p>`;
}

function membersTable(members: readonly MemberView[], now: Date): Html {
  const c = C.org.columns;
  return scroller(C.org.membersHeading, html`<table class="data-table" data-members>
<thead><tr><th scope="col">${c.user}</th><th scope="col">${c.role}</th><th scope="col">${c.twoFactor}</th><th scope="col" class="num">${c.backupCodes}</th><th scope="col">${c.lockout}</th><th scope="col">${c.lastReminder}</th></tr></thead>
<tbody>
${members.map((m) => {
    const locked = m.twoFactor.lockedUntil !== null && Date.parse(m.twoFactor.lockedUntil) > now.getTime();
    return html`<tr data-user-id="${m.userId}">
<th scope="row"><code>${m.userId}</code>${m.forgotten ? html` <span class="badge">${C.org.forgotten}</span>` : null}</th>
<td>${C.org.roles[m.role] ?? m.role}</td>
<td>${statusBadge(m.twoFactor.status)}${m.exemption ? html`<br><span class="hint">${C.org.exemptUntil} ${instant(m.exemption.until)}</span>` : null}</td>
<td class="num">${m.twoFactor.status === 'enabled' ? m.twoFactor.backupCodesLeft : '—'}</td>
<td>${locked ? html`<span class="badge badge-locked">${C.org.lockedUntil}</span> ${instant(m.twoFactor.lockedUntil)}` : C.org.notLocked}</td>
<td>${instant(m.lastReminderAt, C.org.never)}</td>
</tr>`;
  })}
</tbody></table>`);
}

function statusBadge(status: string): Html {
  return html`<span class="badge badge-status-${status}">${C.org.status[status] ?? status}</span>`;
}

function historyTable(items: readonly TimelineEntry[]): Html {
  if (items.length === 0) return empty(C.empty.history);
  const c = C.history.columns;
  return scroller(C.org.historyHeading, html`<table class="data-table" data-timeline>
<thead><tr><th scope="col">${c.at}</th><th scope="col">${c.what}</th><th scope="col">${c.by}</th><th scope="col">${c.reason}</th></tr></thead>
<tbody>${items.map((entry) => html`<tr><td>${instant(entry.at)}</td><td><span class="event-type">${entry.type}</span>${detailsText(entry.details)}</td><td>${actorText(entry.actor)}</td><td>${entry.reason ?? ''}</td></tr>`)}</tbody>
</table>`);
}

function detailsText(details: TimelineEntry['details']): Html {
  const parts = Object.entries(details).map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join(', ') : String(value)}`);
  return parts.length === 0 ? html`` : html`<br><span class="hint">${parts.join(' · ')}</span>`;
}

function actorText(actor: { readonly id: string; readonly roles: readonly string[] }): Html {
  return html`<code>${actor.id}</code>${actor.roles.length > 0 ? html` <span class="hint">(${actor.roles.join(', ')})</span>` : null}`;
}

// Support

export function supportSearchPage(csrf: string, query: string, noMatch: boolean, error: string | null, pending: ResetRequestsPage | null = null): Html {
  return html`<p class="lead">${C.support.intro}</p>
${panel('search-heading', C.support.find, searchForm(csrf, query, error))}
${noMatch ? empty(C.empty.searchResult) : null}
${pending ? panel('requests-heading', C.support.pendingHeading, pendingRequests(csrf, pending)) : null}`;
}

/** Two-person resets waiting for a second agent; the approve button is offered to all, the decider refuses the requester. */
function pendingRequests(csrf: string, page: ResetRequestsPage): Html {
  if (page.items.length === 0) return empty(C.empty.pendingRequests);
  return html`<p class="hint">${C.support.pendingIntro}</p>
<table class="data-table" data-pending-requests>
<thead><tr><th scope="col">${C.support.pendingUser}</th><th scope="col">${C.support.pendingBy}</th><th scope="col">${C.support.pendingReason}</th><th scope="col">${C.support.pendingExpires}</th><th scope="col"><span class="visually-hidden">${C.support.approve}</span></th></tr></thead>
<tbody>${page.items.map(
    (r) => html`<tr data-request-id="${r.requestId}"><td><a href="/console/support/users/${r.userId}"><code>${r.userId}</code></a></td><td><code>${r.requestedBy}</code></td><td>${r.reason}</td><td>${instant(r.expiresAt)}</td><td>
<form method="post" action="/console/support/users/${r.userId}/reset-requests/${r.requestId}/approval">${csrfField(csrf)}<button type="submit" class="button danger">${C.support.approve}</button></form></td></tr>`,
  )}</tbody>
</table>
${page.nextCursor ? html`<p class="pager"><a href="/console/support?cursor=${encodeURIComponent(page.nextCursor)}#requests-heading">${C.support.morePending}</a></p>` : null}`;
}

function searchForm(csrf: string, query: string, error: string | null): Html {
  return html`<form method="post" action="/console/support/search" class="search-form" novalidate>
${csrfField(csrf)}
<div class="field${error ? ' field-error' : ''}">
<label for="q">${C.support.search}</label>
<p class="hint" id="q-hint">${C.support.searchHint}</p>
${error ? html`<p class="error-message" id="q-error">${error}</p>` : null}
<div class="inline-fields"><input class="text-input" id="q" name="q" type="text" autocomplete="off" spellcheck="false" maxlength="254" value="${query}" required aria-describedby="q-hint${error ? ' q-error' : ''}"><button type="submit" class="button primary">${C.support.find}</button></div>
</div>
</form>`;
}

export interface SupportUserView {
  readonly csrf: string;
  readonly user: UserView;
  readonly organisations: ReadonlyArray<{ readonly id: string; readonly name: string; readonly role: string }>;
  readonly now: Date;
  readonly timeline: { readonly items: readonly TimelineEntry[]; readonly nextCursor: string | null };
  readonly reasonError: string | null;
  readonly done: string | null;
}

export function supportUserPage(view: SupportUserView): Html {
  const { user } = view;
  const f = user.twoFactor;
  const lockedSeconds = f.locked && f.lockedUntil ? Math.max(1, Math.ceil((Date.parse(f.lockedUntil) - view.now.getTime()) / 1000)) : 0;
  const base = `/console/support/users/${user.id}`;
  return html`${view.done ? notice(view.done) : null}
<p><a href="/console/support">← ${C.support.find}</a></p>
<div class="console-grid">
${panel('status-heading', C.support.status, html`<dl class="facts">
<div><dt>${C.support.email}</dt><dd>${user.email ?? '—'}</dd></div>
<div><dt>${C.support.registered}</dt><dd>${instant(user.registeredAt)}</dd></div>
<div><dt>${C.support.twoFactor}</dt><dd data-two-factor-status="${f.status}">${statusBadge(f.status)}${f.enabledSince ? html` <span class="hint">${C.support.enabledSince} ${instant(f.enabledSince)}</span>` : null}</dd></div>
<div><dt>${C.support.backupCodes}</dt><dd>${f.status === 'enabled' ? f.backupCodesLeft : '—'}</dd></div>
<div><dt>${C.support.lockout}</dt><dd>${f.locked ? html`<span class="badge badge-locked">${C.support.lockedFor(Math.ceil(lockedSeconds / 60))}</span> ${instant(f.lockedUntil)}` : C.support.notLocked}</dd></div>
<div><dt>${C.support.reminders}</dt><dd>${C.support.remindersCount(user.reminders.count)}${user.reminders.lastSentAt ? html`, ${C.support.lastReminder(user.reminders.lastCadence ?? '')} ${instant(user.reminders.lastSentAt)}` : null}</dd></div>
</dl>`)}
${panel('orgs-heading', C.support.organisations, view.organisations.length === 0 ? empty(C.empty.memberships) : html`<ul class="link-list">${view.organisations.map((org) => html`<li>${org.name} <span class="hint">(<code>${org.id}</code>, ${C.org.roles[org.role] ?? org.role})</span></li>`)}</ul>`)}
</div>
${panel('reset-heading', C.support.resetHeading, f.status === 'none' ? html`<p>${C.support.resetNotEnabled}</p>` : html`<p>${C.support.resetIntro}</p>
<form method="post" action="${base}/reset" novalidate>
${csrfField(view.csrf)}
${reasonField('reason', C.support.resetReason, C.support.resetReasonHint, view.reasonError)}
<button type="submit" class="button danger">${C.support.resetContinue}</button>
</form>`)}
${panel('timeline-heading', C.support.timelineHeading, html`${historyTable(view.timeline.items)}${view.timeline.nextCursor ? html`<p class="pager"><a href="${base}?cursor=${encodeURIComponent(view.timeline.nextCursor)}#timeline-heading">${C.support.older}</a></p>` : null}`)}`;
}

export function confirmResetPage(csrf: string, user: UserView, reason: string): Html {
  const base = `/console/support/users/${user.id}`;
  const who = user.email ? `${user.id} (${user.email})` : user.id;
  return html`<div class="alert" role="alert"><p>${C.support.confirmIntro(who)}</p></div>
<p>${C.support.resetIntro}</p>
<dl class="facts"><div><dt>${C.support.confirmReason}</dt><dd><q>${reason}</q></dd></div></dl>
<form method="post" action="${base}/reset">
${csrfField(csrf)}
<input type="hidden" name="reason" value="${reason}">
<input type="hidden" name="confirm" value="yes">
<div class="actions"><button type="submit" class="button danger">${C.support.confirm}</button> <a href="${base}">${C.support.cancel}</a></div>
</form>`;
}

// Audit

export interface AuditPageView {
  readonly csrf: string;
  readonly subject: 'organisation' | 'user';
  readonly id: string;
  readonly timeline: {
    readonly events: readonly AuditEventView[];
    readonly nextCursor: string | null;
    readonly chain: { readonly intact: boolean; readonly eventsChecked: number; readonly brokenAt: number | null; readonly reason: string | null };
  } | null;
  readonly state: { readonly at: string; readonly facts: ReadonlyArray<readonly [string, Html | string]>; readonly json: string } | null;
  readonly atValue: string;
  readonly error: string | null;
  readonly period: { readonly orgId: string; readonly from: string; readonly to: string };
}

export function auditPage(view: AuditPageView): Html {
  const a = C.audit;
  return html`<p class="lead">${a.intro}</p>
${view.error ? alert(view.error) : null}
${panel('timeline-heading', a.timelineHeading, html`<form method="get" action="/console/audit" class="inline-form-row">
<div class="field"><label for="subject">${a.subject}</label><select id="subject" name="subject">${(['organisation', 'user'] as const).map((s) => html`<option value="${s}"${s === view.subject ? html` selected` : null}>${a.subjects[s]}</option>`)}</select></div>
<div class="field"><label for="id">${a.id}</label><input class="text-input" id="id" name="id" type="text" value="${view.id}" required spellcheck="false" autocomplete="off"></div>
<div class="field field-button"><button type="submit" class="button primary">${a.open}</button></div>
</form>
${view.timeline ? auditTimeline(view) : null}`)}
${view.timeline ? panel('state-heading', a.stateHeading, stateSection(view)) : null}
<div class="console-grid">
${panel('integrity-heading', a.integrityHeading, html`<p>${a.integrityIntro}</p><form method="post" action="/console/audit/integrity">${csrfField(view.csrf)}<button type="submit" class="button">${a.runIntegrity}</button></form>`)}
${panel('export-heading', a.exportHeading, html`<p>${a.exportIntro}</p><p class="actions"><a class="button" href="/console/audit/export?format=jsonl" download>${a.exportJsonl}</a> <a class="button" href="/console/audit/export?format=csv" download>${a.exportCsv}</a></p>`)}
</div>
${panel('compliance-heading', a.complianceHeading, html`<p>${a.complianceIntro}</p>${complianceForm(view.period)}`)}`;
}

function auditTimeline(view: AuditPageView): Html {
  const timeline = view.timeline!;
  const a = C.audit;
  const chain = timeline.chain.intact
    ? html`<p class="chain chain-ok" data-chain-status="intact">${a.chainIntact(timeline.chain.eventsChecked)}</p>`
    : html`<p class="chain chain-broken" data-chain-status="broken" role="alert">${a.chainBroken(timeline.chain.brokenAt ?? 0, timeline.chain.reason ?? '')}</p>`;
  const c = a.columns;
  const base = `/console/audit?subject=${view.subject}&id=${encodeURIComponent(view.id)}`;
  return html`${chain}
${timeline.events.length === 0 ? empty(C.empty.timeline) : scroller(a.timelineHeading, html`<table class="data-table" data-audit-timeline>
<thead><tr><th scope="col" class="num">${c.revision}</th><th scope="col">${c.at}</th><th scope="col">${c.type}</th><th scope="col">${c.actor}</th><th scope="col">${c.reason}</th></tr></thead>
<tbody>${timeline.events.map((event) => html`<tr><td class="num">${event.revision}</td><td>${instant(event.metadata.occurredAt)}</td><td><span class="event-type">${event.type}</span></td><td>${actorText(event.metadata.actor)}</td><td>${auditDetails(event)}</td></tr>`)}</tbody>
</table>`)}
${timeline.nextCursor ? html`<p class="pager"><a href="${base}&cursor=${encodeURIComponent(timeline.nextCursor)}#timeline-heading">${a.older}</a></p>` : null}`;
}

function auditDetails(event: AuditEventView): Html {
  const data = event.data && typeof event.data === 'object' && !Array.isArray(event.data) ? event.data : {};
  const reason = typeof data['reason'] === 'string' ? data['reason'] : null;
  const plain = Object.entries(data)
    .filter(([key, value]) => key !== 'reason' && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'))
    .map(([key, value]) => `${key}: ${String(value)}`);
  return html`${reason ? html`<q>${reason}</q>` : null}${plain.length > 0 ? html`${reason ? html`<br>` : null}<span class="hint">${plain.join(' · ')}</span>` : null}`;
}

function stateSection(view: AuditPageView): Html {
  const a = C.audit;
  return html`<form method="get" action="/console/audit" class="inline-form-row" data-instant-form>
<input type="hidden" name="subject" value="${view.subject}">
<input type="hidden" name="id" value="${view.id}">
<input type="hidden" name="tz" value="0" data-tz-offset>
<div class="field"><label for="at">${a.stateAt}</label><input class="text-input" id="at" name="at" type="datetime-local" step="1" value="${view.atValue}" required aria-describedby="at-hint"></div>
<div class="field field-button"><button type="submit" class="button">${a.showState}</button></div>
<p class="hint row-hint" id="at-hint" data-tz-hint data-local-text="${a.stateAtHintLocal}">${a.stateAtHint}</p>
</form>
${view.state ? html`<div class="state" data-state>
<p><strong>${a.stateAsOf}</strong> ${instant(view.state.at)}</p>
<dl class="facts">${view.state.facts.map(([label, value]) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`)}</dl>
<details><summary>${a.stateDetails}</summary><pre class="json">${view.state.json}</pre></details>
</div>` : null}`;
}

function complianceForm(period: AuditPageView['period']): Html {
  const a = C.audit;
  return html`<form method="get" action="/console/audit/compliance" class="inline-form-row">
<div class="field"><label for="orgId">${a.orgId}</label><input class="text-input" id="orgId" name="orgId" type="text" value="${period.orgId}" required spellcheck="false" autocomplete="off"></div>
<div class="field"><label for="from">${a.from}</label><input class="text-input" id="from" name="from" type="date" value="${period.from}" required></div>
<div class="field"><label for="to">${a.to}</label><input class="text-input" id="to" name="to" type="date" value="${period.to}" required></div>
<div class="field field-button"><button type="submit" class="button primary">${a.showReport}</button></div>
</form>`;
}

export function compliancePage(report: ComplianceReport, period: AuditPageView['period']): Html {
  const a = C.audit;
  const c = a.reportColumns;
  const query = `orgId=${encodeURIComponent(period.orgId)}&from=${period.from}&to=${period.to}`;
  return html`<p><a href="/console/audit">← ${a.backToAudit}</a></p>
${panel('period-heading', a.periodHeading, html`${complianceForm(period)}
<div class="toolbar report-summary"><p><strong>${report.orgId}</strong> · ${instant(report.from)} – ${instant(report.to)} · ${a.countedUntil} ${instant(report.countedUntil)}</p>
<p class="actions"><a class="button" href="/console/audit/compliance/download?${query}&format=csv" download data-download="csv">${a.downloadCsv}</a> <a class="button" href="/console/audit/compliance/download?${query}&format=jsonl" download data-download="jsonl">${a.downloadJsonl}</a></p></div>`)}
${panel('report-members-heading', C.org.membersHeading, report.members.length === 0 ? empty(C.empty.complianceMembers) : scroller(C.org.membersHeading, html`<table class="data-table">
<thead><tr><th scope="col">${c.user}</th><th scope="col" class="num">${c.member}</th><th scope="col" class="num">${c.without}</th><th scope="col" class="num">${c.exempt}</th><th scope="col">${c.enabled}</th><th scope="col" class="num">${c.reminders}</th></tr></thead>
<tbody>${report.members.map((m) => html`<tr><th scope="row"><code>${m.userId}</code></th><td class="num">${durationText(m.memberSeconds)}</td><td class="num">${durationText(m.withoutTwoFactorSeconds)}</td><td class="num">${durationText(m.exemptSeconds)}</td><td>${m.twoFactorEnabledAtEnd ? a.yes : a.no}</td><td class="num">${m.reminders.length}</td></tr>`)}</tbody>
</table>`))}
${panel('report-modes-heading', a.modeChangesHeading, report.modeChanges.length === 0 ? empty(C.empty.modeChanges) : scroller(a.modeChangesHeading, html`<table class="data-table">
<thead><tr><th scope="col">${C.history.columns.at}</th><th scope="col">${C.history.columns.what}</th><th scope="col">${C.history.columns.by}</th><th scope="col">${C.history.columns.reason}</th></tr></thead>
<tbody>${report.modeChanges.map((change) => html`<tr><td>${instant(change.at)}</td><td class="nowrap">${modeBadge(change.from)} → ${modeBadge(change.to)}</td><td>${actorText(change.actor)}</td><td>${change.reason ?? ''}</td></tr>`)}</tbody>
</table>`))}`;
}

export interface IntegrityJobView {
  readonly state: 'running' | 'done' | 'failed';
  readonly eventsChecked: number;
  readonly streams: number;
  readonly broken: ReadonlyArray<{ readonly stream: string; readonly revision: number; readonly reason: string }>;
}

export function integrityPage(job: IntegrityJobView): Html {
  const a = C.audit;
  const status =
    job.state === 'running'
      ? html`<p class="lead" role="status" data-job-state="running">${a.running}</p><p><progress aria-label="${a.integrityHeading}"></progress></p><p>${a.checked(job.eventsChecked)}</p><p class="hint">${a.refreshHint}</p>`
      : job.state === 'failed'
        ? html`<div data-job-state="failed">${alert(a.integrityFailed)}</div>`
        : job.broken.length === 0
          ? html`<div data-job-state="done">${notice(a.integrityDone(job.eventsChecked, job.streams))}</div>`
          : html`<div data-job-state="done">${alert(a.integrityBroken(job.broken.length))}<ul>${job.broken.map((b) => html`<li><code>${b.stream}</code>: ${a.chainBroken(b.revision, b.reason)}</li>`)}</ul></div>`;
  return html`<div class="panel message-panel">${status}</div><p><a href="/console/audit">← ${a.backToAudit}</a></p>`;
}
