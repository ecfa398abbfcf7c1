import { createHash } from 'node:crypto';
import { Body, Catch, Controller, Get, HttpCode, Inject, Injectable, Post, Query, Req, Res, UseFilters, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { QueryBus } from '@nestjs/cqrs';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/config.js';
import type { CommandContext } from '../application/command-handling.js';
import type { Clock } from '../kernel/clock.js';
import { DomainError } from '../kernel/domain-error.js';
import { isValidId, newId } from '../kernel/ids.js';
import type { Principal } from '../kernel/principal.js';
import type { IdempotencyStore } from '../ports/idempotency-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { PagesKeys } from '../ports/pages-keys.port.js';
import type { ReadStore } from '../ports/read-store.port.js';
import { CLOCK, CONFIG, IDEMPOTENCY_STORE, LOGGER, PAGES_KEYS, READ_STORE } from '../ports/injection.tokens.js';
import { PublicRoute } from '../http/auth.guard.js';
import { Problem } from '../http/problem.js';
import { RateLimitGuard, type RateLimitFamily } from '../http/rate-limit.guard.js';
import { EnforcementDecisionQuery } from '../enforcement/enforcement.query.js';
import type { EnforcementDecision } from '../enforcement/enforcement.decision.js';
import { ORGANISATIONS, type OrganisationDoc } from '../organisations/directory.projection.js';
import type { IssuedDevice, TwoFactorFlows } from '../two-factor/two-factor.flows.js';
import { usersModuleFlows } from './users-module.flows.js';
import { UserViewQuery, type UserView } from '../two-factor/user.queries.js';
import { TrustedDevicesQuery, type TrustedDevicesView } from '../two-factor/trusted-devices.queries.js';
import { browserLabel, clearedDeviceCookie, deviceCookie, openDeviceCookie, type DeviceCookie } from './device.cookie.js';
import { HANDOFF_MAX_LIFETIME_SECONDS, HandoffVerifier, type Handoff } from './handoff.verifier.js';
import { toHtmlString, type Html } from './html.template.js';
import { asPageError, PageError } from './page.error.js';
import { clearedCookie, cookieNaming, csrfMatches, newSession, openSession, sessionCookie, type CookieNaming, type PageSession } from './page.session.js';
import { brandOf, brandStylesheet, type Brand } from './pages.brand.js';
import { contentSecurityPolicy, newNonce, pageHeaders } from './pages.headers.js';
import { STRINGS as S } from './pages.strings.js';
import * as views from './pages.views.js';
import { PublicAssets } from './public.assets.js';
import { isFromOwnPage } from './page.origin.js';

const HANDOFF_KEY_PREFIX = 'pages-handoff-jti:';
const MAX_TOKEN_LENGTH = 8192;
/** The assertion a host receives after verify (DESIGN §8): short-lived, single-use at the host. */
const ASSERTION_LIFETIME_SECONDS = 120;
const AMR: Readonly<Record<CheckKind, readonly string[]>> = { otp: ['otp'], backup_code: ['otp', 'backup_code'], device: ['device'] };

type Form = Record<string, unknown>;
type CheckKind = 'otp' | 'backup_code' | 'device';

/** What the pages know about their deployment, computed once from the configuration. */
@Injectable()
export class PagesSettings {
  readonly brand: Brand;
  readonly naming: CookieNaming;
  readonly ownOrigin: string;
  /** The assertions' `iss`: APP_BASE_URL exactly as configured (hosts compare it as a string). */
  readonly issuer: string;
  readonly returnOrigins: ReadonlySet<string>;
  readonly csp: { readonly formTargets: readonly string[]; readonly imageOrigins: readonly string[] };
  readonly rememberDays: number;

  constructor(@Inject(CONFIG) config: Config) {
    this.rememberDays = config.TRUSTED_DEVICE_DAYS;
    this.brand = brandOf(config);
    this.naming = cookieNaming(config.APP_BASE_URL);
    this.ownOrigin = new URL(config.APP_BASE_URL).origin;
    this.issuer = config.APP_BASE_URL;
    this.returnOrigins = new Set((config.PAGES_RETURN_ORIGINS ?? [this.ownOrigin, 'http://localhost:3001']).map((origin) => new URL(origin).origin));
    const logo = config.LOGO_URL?.startsWith('https://') ? [new URL(config.LOGO_URL).origin] : [];
    this.csp = { formTargets: [...this.returnOrigins], imageOrigins: logo };
  }
}

/** Renders any page with its headers: nonce, CSP, no-store, no-referrer; re-issues the session cookie. */
export function sendPage(reply: FastifyReply, settings: PagesSettings, status: number, title: string, body: Html, session: { value: PageSession; cookie: string } | null, extra: Record<string, string> = {}): void {
  const nonce = newNonce();
  const page = views.layout({ brand: settings.brand, nonce, csrf: session?.value.csrf ?? null }, title, body);
  reply.status(status).headers({ ...pageHeaders(contentSecurityPolicy(nonce, settings.csp)), ...extra });
  if (session) reply.header('set-cookie', session.cookie);
  reply.send(toHtmlString(page));
}

/** Every refusal on the pages is an HTML page with a way back (when one is allowed), never JSON. */
@Catch()
@Injectable()
export class PagesErrorFilter implements ExceptionFilter {
  constructor(
    private readonly settings: PagesSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const refusal = error instanceof Problem ? new PageError(error.status, error.status === 429 ? S.errors.rateLimited(Number(error.extensions['retryAfterSeconds'] ?? 60)) : S.errors.generic, null, error.extensions.headers ?? {}) : asPageError(error, null);
    if (!refusal) this.logger.error({ err: { name: (error as Error | null)?.name ?? typeof error } }, 'unhandled error on a page');
    const shown = refusal ?? new PageError(500, S.errors.generic);
    sendPage(reply, this.settings, shown.status, S.titles.errorFor(shown.status), views.messagePage(shown.userMessage, shown.backUrl, shown.backUrl ? S.backTo(new URL(shown.backUrl).host) : undefined), null, shown.headers);
  }
}

/**
 * The pages of DESIGN §8. They call the same flows and queries as the JSON API with the session's
 * user as the principal (an end user acting on itself) and add no authorisation rule of their own.
 */
@ApiExcludeController()
@PublicRoute()
@UseFilters(PagesErrorFilter)
@Controller('two-factor')
export class PagesController {
  private readonly assets = new PublicAssets();

  constructor(
    private readonly modules: ModuleRef,
    private readonly queries: QueryBus,
    private readonly handoffs: HandoffVerifier,
    private readonly settings: PagesSettings,
    private readonly limits: RateLimitGuard,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(PAGES_KEYS) private readonly keys: PagesKeys,
    @Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
    @Inject(READ_STORE) private readonly readStore: ReadStore,
  ) {}

  private get flows(): TwoFactorFlows {
    return usersModuleFlows(this.modules);
  }

  // Hand-off

  @Get('handoff')
  async handoffByLink(@Query() query: Form, @Res() reply: FastifyReply): Promise<void> {
    await this.handoff(query['token'], reply);
  }

  @Post('handoff')
  async handoffByForm(@Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    await this.handoff(formOf(body)['token'], reply);
  }

  private async handoff(token: unknown, reply: FastifyReply): Promise<void> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new PageError(400, S.errors.invalid);
    const now = this.clock.now();
    const handoff = await this.handoffs.verify(token, now);
    await this.acceptOnce(handoff, now);
    const session = newSession(
      { sub: handoff.sub, roles: handoff.roles, purpose: handoff.purpose, returnTo: handoff.returnTo.href, signOutUrl: handoff.signOutUrl?.href ?? null, orgId: handoff.orgId },
      now,
    );
    reply.status(303).headers({ location: await this.landing(session), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    reply.header('set-cookie', sessionCookie(this.keys, this.settings.naming, session, now)).send();
  }

  /** `jti` is claimed in the idempotency store (atomic claim-if-absent), kept past the token's own expiry. */
  private async acceptOnce(handoff: Handoff, now: Date): Promise<void> {
    const key = HANDOFF_KEY_PREFIX + createHash('sha256').update(handoff.jti).digest('hex');
    const keepUntil = new Date(Math.max(handoff.exp * 1000, now.getTime()) + HANDOFF_MAX_LIFETIME_SECONDS * 1000);
    const claim = await this.store.claim({ key, fingerprint: 'handoff', token: newId(), now, leaseUntil: keepUntil, expiresAt: keepUntil });
    if (!claim.claimed) throw new PageError(401, S.errors.reused, handoff.returnTo.origin);
  }

  private async landing(session: PageSession): Promise<string> {
    if (session.purpose === 'console') return '/console';
    if (session.purpose !== 'setup') return `/two-factor/${session.purpose}`;
    const decision = await this.decision(session).catch(() => null);
    return decision?.action === 'redirect' ? '/two-factor/required' : '/two-factor/setup';
  }

  // Setup

  @Get('setup')
  async setupPage(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const session = this.session(request);
    await this.renderSetup(request, reply, session, null, null, 200);
  }

  @Post('setup')
  @HttpCode(200)
  async confirm(@Req() request: FastifyRequest, @Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    const session = this.postedSession(request, body);
    const code = sixDigits(formOf(body)['code']);
    if (code === null) return this.renderSetup(request, reply, session, { message: S.code.invalidFormat }, null, 422);
    this.limit(request, 'confirm', session);
    try {
      const { answer } = await this.flows.confirm(session.sub, code, this.context(session));
      this.send(reply, session, 200, S.titles.setupDone, views.setupDonePage(answer.backupCodes, this.settings.brand.productName, session.returnTo));
    } catch (error) {
      if (isCode(error, 'two_factor_already_enabled', 'backup_codes_already_issued')) return this.send(reply, session, 200, S.titles.setupDone, views.alreadyEnabledPage(session.returnTo));
      if (isCode(error, 'setup_expired', 'two_factor_not_pending')) return this.renderSetup(request, reply, session, null, S.code.setupExpired, 200);
      const codeError = codeRefusal(error);
      if (!codeError) throw error;
      return this.renderSetup(request, reply, session, codeError.error, null, codeError.status, codeError.headers);
    }
  }

  private async renderSetup(request: FastifyRequest, reply: FastifyReply, session: PageSession, error: views.CodeError | null, notice: string | null, status: number, headers: Record<string, string> = {}): Promise<void> {
    this.limit(request, 'setup', session);
    try {
      const { answer } = await this.flows.startSetup(session.sub, this.context(session));
      const manualKey = new URL(answer.otpauthUri).searchParams.get('secret') ?? '';
      this.send(reply, session, status, S.titles.setup, views.setupPage({ qrCodeSvg: answer.qrCodeSvg, manualKey, expiresAt: answer.expiresAt, csrf: session.csrf, error, notice }), headers);
    } catch (failure) {
      if (isCode(failure, 'two_factor_already_enabled')) return this.send(reply, session, 200, S.titles.setupDone, views.alreadyEnabledPage(session.returnTo));
      throw this.withBack(failure, session);
    }
  }

  // Required

  @Get('required')
  async requiredPage(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const session = this.session(request);
    const decision = await this.decision(session).catch((error: unknown) => {
      throw this.withBack(error, session);
    });
    if (decision.twoFactorEnabled) return this.send(reply, session, 200, S.titles.setupDone, views.alreadyEnabledPage(session.returnTo));
    const organisations = await Promise.all(
      decision.enforcedBy.map(async (org) => ({ name: (await this.readStore.get<OrganisationDoc>(ORGANISATIONS, org.orgId))?.name ?? org.orgId, mode: org.mode, xeroConnected: org.xeroConnected })),
    );
    this.send(reply, session, 200, S.titles.required, views.requiredPage(organisations));
  }

  // Verify

  /**
   * The challenge; a lockout already in force is said up front, with the time left. A browser this
   * user chose to remember is offered a one-click "Continue" instead of the code.
   */
  @Get('verify')
  async verifyPage(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const session = this.session(request);
    const user = (await this.queries.execute(new UserViewQuery(this.principal(session), session.sub, undefined)).catch((error: unknown) => {
      throw this.withBack(error, session);
    })) as UserView;
    if (user.twoFactor.status !== 'enabled') return this.send(reply, session, 200, S.titles.verify, views.messagePage(S.verify.notEnabled, session.returnTo));
    const error = this.lockOf(user);
    const device = error ? null : this.deviceOf(request, session);
    this.send(reply, session, 200, S.titles.verify, this.verifyView(session, error, device));
  }

  @Post('verify')
  @HttpCode(200)
  async verify(@Req() request: FastifyRequest, @Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    const session = this.postedSession(request, body);
    const form = formOf(body);
    if (form['method'] === 'device') return this.verifyWithDevice(request, session, reply);
    const entered = digitsOf(form['code']);
    const kind = entered?.length === 6 ? 'otp' : entered?.length === 8 ? 'backup_code' : null;
    if (!entered || !kind) return this.send(reply, session, 422, S.titles.verify, this.verifyView(session, { message: S.code.invalidVerifyFormat }));
    this.limit(request, 'verify', session);
    const remember = form['remember'] === 'yes' ? { label: browserLabel(request.headers['user-agent']) } : null;
    let issued: IssuedDevice | null;
    try {
      const context = this.context(session);
      issued = (kind === 'otp' ? await this.flows.verifyCode(session.sub, entered, context, remember) : await this.flows.verifyBackupCode(session.sub, entered, context, remember)).device;
    } catch (error) {
      return this.verifyRefused(error, session, reply);
    }
    const cookie = issued ? deviceCookie(this.keys, this.settings.naming, { sub: session.sub, deviceId: issued.deviceId, token: issued.deviceToken, expiresAt: issued.expiresAt }, this.clock.now()) : null;
    await this.backToHost(session, kind, reply, cookie);
  }

  /** A device cookie that no longer works is cleared, and the code is asked as if it had never been there. */
  private async verifyWithDevice(request: FastifyRequest, session: PageSession, reply: FastifyReply): Promise<void> {
    const device = this.deviceOf(request, session);
    if (!device) return this.send(reply, session, 422, S.titles.verify, this.verifyView(session, { message: S.verify.deviceRefused }), { 'set-cookie': clearedDeviceCookie(this.settings.naming) });
    this.limit(request, 'verify', session);
    try {
      await this.flows.verifyDevice(session.sub, device.token, this.context(session));
    } catch (error) {
      if (isCode(error, 'invalid_device_token', 'device_expired')) {
        return this.send(reply, session, 422, S.titles.verify, this.verifyView(session, { message: S.verify.deviceRefused }), { 'set-cookie': clearedDeviceCookie(this.settings.naming) });
      }
      return this.verifyRefused(error, session, reply);
    }
    await this.backToHost(session, 'device', reply, null);
  }

  private verifyRefused(error: unknown, session: PageSession, reply: FastifyReply): void {
    if (isCode(error, 'two_factor_not_enabled')) return this.send(reply, session, 409, S.titles.verify, views.messagePage(S.verify.notEnabled, session.returnTo));
    const refusal = codeRefusal(error);
    if (!refusal) throw this.withBack(error, session);
    this.send(reply, session, refusal.status, S.titles.verify, this.verifyView(session, refusal.error), refusal.headers);
  }

  /** A lockout in force, said with the time left, as the refusal of a code would say it. */
  private lockOf(user: UserView): views.CodeError | null {
    const lockedUntil = user.twoFactor.locked ? user.twoFactor.lockedUntil : null;
    return lockedUntil ? lockError(lockedUntil, (Date.parse(lockedUntil) - this.clock.now().getTime()) / 1000) : null;
  }

  private verifyView(session: PageSession, error: views.CodeError | null, device: DeviceCookie | null = null): Html {
    return views.verifyPage(session.csrf, error, { rememberDays: this.settings.rememberDays, trustedUntil: device?.expiresAt ?? null });
  }

  /** 303 to `returnTo` with the assertion; a newly remembered device's cookie goes with it. */
  private async backToHost(session: PageSession, kind: CheckKind, reply: FastifyReply, device: string | null): Promise<void> {
    const target = new URL(session.returnTo);
    target.searchParams.set('tfa', await this.assertion(session, kind));
    reply.status(303).headers({ location: target.href, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    const cookie = sessionCookie(this.keys, this.settings.naming, session, this.clock.now());
    reply.header('set-cookie', device ? [cookie, device] : cookie).send();
  }

  /** This browser's trusted device, for the session's user only (a shared browser never offers another's). */
  private deviceOf(request: FastifyRequest, session: PageSession): DeviceCookie | null {
    return openDeviceCookie(this.keys, this.settings.naming, request.headers.cookie, session.sub, this.clock.now());
  }

  /**
   * The `tfa` assertion (DESIGN §8): for the host at `returnTo`'s origin only, two minutes, with a
   * `jti` the host remembers to refuse a replay. `amr` is `["otp"]`, plus `backup_code` when a
   * backup code was used (the host may then suggest new codes), and `["device"]` alone when a
   * remembered browser skipped the code (no code was checked now; see docs/integration.md).
   */
  private assertion(session: PageSession, kind: CheckKind): Promise<string> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    return this.keys.signAssertion({
      iss: this.settings.issuer,
      aud: new URL(session.returnTo).origin,
      sub: session.sub,
      amr: AMR[kind],
      auth_time: now,
      iat: now,
      exp: now + ASSERTION_LIFETIME_SECONDS,
      jti: newId(),
      ...(session.orgId ? { org_id: session.orgId } : {}),
    });
  }

  // Manage

  @Get('manage')
  async managePage(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const session = this.session(request);
    await this.renderManage(request, reply, session, {}, 200);
  }

  @Post('manage/backup-codes')
  @HttpCode(200)
  async regenerate(@Req() request: FastifyRequest, @Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    const session = this.postedSession(request, body);
    const code = sixDigits(formOf(body)['code']);
    if (code === null) return this.renderManage(request, reply, session, { regenerateError: { message: S.code.invalidFormat } }, 422);
    this.limit(request, 'backup-codes', session);
    try {
      const { answer } = await this.flows.regenerateBackupCodes(session.sub, code, this.context(session));
      return this.renderManage(request, reply, session, { newCodes: answer.backupCodes }, 200);
    } catch (error) {
      const refusal = codeRefusal(error);
      if (!refusal) throw this.withBack(error, session);
      return this.renderManage(request, reply, session, { regenerateError: refusal.error }, refusal.status, refusal.headers);
    }
  }

  @Post('manage/disable')
  @HttpCode(200)
  async disable(@Req() request: FastifyRequest, @Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    const session = this.postedSession(request, body);
    const code = sixDigits(formOf(body)['code']);
    if (code === null) return this.renderManage(request, reply, session, { disableError: { message: S.code.invalidFormat } }, 422);
    this.limit(request, 'disable', session);
    try {
      await this.flows.disable(session.sub, code, this.context(session));
      return this.renderManage(request, reply, session, { message: S.manage.disabled }, 200);
    } catch (error) {
      if (isCode(error, 'enforced_by_organisation')) {
        const names = await this.organisationNames((error as DomainError).details['enforcingOrgIds']);
        return this.renderManage(request, reply, session, { disableError: { message: S.manage.enforced(views.listOf(names), names.length) } }, 409);
      }
      const refusal = codeRefusal(error);
      if (!refusal) throw this.withBack(error, session);
      return this.renderManage(request, reply, session, { disableError: refusal.error }, refusal.status, refusal.headers);
    }
  }

  /** Forgets one remembered device; this browser's own cookie goes with it when it was that device. */
  @Post('manage/devices/revoke')
  @HttpCode(200)
  async revokeDevice(@Req() request: FastifyRequest, @Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    const session = this.postedSession(request, body);
    const deviceId = formOf(body)['deviceId'];
    if (typeof deviceId !== 'string' || !isValidId(deviceId)) return this.renderManage(request, reply, session, { message: S.manage.deviceGone }, 422);
    try {
      await this.flows.revokeDevice(session.sub, deviceId, this.context(session));
    } catch (error) {
      if (isCode(error, 'device_not_found')) return this.renderManage(request, reply, session, { message: S.manage.deviceGone }, 200);
      throw this.withBack(error, session);
    }
    const mine = this.deviceOf(request, session)?.deviceId === deviceId;
    return this.renderManage(request, reply, session, { message: S.manage.deviceForgotten }, 200, mine ? { 'set-cookie': clearedDeviceCookie(this.settings.naming) } : {});
  }

  private async renderManage(request: FastifyRequest, reply: FastifyReply, session: PageSession, extra: Partial<views.ManageView>, status: number, headers: Record<string, string> = {}): Promise<void> {
    const principal = this.principal(session);
    const [user, decision] = await Promise.all([this.queries.execute(new UserViewQuery(principal, session.sub, undefined)) as Promise<UserView>, this.decision(session)]).catch((error: unknown) => {
      throw this.withBack(error, session);
    });
    const enforcedBy = await this.organisationNames(decision.enforcedBy.map((org) => org.orgId));
    const devices = user.twoFactor.status === 'enabled' ? await this.devices(request, session) : [];
    const view: views.ManageView = {
      csrf: session.csrf,
      enabled: user.twoFactor.status === 'enabled',
      enabledSince: user.twoFactor.enabledSince,
      backupCodesLeft: user.twoFactor.backupCodesLeft,
      enforcedBy,
      message: null,
      regenerateError: null,
      disableError: null,
      lock: this.lockOf(user),
      newCodes: null,
      devices,
      productName: this.settings.brand.productName,
      returnTo: session.returnTo,
      ...extra,
    };
    this.send(reply, session, status, S.titles.manage, views.managePage(view), headers);
  }

  private async devices(request: FastifyRequest, session: PageSession): Promise<views.DeviceRow[]> {
    const { items } = (await this.queries.execute(new TrustedDevicesQuery(this.principal(session), session.sub, undefined))) as TrustedDevicesView;
    const current = this.deviceOf(request, session)?.deviceId;
    return items.map((device) => ({ ...device, current: device.id === current }));
  }

  // The console moved to /console (console.controller.ts); links to the old address still arrive.

  @Get('console')
  consolePage(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.session(request);
    reply.status(303).headers({ location: '/console', 'cache-control': 'no-store' }).send();
  }

  /** Ends the pages' session and sends the browser to the host's sign-out (or back to the host). */
  @Post('signout')
  signOut(@Req() request: FastifyRequest, @Body() body: unknown, @Res() reply: FastifyReply): void {
    const session = this.postedSession(request, body);
    const target = session.signOutUrl ?? new URL(session.returnTo).origin + '/';
    reply.status(303).headers({ location: target, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'set-cookie': clearedCookie(this.settings.naming) }).send();
  }

  // Static files

  @Get('assets/pages.css')
  stylesheet(@Res() reply: FastifyReply): void {
    this.sendAsset(reply, 'text/css; charset=utf-8', this.assets.read('pages.css'), 'same-origin');
  }

  @Get('assets/brand.css')
  brandStylesheet(@Res() reply: FastifyReply): void {
    this.sendAsset(reply, 'text/css; charset=utf-8', Buffer.from(brandStylesheet(this.settings.brand)), 'same-origin');
  }

  @Get('assets/pages.js')
  script(@Res() reply: FastifyReply): void {
    this.sendAsset(reply, 'text/javascript; charset=utf-8', this.assets.read('pages.js'), 'same-origin');
  }

  /** The soft prompt's custom element, loaded by hosts' pages from another origin. */
  @Get('prompt.js')
  prompt(@Res() reply: FastifyReply): void {
    this.sendAsset(reply, 'text/javascript; charset=utf-8', this.assets.read('two-factor-prompt.js'), 'cross-origin');
  }

  private sendAsset(reply: FastifyReply, type: string, content: Buffer, resourcePolicy: 'same-origin' | 'cross-origin'): void {
    reply
      .status(200)
      .headers({
        'content-type': type,
        'cache-control': resourcePolicy === 'cross-origin' ? 'public, max-age=86400' : 'public, max-age=3600',
        'x-content-type-options': 'nosniff',
        'cross-origin-resource-policy': resourcePolicy,
      })
      .send(content);
  }

  // Sessions, forms and the flows' context

  /** The live session of this browser, or the 401 error page (no session, idle, altered). */
  private session(request: FastifyRequest): PageSession {
    const session = openSession(this.keys, this.settings.naming, request.headers.cookie, this.clock.now());
    if (!session) throw new PageError(401, S.errors.noSession);
    return session;
  }

  /** A form post: a live session, a same-origin `Origin` and the session's CSRF token. */
  private postedSession(request: FastifyRequest, body: unknown): PageSession {
    const session = this.session(request);
    if (!this.fromOwnPage(request) || !csrfMatches(session, formOf(body)['csrf'])) throw new PageError(403, S.errors.csrf, new URL(session.returnTo).origin);
    return session;
  }

  private fromOwnPage(request: FastifyRequest): boolean {
    return isFromOwnPage(request, this.settings.ownOrigin);
  }

  private send(reply: FastifyReply, session: PageSession, status: number, title: string, body: Html, headers: Record<string, string> = {}): void {
    sendPage(reply, this.settings, status, title, body, { value: session, cookie: sessionCookie(this.keys, this.settings.naming, session, this.clock.now()) }, headers);
  }

  private limit(request: FastifyRequest, family: RateLimitFamily, session: PageSession): void {
    try {
      this.limits.check(request.ip, family, session.sub, session.sub);
    } catch (error) {
      if (error instanceof Problem) {
        const seconds = Number(error.extensions['retryAfterSeconds'] ?? 60);
        throw new PageError(429, S.errors.rateLimited(seconds), new URL(session.returnTo).origin, { 'retry-after': String(seconds) });
      }
      throw error;
    }
  }

  private principal(session: PageSession): Principal {
    return { id: session.sub, roles: [] };
  }

  private context(session: PageSession): CommandContext {
    const commandId = newId();
    return { commandId, correlationId: commandId, actor: { id: session.sub, roles: [] }, now: this.clock.now() };
  }

  private decision(session: PageSession): Promise<EnforcementDecision> {
    return this.queries.execute(new EnforcementDecisionQuery(this.principal(session), session.sub, null, undefined));
  }

  private async organisationNames(ids: unknown): Promise<string[]> {
    const list = Array.isArray(ids) ? (ids as string[]) : [];
    return Promise.all(list.map(async (id) => (await this.readStore.get<OrganisationDoc>(ORGANISATIONS, id))?.name ?? id));
  }

  /** A refusal from a flow or query, with the way back to the host. */
  private withBack(error: unknown, session: PageSession): unknown {
    return asPageError(error, new URL(session.returnTo).origin) ?? error;
  }
}

export function formOf(body: unknown): Form {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Form) : {};
}

/** Digits of what was typed, spaces and dashes removed (codes are shown grouped), or null. */
function digitsOf(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 32) return null;
  const digits = value.replace(/[\s-]/g, '');
  return /^\d+$/.test(digits) ? digits : null;
}

function sixDigits(value: unknown): string | null {
  const digits = digitsOf(value);
  return digits?.length === 6 ? digits : null;
}

function isCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof DomainError && codes.includes(error.code);
}

