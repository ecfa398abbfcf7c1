import { Body, Catch, Controller, Get, HttpCode, Inject, Injectable, Param, Post, Query, Req, Res, UseFilters, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CommandContext } from '../application/command-handling.js';
import type { Clock } from '../kernel/clock.js';
import { DomainError } from '../kernel/domain-error.js';
import type { JsonValue } from '../kernel/event-envelope.js';
import { newId } from '../kernel/ids.js';
import { actorOf, hasRole, type Principal } from '../kernel/principal.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { PagesKeys } from '../ports/pages-keys.port.js';
import { InvalidCursorError, type ReadStore } from '../ports/read-store.port.js';
import { CLOCK, EVENT_STORE, PAGES_KEYS, READ_STORE } from '../ports/injection.tokens.js';
import { PublicRoute } from '../http/auth.guard.js';
import { idField } from '../http/id-param.js';
import { minPositionField } from '../http/min-position.js';
import { Problem } from '../http/problem.js';
import { requireAuditor } from '../audit/audit.access.js';
import { sendStream } from '../audit/audit.controller.js';
import { StreamHistoryQuery, type StreamHistoryView } from '../audit/audit-history.queries.js';
import { ComplianceQuery, StateAsOfQuery, StreamIntegrityQuery, type StateAsOfView } from '../audit/audit-replay.queries.js';
import { exportHistory } from '../audit/audit.export.js';
import { complianceCsv } from '../audit/compliance.csv.js';
import { complianceJsonl } from '../audit/compliance.jsonl.js';
import type { ComplianceReport } from '../audit/compliance.report.js';
import { csvRecord } from '../audit/csv.format.js';
import type { IntegrityResult } from '../audit/integrity.js';
import type { TimelinePage } from '../audit/timeline.view.js';
import { EnforcementPreviewQuery, type EnforcementPreview } from '../enforcement/enforcement-preview.query.js';
import { ORGANISATIONS, type OrganisationDoc } from '../organisations/directory.projection.js';
import { OrganisationCommandMessage } from '../organisations/organisation.command-message.js';
import { OrganisationHistoryQuery } from '../organisations/organisation-history.query.js';
import { OrganisationMembersQuery, OrganisationViewQuery, type MembersPage, type OrganisationView } from '../organisations/organisation.queries.js';
import { ENFORCEMENT_MODES } from '../organisations/organisation.events.js';
import type { TwoFactorFlows } from '../two-factor/two-factor.flows.js';
import { usersModuleFlows } from './users-module.flows.js';
import { assertMayLookUp, UserByEmailQuery, UserTimelineQuery, type UserLookup } from '../two-factor/user-lookup.queries.js';
import { UserViewQuery, type UserView } from '../two-factor/user.queries.js';
import { PendingResetRequestsQuery } from '../two-factor/reset-requests.queries.js';
import { toHtmlString, type Html } from './html.template.js';
import { asPageError, PageError } from './page.error.js';
import { isFromOwnPage } from './page.origin.js';
import { csrfMatches, openSession, sessionCookie, type PageSession } from './page.session.js';
import { formOf, PagesSettings } from './pages.controller.js';
import { contentSecurityPolicy, newNonce, pageHeaders } from './pages.headers.js';
import { STRINGS as S } from './pages.strings.js';
import { CONSOLE_STRINGS as C } from './console.strings.js';
import { IntegrityJobs } from './console.jobs.js';
import * as views from './console.views.js';
import { PublicAssets } from './public.assets.js';

const PAGE_SIZE = 50;
const CSV_PAGE = 500;

const orgPath = z.object({ orgId: idField });
const userPath = z.object({ userId: idField });
const jobPath = z.object({ jobId: z.string().regex(/^[A-Za-z0-9_-]{22}$/) });
const reason = z.string().trim().max(500);
const orgPageQuery = z
  .object({
    mode: z.enum(ENFORCEMENT_MODES).optional(),
    filter: z.enum(['all', 'none', 'locked']).default('all'),
    cursor: z.string().max(1000).optional(),
    historyCursor: z.string().max(32).optional(),
    saved: z.enum(ENFORCEMENT_MODES).optional(),
    minPosition: minPositionField,
  })
  .strict();
const membersCsvQuery = z.object({ filter: z.enum(['all', 'none', 'locked']).default('all') }).strict();
const enforcementForm = z.object({ csrf: z.string(), mode: z.enum(ENFORCEMENT_MODES), reason }).strict();
const searchForm = z.object({ csrf: z.string(), q: z.string().trim().max(254) }).strict();
const userPageQuery = z.object({ cursor: z.string().max(32).optional(), done: z.enum(['reset', 'requested', 'approved']).optional(), minPosition: minPositionField }).strict();
const resetRequestPath = z.object({ userId: idField, requestId: idField });
const supportPageQuery = z.object({ cursor: z.string().max(1000).optional(), minPosition: minPositionField }).strict();
const approvalForm = z.object({ csrf: z.string() }).strict();
const resetForm = z.object({ csrf: z.string(), reason, confirm: z.enum(['yes']).optional() }).strict();
const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;
const auditQuery = z
  .object({
    subject: z.enum(['organisation', 'user']).default('organisation'),
    id: z.union([idField, z.literal('')]).optional(),
    cursor: z.string().regex(/^\d{1,15}$/).optional(),
    at: z.union([z.string().regex(LOCAL_DATE_TIME), z.literal('')]).optional(),
    // Minutes to add to the picked local time to reach UTC (Date#getTimezoneOffset), set by console.js.
    tz: z.coerce.number().int().min(-900).max(900).default(0),
  })
  .strict();
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const complianceQuery = z
  .object({ orgId: idField, from: z.string().regex(DAY), to: z.string().regex(DAY) })
  .strict()
  .refine((period) => period.from <= period.to && !Number.isNaN(Date.parse(`${period.from}T00:00:00Z`)) && !Number.isNaN(Date.parse(`${period.to}T00:00:00Z`)));
const downloadQuery = z
  .object({ orgId: idField, from: z.string().regex(DAY), to: z.string().regex(DAY), format: z.enum(['csv', 'jsonl']) })
  .strict()
  .refine((period) => period.from <= period.to && !Number.isNaN(Date.parse(`${period.from}T00:00:00Z`)) && !Number.isNaN(Date.parse(`${period.to}T00:00:00Z`)));
const exportQuery = z.object({ format: z.enum(['jsonl', 'csv']).default('jsonl') }).strict();

/** Bad input is the page's 400, never a 500 nor a JSON problem. */
function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw new PageError(400, C.errors.badInput);
  return result.data;
}

function navFor(roles: readonly string[]): views.NavItem[] {
  return [
    { href: '/console', label: C.nav.index },
    ...(roles.includes('support') ? [{ href: '/console/support', label: C.nav.support }] : []),
    ...(roles.includes('auditor') ? [{ href: '/console/audit', label: C.nav.audit }] : []),
  ];
}

function renderConsole(reply: FastifyReply, settings: PagesSettings, status: number, title: string, body: Html, frame: { csrf: string | null; nav: views.NavItem[]; current: string | null; refreshSeconds?: number }, cookie: string | null): void {
  const nonce = newNonce();
  const page = views.consoleLayout({ brand: settings.brand, nonce, ...frame }, title, body);
  reply.status(status).headers(pageHeaders(contentSecurityPolicy(nonce, settings.csp)));
  if (cookie) reply.header('set-cookie', cookie);
  reply.send(toHtmlString(page));
}