/** A wrong, replayed or locked-out code as an inline error of the form, with its status. */
function codeRefusal(error: unknown): { error: views.CodeError; status: number; headers: Record<string, string> } | null {
  if (!(error instanceof DomainError)) return null;
  if (error.code === 'invalid_code') return { error: { message: S.code.invalid }, status: 422, headers: {} };
  if (error.code === 'code_already_used') return { error: { message: S.code.replayed }, status: 422, headers: {} };
  if (error.code === 'verification_locked') {
    const seconds = Number(error.details['retryAfterSeconds'] ?? 0);
    return { error: lockError(String(error.details['lockedUntil'] ?? ''), seconds), status: 429, headers: { 'retry-after': String(seconds) } };
  }
  return null;
}

/** The lockout's message (whole minutes left, at least one, and the UTC time it ends). */
function lockError(lockedUntil: string, secondsLeft: number): views.CodeError {
  return { message: S.code.locked(Math.max(1, Math.ceil(secondsLeft / 60)), lockedUntil.slice(11, 16)), lockedUntil };
}

/** The service's ES256 public key (empty when assertions are HS256), for hosts verifying `tfa`. */
@ApiExcludeController()
@PublicRoute()
@Controller('.well-known')
export class JwksController {
  constructor(@Inject(PAGES_KEYS) private readonly keys: PagesKeys) {}

  @Get('jwks.json')
  jwks(@Res() reply: FastifyReply): void {
    reply.status(200).headers({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=3600', 'cross-origin-resource-policy': 'cross-origin' }).send(JSON.stringify(this.keys.publicJwks()));
  }
}