/** Refusals on the console are console pages: the navigation stays, the words say what happened. */
@Catch()
@Injectable()
export class ConsoleErrorFilter implements ExceptionFilter {
  constructor(
    private readonly settings: PagesSettings,
    @Inject(PAGES_KEYS) private readonly keys: PagesKeys,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const refusal = error instanceof Problem ? new PageError(error.status, S.errors.generic, null, error.extensions.headers ?? {}) : error instanceof InvalidCursorError ? new PageError(400, C.errors.badInput) : (asPageError(error, null) ?? new PageError(500, S.errors.generic));
    const session = openSession(this.keys, this.settings.naming, request.headers.cookie, this.clock.now());
    const message = refusal.status === 401 ? refusal.userMessage : MESSAGES[refusal.status] ?? refusal.userMessage;
    const title = refusal.status === 403 ? C.titles.notAllowed : S.titles.errorFor(refusal.status);
    const back = session ? { href: '/console', label: C.nav.index } : refusal.backUrl ? { href: refusal.backUrl, label: S.backTo(new URL(refusal.backUrl).host) } : null;
    for (const [name, value] of Object.entries(refusal.headers)) reply.header(name, value);
    renderConsole(reply, this.settings, refusal.status, title, views.messagePage(message, null, back), { csrf: session?.csrf ?? null, nav: session ? navFor(session.roles) : [], current: null }, null);
  }
}

const MESSAGES: Readonly<Record<number, string>> = { 400: C.errors.badInput, 403: C.errors.notAllowed, 404: C.errors.notFound, 422: C.errors.badInput };

/**
 * The console (DESIGN §8, purpose `console`): org admins, support staff and auditors in a browser.
 * Every read and every change goes through the same queries, flows and commands as the JSON API,
 * with the session's principal (its user and the roles of its hand-off); who may do what is
 * decided there, exactly as for a bearer token. This controller adds no rule of its own.
 */
@ApiExcludeController()
@PublicRoute()
@UseFilters(ConsoleErrorFilter)
@Controller('console')
export class ConsoleController {
  private readonly assets = new PublicAssets();

  constructor(
    private readonly modules: ModuleRef,
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly settings: PagesSettings,
    private readonly jobs: IntegrityJobs,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(PAGES_KEYS) private readonly keys: PagesKeys,
    @Inject(READ_STORE) private readonly readStore: ReadStore,
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
  ) {}

  private get flows(): TwoFactorFlows {
    return usersModuleFlows(this.modules);
  }

  // The index

  @Get()
  async index(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const session = this.session(request);
    const principal = this.principal(session);
    const adminOrganisations = await this.administered(principal);
    const view = { adminOrganisations, support: hasRole(principal, 'support'), audit: hasRole(principal, 'auditor') };
    if (adminOrganisations.length === 0 && !view.support && !view.audit) {
      return this.send(reply, session, 403, C.titles.notAllowed, views.messagePage(C.notAllowed.body, C.notAllowed.detail, { href: session.returnTo, label: S.backTo(new URL(session.returnTo).host) }), null, []);
    }
    this.send(reply, session, 200, C.titles.index, views.indexPage(view), '/console');
  }

  /** The organisations whose admin the session's user is, read from their own user view (self). */
  private async administered(principal: Principal): Promise<Array<{ id: string; name: string; mode: string }>> {
    let user: UserView;
    try {
      user = await this.queries.execute(new UserViewQuery(principal, principal.id, undefined));
    } catch (error) {
      // Staff ids are not users of the service: they administer no organisation.
      if (error instanceof DomainError && (error.kind === 'not_found' || error.kind === 'gone')) return [];
      throw error;
    }
    const ids = user.memberships.filter((m) => m.role === 'admin').map((m) => m.orgId);
    return Promise.all(ids.map(async (id) => {
      const org = await this.readStore.get<OrganisationDoc>(ORGANISATIONS, id);
      return { id, name: org?.name ?? id, mode: org?.mode ?? 'off' };
    }));
  }

  // Organisation (admins; support and the platform may look, as in the API)

  @Get('organisations/:orgId')
  async organisation(@Req() request: FastifyRequest, @Param() params: unknown, @Query() query: unknown, @Res() reply: FastifyReply): Promise<void> {
    const session = this.session(request);
    const { orgId } = parse(orgPath, params);
    const input = parse(orgPageQuery, query);
    const saved = input.saved ? C.org.saved(C.org.modeNames[input.saved] ?? input.saved) : null;
    await this.renderOrganisation(reply, session, orgId, { ...input, saved, reasonError: null, refusal: null, reason: '' }, 200);
  }

  @Post('organisations/:orgId/enforcement')
  @HttpCode(200)
  async changeMode(@Req() request: FastifyRequest, @Param() params: unknown, @Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    const session = this.posted(request, body);
    const { orgId } = parse(orgPath, params);
    const { mode, reason } = parse(enforcementForm, formOf(body));
    const retry = { mode, filter: 'all' as const, saved: null, reason };
    if (reason === '') return this.renderOrganisation(reply, session, orgId, { ...retry, reasonError: C.org.reasonMissing, refusal: null }, 422);
    const context = this.context(session);
    try {
      const outcome = await this.commands.execute(
        new OrganisationCommandMessage(orgId, { type: 'ChangeEnforcementMode', mode, reason, scheduleId: newId(), at: context.now.toISOString(), actor: context.actor }, context),
      );
      const position = outcome.position ? `&minPosition=${encodeURIComponent(outcome.position)}` : '';
      this.redirect(reply, session, `/console/organisations/${orgId}?saved=${mode}${position}`);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'xero_requires_enforcement') {
        return this.renderOrganisation(reply, session, orgId, { filter: 'all', saved: null, reason, reasonError: null, refusal: C.org.refusedXero }, 409);
      }
      throw error;
    }
  }

  private async renderOrganisation(
    reply: FastifyReply,
    session: PageSession,
    orgId: string,
    input: { mode?: (typeof ENFORCEMENT_MODES)[number] | undefined; filter: views.MemberFilter; cursor?: string | undefined; historyCursor?: string | undefined; minPosition?: string | undefined; saved: string | null; reason: string; reasonError: string | null; refusal: string | null },
    status: number,
  ): Promise<void> {
    const principal = this.principal(session);
    const org: OrganisationView = await this.queries.execute(new OrganisationViewQuery(principal, orgId, input.minPosition));
    // Off is never previewed for a Xero-connected organisation: it is not offered (the query would refuse it too).
    const previewMode = input.mode === 'off' && org.xeroConnected ? undefined : input.mode;
    const [preview, members, history] = await Promise.all([
      previewMode ? (this.queries.execute(new EnforcementPreviewQuery(principal, orgId, previewMode, null, null, 1, undefined)) as Promise<EnforcementPreview>) : Promise.resolve(null),
      this.members(principal, orgId, input.filter, input.cursor ?? null, PAGE_SIZE),
      this.queries.execute(new OrganisationHistoryQuery(principal, orgId, input.historyCursor ?? null, 20)) as Promise<TimelinePage>,
    ]);
    const body = views.organisationPage({
      csrf: session.csrf,
      org,
      now: this.clock.now(),
      preview,
      reasonError: input.reasonError,
      refusal: input.refusal,
      saved: input.saved,
      reason: input.reason,
      filter: input.filter,
      members: { ...members, isFirst: !input.cursor },
      history,
    });
    this.send(reply, session, status, org.name, body, null);
  }

  private members(principal: Principal, orgId: string, filter: views.MemberFilter, cursor: string | null, limit: number): Promise<MembersPage> {
    return this.queries.execute(new OrganisationMembersQuery(principal, orgId, undefined, filter === 'none' ? 'disabled' : null, cursor, limit, null, filter === 'locked'));
  }

  /** Streams every page of the same members query as the JSON route: memory holds one page. */
  @Get('organisations/:orgId/members.csv')
  async membersCsv(@Req() request: FastifyRequest, @Param() params: unknown, @Query() query: unknown, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const session = this.session(request);
    const { orgId } = parse(orgPath, params);
    const { filter } = parse(membersCsvQuery, query);
    const principal = this.principal(session);
    // The first page is read before answering, so a refusal is still an error page, not a broken download.
    const first = await this.members(principal, orgId, filter, null, CSV_PAGE);
    const rows = async function* (this: ConsoleController): AsyncGenerator<string> {
      yield csvRecord(['userId', 'role', 'twoFactor', 'enabledSince', 'backupCodesLeft', 'lockedUntil', 'exemptUntil', 'lastReminderAt', 'joinedAt']);
      let page: MembersPage = first;
      for (;;) {
        yield page.items.map((m) => csvRecord([m.userId, m.role, m.twoFactor.status, m.twoFactor.enabledSince, m.twoFactor.backupCodesLeft, m.twoFactor.lockedUntil, m.exemption?.until ?? null, m.lastReminderAt, m.joinedAt])).join('');
        if (!page.nextCursor) return;
        page = await this.members(principal, orgId, filter, page.nextCursor, CSV_PAGE);
      }
    }.call(this);
    reply.header('referrer-policy', 'no-referrer').header('x-content-type-options', 'nosniff');
    return sendStream(reply, 'text/csv; charset=utf-8; header=present', rows, `members-${orgId}.csv`);
  }

  // Support

  @Get('support')
  async support(@Req() request: FastifyRequest, @Query() query: unknown, @Res() reply: FastifyReply): Promise<void> {
    const session = this.session(request);
    // The search answers only to those the lookup query answers to; the form is not offered to others.
    const input = parse(supportPageQuery, query);
    const principal = this.principal(session);
    assertMayLookUp(principal);
    // Requests waiting for a second agent are shown to those who may approve them (the query's rule).
    const pending = hasRole(principal, 'support') ? await this.queries.execute(new PendingResetRequestsQuery(principal, input.cursor, PAGE_SIZE, input.minPosition)) : null;
    this.send(reply, session, 200, C.titles.support, views.supportSearchPage(session.csrf, '', false, null, pending), '/console/support');
  }

  /** A post, so an e-mail address never travels in a URL (history, logs). */
  @Post('support/search')
  @HttpCode(200)
  async search(@Req() request: FastifyRequest, @Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    const session = this.posted(request, body);
    const { q } = parse(searchForm, formOf(body));
    const principal = this.principal(session);
    const found = await this.findUser(principal, q);
    if (found) return this.redirect(reply, session, `/console/support/users/${found}`);
    this.send(reply, session, 200, C.titles.support, views.supportSearchPage(session.csrf, q, true, null), '/console/support');
  }

  private async findUser(principal: Principal, q: string): Promise<string | null> {
    if (q.includes('@')) {
      if (!z.email().safeParse(q).success) return null;
      const lookup: UserLookup = await this.queries.execute(new UserByEmailQuery(principal, q, undefined));
      return lookup.items[0]?.id ?? null;
    }
    if (!idField.safeParse(q).success) return null;
    try {
      return ((await this.queries.execute(new UserViewQuery(principal, q, undefined))) as UserView).id;
    } catch (error) {
      if (error instanceof DomainError && (error.kind === 'not_found' || error.kind === 'gone')) return null;
      throw error;
    }
  }

  @Get('support/users/:userId')
  async supportUser(@Req() request: FastifyRequest, @Param() params: unknown, @Query() query: unknown, @Res() reply: FastifyReply): Promise<void> {
    const session = this.session(request);
    const { userId } = parse(userPath, params);
    const input = parse(userPageQuery, query);
    await this.renderSupportUser(reply, session, userId, input.cursor ?? null, input.minPosition, input.done ? C.support.done[input.done] : null, null, 200);
  }

  /** Two steps: the reason, then a confirmation page that repeats it; only the confirmed post resets. */
  @Post('support/users/:userId/reset')
  @HttpCode(200)
  async reset(@Req() request: FastifyRequest, @Param() params: unknown, @Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    const session = this.posted(request, body);
    const { userId } = parse(userPath, params);
    const form = parse(resetForm, formOf(body));
    if (form.reason === '') return this.renderSupportUser(reply, session, userId, null, undefined, null, C.support.resetReasonMissing, 422);
    const principal = this.principal(session);
    if (form.confirm !== 'yes') {
      const user: UserView = await this.queries.execute(new UserViewQuery(principal, userId, undefined));
      return this.send(reply, session, 200, C.titles.confirmReset, views.confirmResetPage(session.csrf, user, form.reason), null);
    }
    // With RESET_REQUIRES_APPROVAL the answer is a pending request that a second agent approves.
    const { outcome, pending } = await this.flows.reset(userId, form.reason, this.context(session));
    const position = outcome.position ? `&minPosition=${encodeURIComponent(outcome.position)}` : '';
    this.redirect(reply, session, `/console/support/users/${userId}?done=${pending ? 'requested' : 'reset'}${position}`);
  }

  /** The second agent's approval of a two-person reset; who may approve is the decider's rule (never the requester). */
  @Post('support/users/:userId/reset-requests/:requestId/approval')
  @HttpCode(200)
  async approveReset(@Req() request: FastifyRequest, @Param() params: unknown, @Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    const session = this.posted(request, body);
    const { userId, requestId } = parse(resetRequestPath, params);
    parse(approvalForm, formOf(body));
    const outcome = await this.flows.approveReset(userId, requestId, this.context(session));
    const position = outcome.position ? `&minPosition=${encodeURIComponent(outcome.position)}` : '';
    this.redirect(reply, session, `/console/support/users/${userId}?done=approved${position}`);
  }

  private async renderSupportUser(reply: FastifyReply, session: PageSession, userId: string, cursor: string | null, minPosition: string | undefined, done: string | null, reasonError: string | null, status: number): Promise<void> {
    const principal = this.principal(session);
    const [user, timeline] = await Promise.all([
      this.queries.execute(new UserViewQuery(principal, userId, minPosition)) as Promise<UserView>,
      this.queries.execute(new UserTimelineQuery(principal, userId, cursor, PAGE_SIZE)) as Promise<TimelinePage>,
    ]);
    const organisations = await Promise.all(
      user.memberships.map(async (m) => ({ id: m.orgId, role: m.role, name: (await this.readStore.get<OrganisationDoc>(ORGANISATIONS, m.orgId))?.name ?? m.orgId })),
    );
    const body = views.supportUserPage({ csrf: session.csrf, user, organisations, now: this.clock.now(), timeline, reasonError, done });
    this.send(reply, session, status, C.titles.supportUser(user.id), body, '/console/support');
  }

  // Audit

  @Get('audit')
  async audit(@Req() request: FastifyRequest, @Query() query: unknown, @Res() reply: FastifyReply): Promise<void> {
    const session = this.session(request);
    const principal = this.principal(session);
    requireAuditor(principal);
    const input = parse(auditQuery, query);
    const now = this.clock.now();
    const id = input.id ?? '';
    const base = { csrf: session.csrf, subject: input.subject, id, timeline: null, state: null, error: null, atValue: input.at || utcLocal(now), period: defaultPeriod(now) };
    if (id === '') return this.send(reply, session, 200, C.titles.audit, views.auditPage(base), '/console/audit');
    const stream = `${input.subject}-${id}`;
    try {
      const [history, chain] = await Promise.all([
        this.queries.execute(new StreamHistoryQuery(stream, 'backwards', input.cursor === undefined ? undefined : Number(input.cursor), PAGE_SIZE)) as Promise<StreamHistoryView>,
        this.queries.execute(new StreamIntegrityQuery(stream)) as Promise<IntegrityResult>,
      ]);
      const timeline = {
        events: history.events,
        nextCursor: history.nextRevision === null ? null : String(history.nextRevision),
        chain: { intact: chain.ok, eventsChecked: chain.eventsChecked, brokenAt: chain.firstBroken?.revision ?? null, reason: chain.firstBroken?.reason ?? null },
      };
      const { state, error } = input.at ? await this.stateAt(input.subject, id, new Date(Date.parse(`${input.at}Z`) + input.tz * 60_000)) : { state: null, error: null };
      this.send(reply, session, 200, C.titles.audit, views.auditPage({ ...base, timeline, state, error, period: { ...base.period, orgId: input.subject === 'organisation' ? id : '' } }), '/console/audit');
    } catch (error) {
      if (!(error instanceof DomainError && error.kind === 'not_found')) throw error;
      this.send(reply, session, 404, C.titles.audit, views.auditPage({ ...base, error: error.message }), '/console/audit');
    }
  }

  private async stateAt(subject: 'organisation' | 'user', id: string, at: Date): Promise<{ state: views.AuditPageView['state']; error: string | null }> {
    if (Number.isNaN(at.getTime())) throw new PageError(400, C.errors.badInput);
    try {
      const found: StateAsOfView = await this.queries.execute(new StateAsOfQuery(subject, id, at));
      return { state: { at: found.at, facts: stateFacts(found), json: JSON.stringify(found.state, null, 2) }, error: null };
    } catch (error) {
      if (error instanceof DomainError && error.kind === 'not_found') return { state: null, error: error.message };
      throw error;
    }
  }

  @Post('audit/integrity')
  startIntegrity(@Req() request: FastifyRequest, @Body() body: unknown, @Res() reply: FastifyReply): void {
    const session = this.posted(request, body);
    requireAuditor(this.principal(session));
    const jobId = this.jobs.start(session.sid, this.clock.now().getTime());
    this.redirect(reply, session, `/console/audit/integrity/${jobId}`);
  }

  /** Refreshes itself while the check runs: progress without JavaScript. */
  @Get('audit/integrity/:jobId')
  integrity(@Req() request: FastifyRequest, @Param() params: unknown, @Res() reply: FastifyReply): void {
    const session = this.session(request);
    requireAuditor(this.principal(session));
    const { jobId } = parse(jobPath, params);
    const job = this.jobs.find(jobId, session.sid);
    if (!job) throw new PageError(404, C.errors.jobGone);
    this.send(reply, session, 200, C.titles.integrity, views.integrityPage(job), '/console/audit', navFor(session.roles), job.state === 'running' ? 2 : undefined);
  }

  @Get('audit/compliance')
  async compliance(@Req() request: FastifyRequest, @Query() query: unknown, @Res() reply: FastifyReply): Promise<void> {
    const session = this.session(request);
    requireAuditor(this.principal(session));
    const period = parse(complianceQuery, query);
    const report = await this.report(period);
    this.send(reply, session, 200, C.titles.compliance, views.compliancePage(report, period), '/console/audit');
  }

  @Get('audit/compliance/download')
  async complianceDownload(@Req() request: FastifyRequest, @Query() query: unknown, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const session = this.session(request);
    requireAuditor(this.principal(session));
    const { format, ...period } = parse(downloadQuery, query);
    const report = await this.report(period);
    const name = `compliance-${period.orgId}-${period.from}-${period.to}.${format}`;
    reply.header('referrer-policy', 'no-referrer').header('x-content-type-options', 'nosniff');
    return format === 'csv'
      ? sendStream(reply, 'text/csv; charset=utf-8; header=present', once(complianceCsv(report)), name)
      : sendStream(reply, 'application/x-ndjson; charset=utf-8', once(complianceJsonl(report)), name);
  }

  private report(period: { orgId: string; from: string; to: string }): Promise<ComplianceReport> {
    return this.queries.execute(new ComplianceQuery(period.orgId, new Date(`${period.from}T00:00:00.000Z`), new Date(`${period.to}T23:59:59.999Z`)));
  }

  /** The whole log, streamed as the API streams it (the browser shows the download's progress). */
  @Get('audit/export')
  exportLog(@Req() request: FastifyRequest, @Query() query: unknown, @Res() reply: FastifyReply): FastifyReply {
    const session = this.session(request);
    requireAuditor(this.principal(session));
    const { format } = parse(exportQuery, query);
    reply.header('referrer-policy', 'no-referrer').header('x-content-type-options', 'nosniff');
    const chunks = exportHistory(this.eventStore, {}, format);
    return format === 'csv' ? sendStream(reply, 'text/csv; charset=utf-8; header=present', chunks, 'audit-export.csv') : sendStream(reply, 'application/x-ndjson; charset=utf-8', chunks, 'audit-export.jsonl');
  }

  // Static files

  @Get('assets/console.css')
  stylesheet(@Res() reply: FastifyReply): void {
    this.sendAsset(reply, 'text/css; charset=utf-8', this.assets.read('console.css'));
  }

  @Get('assets/console.js')
  script(@Res() reply: FastifyReply): void {
    this.sendAsset(reply, 'text/javascript; charset=utf-8', this.assets.read('console.js'));
  }

  private sendAsset(reply: FastifyReply, type: string, content: Buffer): void {
    reply.status(200).headers({ 'content-type': type, 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff', 'cross-origin-resource-policy': 'same-origin' }).send(content);
  }

  // Sessions, forms and the commands' context (as on the pages: pages.controller.ts)

  private session(request: FastifyRequest): PageSession {
    const session = openSession(this.keys, this.settings.naming, request.headers.cookie, this.clock.now());
    if (!session) throw new PageError(401, S.errors.noSession);
    return session;
  }

  private posted(request: FastifyRequest, body: unknown): PageSession {
    const session = this.session(request);
    if (!isFromOwnPage(request, this.settings.ownOrigin) || !csrfMatches(session, formOf(body)['csrf'])) throw new PageError(403, S.errors.csrf);
    return session;
  }

  /** The session's user with the roles its hand-off carried: the same principal a bearer token gives. */
  private principal(session: PageSession): Principal {
    return { id: session.sub, roles: session.roles };
  }

  private context(session: PageSession): CommandContext {
    const commandId = newId();
    return { commandId, correlationId: commandId, actor: actorOf(this.principal(session)), now: this.clock.now() };
  }

  private cookie(session: PageSession): string {
    return sessionCookie(this.keys, this.settings.naming, session, this.clock.now());
  }

  private send(reply: FastifyReply, session: PageSession, status: number, title: string, body: Html, current: string | null, nav: views.NavItem[] = navFor(session.roles), refreshSeconds?: number): void {
    renderConsole(reply, this.settings, status, title, body, { csrf: session.csrf, nav, current, ...(refreshSeconds ? { refreshSeconds } : {}) }, this.cookie(session));
  }

  /** Post/redirect/get: a reload never repeats a change. */
  private redirect(reply: FastifyReply, session: PageSession, location: string): void {
    reply.status(303).headers({ location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'set-cookie': this.cookie(session) }).send();
  }
}

async function* once(text: string): AsyncGenerator<string> {
  yield text;
}

/** An instant as a datetime-local value in UTC (console.js shows it in the viewer's zone). */
function utcLocal(at: Date): string {
  return at.toISOString().slice(0, 19);
}

function defaultPeriod(now: Date): { orgId: string; from: string; to: string } {
  return { orgId: '', from: new Date(now.getTime() - 30 * 86_400_000).toISOString().slice(0, 10), to: now.toISOString().slice(0, 10) };
}

/** The facts an auditor looks for first in a replayed state; the full state stays below them. */
function stateFacts(found: StateAsOfView): Array<readonly [string, string | Html]> {
  const a = C.audit.stateFacts;
  const state = (found.state && typeof found.state === 'object' && !Array.isArray(found.state) ? found.state : {}) as Record<string, JsonValue>;
  const facts: Array<readonly [string, string | Html]> = [];
  if (typeof state['mode'] === 'string') facts.push([a.mode, C.org.modeNames[state['mode']] ?? state['mode']]);
  if (typeof state['xeroConnected'] === 'boolean') facts.push([a.xeroConnected, state['xeroConnected'] ? C.audit.yes : C.audit.no]);
  const members = state['members'];
  if (members && typeof members === 'object' && !Array.isArray(members)) facts.push([a.members, String(Object.keys(members).length)]);
  if (typeof state['status'] === 'string') facts.push([a.status, state['status']]);
  const factor = state['factor'];
  if (factor && typeof factor === 'object' && !Array.isArray(factor) && typeof factor['kind'] === 'string') facts.push([a.factor, factor['kind']]);
  facts.push([a.events, String(found.eventsApplied)], [a.lastEvent, views.instant(found.lastEventAt)]);
  return facts;
}

/** The request schemas, also the source of the OpenAPI contract (runtime/api-contract.ts). */
export {
  orgPath as consoleOrgPath,
  userPath as consoleUserPath,
  resetRequestPath as consoleResetRequestPath,
  supportPageQuery as consoleSupportQuery,
  jobPath as consoleJobPath,
  orgPageQuery as consoleOrgQuery,
  membersCsvQuery as consoleMembersCsvQuery,
  userPageQuery as consoleUserQuery,
  auditQuery as consoleAuditQuery,
  complianceQuery as consoleComplianceQuery,
  downloadQuery as consoleComplianceDownloadQuery,
  exportQuery as consoleExportQuery,
};
