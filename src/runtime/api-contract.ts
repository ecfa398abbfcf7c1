import { z } from 'zod';
import type { ApiRoute, SchemaSource } from '../http/openapi.document.js';
import * as audit from '../audit/audit.params.js';
import * as enforcement from '../enforcement/enforcement.controller.js';
import * as changes from '../enforcement/enforcement-changes.controller.js';
import type { HostDecisionDocument } from '../enforcement/enforcement.host-document.js';
import * as organisations from '../organisations/organisations.controller.js';
import * as exemptions from '../organisations/exemptions.controller.js';
import * as preview from '../enforcement/enforcement-preview.controller.js';
import type { EnforcementPreview } from '../enforcement/enforcement-preview.query.js';
import * as reminders from '../reminders/reminders.controller.js';
import * as users from '../two-factor/users.controller.js';
import * as resetRequests from '../two-factor/reset-requests.controller.js';
import type { ResetRequestsPage } from '../two-factor/reset-requests.queries.js';
import type { VerifyAnswer } from '../two-factor/users.controller.js';
import type { TrustedDevicesView } from '../two-factor/trusted-devices.queries.js';
import type { PendingReset } from '../two-factor/two-factor.flows.js';
import { consoleAuditQuery, consoleComplianceDownloadQuery, consoleComplianceQuery, consoleExportQuery, consoleJobPath, consoleMembersCsvQuery, consoleOrgPath, consoleOrgQuery, consoleResetRequestPath, consoleSupportQuery, consoleUserPath, consoleUserQuery } from '../pages/console.controller.js';
import type { CommandAnswer } from '../http/command-context.js';
import type { JsonValue } from '../kernel/event-envelope.js';
import type { MembersPage, OrganisationView } from '../organisations/organisation.queries.js';
import type { MembersSyncAnswer } from '../organisations/organisations.controller.js';
import type { UserView } from '../two-factor/user.queries.js';
import type { UserLookup } from '../two-factor/user-lookup.queries.js';
import type { TimelinePage } from '../audit/timeline.view.js';
import type { BackupCodesAnswer, SetupAnswer } from '../two-factor/two-factor.flows.js';
import type { ReminderView } from '../reminders/reminders.controller.js';
import type { EnforcementDecision } from '../enforcement/enforcement.decision.js';
import type { EventsView, StreamHistoryView } from '../audit/audit-history.queries.js';
import type { StateAsOfView } from '../audit/audit-replay.queries.js';
import type { IntegrityResult } from '../audit/integrity.js';
import type { ComplianceReport } from '../audit/compliance.report.js';
import type { RebuildProgress } from '../projections/projection.rebuild.js';

/**
 * The HTTP API, route by route: who may call it, what it takes and what it answers. Request
 * schemas are the controllers' own zod schemas; answers are written here from the views the
 * queries and flows return. The HTTP specs validate every answer they receive against the
 * document built from this table (test/support/openapi-validator.ts), so it cannot drift.
 */

const instant = z.string().meta({ format: 'date-time' });
const position = z.string().meta({ description: 'Global position (a string); pass it as `minPosition` to read your writes.' });
const anyJson = z.custom<JsonValue>();

const commandAnswer = z
  .object({
    revision: z.number().int().meta({ description: 'Stream revision after the command; -1 when the stream is still empty.' }),
    position: position.nullable(),
  })
  .strict();
const created = commandAnswer.extend({ id: z.string() }).strict();
const membersSynced = commandAnswer
  .extend({
    changes: z
      .object({ joined: z.number().int().min(0), roleChanged: z.number().int().min(0), left: z.number().int().min(0) })
      .strict()
      .meta({ description: 'How many members joined, changed role and left; all zero when the list already matched.' }),
  })
  .strict();
const setupAnswer = commandAnswer.extend({ otpauthUri: z.string(), qrCodeSvg: z.string(), expiresAt: instant }).strict();
const backupCodesAnswer = commandAnswer
  .extend({ backupCodes: z.array(z.string().regex(/^\d{8}$/)).length(10).meta({ description: 'Shown once; only their hashes are stored.' }) })
  .strict();
const verifiedAnswer = commandAnswer
  .extend({
    verified: z.literal(true),
    amr: z.array(z.string()).meta({ description: 'What was checked: `["otp"]` (a code), `["otp", "backup_code"]` (a backup code) or `["device"]` (a trusted device\'s token, no code at this check).' }),
    deviceId: z.string().optional().meta({ description: 'With `rememberDevice: true`: the trusted device\'s id (to list and revoke it).' }),
    deviceToken: z.string().optional().meta({ description: 'With `rememberDevice: true`: 256 random bits (base64url), shown once, stored only as a SHA-256 hash. Send it as `deviceToken` to a later verify instead of a code.' }),
    deviceExpiresAt: instant.optional().meta({ description: 'With `rememberDevice: true`: when the device token stops working (TRUSTED_DEVICE_DAYS).' }),
  })
  .strict();
const trustedDevices = z
  .object({
    items: z.array(
      z.object({ id: z.string(), label: z.string().nullable(), createdAt: instant, lastUsedAt: instant.nullable(), expiresAt: instant }).strict(),
    ),
  })
  .strict();
const resetRequested = commandAnswer
  .extend({ requestId: z.string().meta({ description: 'Approve it with POST …/reset-requests/{requestId}/approval (a different support agent).' }), expiresAt: instant })
  .strict();
const resetRequestsPage = z
  .object({
    items: z.array(z.object({ requestId: z.string(), userId: z.string(), requestedBy: z.string(), reason: z.string(), requestedAt: instant, expiresAt: instant }).strict()),
    nextCursor: z.string().nullable(),
  })
  .strict();

const twoFactorSummary = z
  .object({
    status: z.enum(['none', 'pending', 'enabled']),
    enabledSince: instant.nullable(),
    backupCodesLeft: z.number().int().min(0),
    lockedUntil: instant.nullable(),
  })
  .strict();
const organisationView = z
  .object({
    id: z.string(),
    name: z.string(),
    mode: z.enum(['off', 'soft', 'hard']),
    xeroConnected: z.boolean(),
    tenantId: z.string().nullable(),
    registeredAt: instant,
    modeLastChanged: z.object({ at: instant, by: z.string(), reason: z.string().nullable() }).strict().nullable(),
    members: z.object({ total: z.number().int(), withTwoFactor: z.number().int(), withoutTwoFactor: z.number().int() }).strict(),
    hardFrom: instant.nullable().meta({ description: 'When this soft organisation becomes hard by itself (a scheduled escalation); null when none is pending.' }),
    graceDays: z.number().int().meta({ description: 'Days a member who joins a hard organisation is treated as soft.' }),
  })
  .strict();
const exemption = z
  .object({ reason: z.string().meta({ description: 'Written by the staff member who granted it.' }), until: instant })
  .strict()
  .nullable()
  .meta({ description: 'The member\'s exemption from this organisation\'s enforcement, or null.' });
const membersPage = z
  .object({
    items: z.array(z.object({ userId: z.string(), role: z.enum(['admin', 'member']), joinedAt: instant, forgotten: z.boolean(), twoFactor: twoFactorSummary, exemption, lastReminderAt: instant.nullable().meta({ description: 'When the member was last reminded; null when never.' }) }).strict()),
    nextCursor: z.string().nullable(),
  })
  .strict();
const userView = z
  .object({
    id: z.string(),
    email: z.string().nullable().meta({ description: 'null once the user is forgotten.' }),
    forgotten: z.boolean(),
    registeredAt: instant,
    twoFactor: twoFactorSummary.extend({ locked: z.boolean() }).strict(),
    memberships: z.array(z.object({ orgId: z.string(), role: z.enum(['admin', 'member']) }).strict()),
    reminders: z.object({ count: z.number().int().min(0), lastSentAt: instant.nullable(), lastCadence: z.string().nullable() }).strict(),
    notices: z
      .object({ count: z.number().int().min(0), lastSentAt: instant.nullable(), lastKind: z.string().nullable() })
      .strict()
      .meta({ description: 'Security notices emailed to the user (2FA enabled, disabled, reset, locked, backup codes); each is a `NoticeSent` event in the audit history.' }),
  })
  .strict();
const userLookup = z
  .object({ items: z.array(z.object({ id: z.string() }).strict()).max(1).meta({ description: 'The live user holding the address, if any (one live user per address).' }) })
  .strict();
const timelinePage = z
  .object({
    items: z.array(
      z
        .object({
          revision: z.number().int().min(0),
          type: z.string(),
          at: instant,
          actor: z.object({ id: z.string(), roles: z.array(z.string()) }).strict(),
          reason: z.string().nullable(),
          details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).meta({ description: 'Plain fields of the event (modes, roles, ids, instants); never an encrypted value, a hash or an address.' }),
        })
        .strict(),
    ),
    nextCursor: z.string().nullable(),
  })
  .strict();
const remindersPage = z
  .object({
    items: z.array(z.object({ sentAt: instant, cadence: z.string(), orgIds: z.array(z.string()), messageId: z.string() }).strict()),
    nextCursor: z.string().nullable(),
  })
  .strict();
const decision = z
  .object({
    requirement: z.enum(['none', 'soft', 'hard']),
    action: z.enum(['allow', 'prompt', 'redirect']),
    redirectTo: z.string().optional().meta({ description: 'Only with `redirect`: where to send the user to set up 2FA.' }),
    twoFactorEnabled: z.boolean(),
    enforcedBy: z.array(
      z
        .object({
          orgId: z.string(),
          mode: z.enum(['off', 'soft', 'hard']),
          xeroConnected: z.boolean(),
          exemptUntil: instant.optional().meta({ description: 'Only where the user is exempt from this organisation: until when.' }),
        })
        .strict(),
    ),
    exemptUntil: instant.nullable().meta({ description: 'When an exemption relaxed this answer: the earliest instant one of those exemptions ends; else null.' }),
    deadline: instant.nullable().meta({ description: 'When the requirement becomes stricter: a soft organisation\'s scheduled escalation (`hardFrom`), or the end of a newcomer\'s grace in a hard organisation; null when nothing is due.' }),
  })
  .strict();
const hostDocument = z
  .object({
    userId: z.string(),
    position: position.meta({ description: 'The position of the change this document reflects ("0" when it has none the feed knows of).' }),
    found: z.boolean().meta({ description: 'False where the decision answers 404 `user_not_found` (unknown or forgotten).' }),
    decision: decision.nullable().meta({ description: 'The answer without `orgId`; null when not found.' }),
    orgs: z.array(z.object({ orgId: z.string(), decision }).strict()).meta({ description: 'The answer with `orgId`, for each organisation of the user; any other `orgId` answers 404 `membership_not_found`.' }),
    validUntil: instant.nullable().meta({ description: 'Until when time alone changes none of these answers (a schedule falling due, a grace or an exemption ending); null: never.' }),
  })
  .strict();

const previewCounts = z
  .object({
    members: z.number().int().min(0),
    prompted: z.number().int().min(0),
    redirected: z.number().int().min(0),
    exempt: z.number().int().min(0).meta({ description: 'Would be prompted or redirected but for an exemption in force.' }),
    compliant: z.number().int().min(0).meta({ description: '2FA enabled.' }),
  })
  .strict();
const enforcementPreview = z
  .object({
    orgId: z.string(),
    mode: z.enum(['off', 'soft', 'hard']),
    hardFrom: instant.nullable(),
    at: instant,
    counts: previewCounts,
    atHardFrom: previewCounts.nullable().meta({ description: 'With `hardFrom`: the counts under `hard` at that instant.' }),
    items: z.array(z.object({ userId: z.string(), outcome: z.enum(['prompt', 'redirect', 'exempt']), exemptUntil: instant.nullable() }).strict()),
    nextCursor: z.string().nullable(),
  })
  .strict();

const actor = z.object({ id: z.string(), roles: z.array(z.string()) }).strict();
const auditEvent = z
  .object({
    stream: z.string(),
    revision: z.number().int().min(0),
    position,
    type: z.string(),
    data: anyJson.meta({ description: 'The event data; secrets and, once forgotten, personal data redacted.' }),
    metadata: z
      .object({
        eventId: z.string(),
        occurredAt: instant,
        actor,
        correlationId: z.string(),
        causationId: z.string(),
        schemaVersion: z.number().int(),
        prevHash: z.string(),
        hash: z.string(),
      })
      .strict(),
  })
  .strict();
const streamHistory = z.object({ stream: z.string(), events: z.array(auditEvent), nextRevision: z.number().int().nullable() }).strict();
const eventsPage = z.object({ events: z.array(auditEvent), nextCursor: z.string().nullable() }).strict();
const stateAsOf = z
  .object({
    stream: z.string(),
    at: instant,
    revision: z.number().int(),
    position,
    lastEventAt: instant,
    eventsApplied: z.number().int(),
    state: anyJson.meta({ description: 'The decider\'s state after the last event at or before `at`, redacted.' }),
  })
  .strict();
const brokenEvent = z
  .object({
    stream: z.string(),
    revision: z.number().int(),
    position,
    reason: z.enum(['revision_gap', 'prev_hash_mismatch', 'hash_mismatch']),
    expectedRevision: z.number().int(),
    expectedHash: z.string(),
    foundHash: z.string(),
  })
  .strict();
const integrity = z
  .object({
    stream: z.string(),
    ok: z.boolean(),
    eventsChecked: z.number().int(),
    streamsChecked: z.number().int(),
    brokenStreams: z.number().int(),
    firstBroken: brokenEvent.nullable(),
  })
  .strict();
const complianceReport = z
  .object({
    orgId: z.string(),
    from: instant,
    to: instant,
    countedUntil: instant,
    members: z.array(
      z
        .object({
          userId: z.string(),
          memberSeconds: z.number(),
          withoutTwoFactorSeconds: z.number(),
          exemptSeconds: z.number().meta({ description: 'Time without 2FA under enforcement while exempt; not in `withoutTwoFactorSeconds`.' }),
          twoFactorEnabledAtEnd: z.boolean(),
          reminders: z.array(z.object({ sentAt: instant, cadence: z.string(), messageId: z.string() }).strict()),
        })
        .strict(),
    ),
    modeChanges: z.array(z.object({ at: instant, from: z.string(), to: z.string(), reason: z.string().nullable(), actor }).strict()),
    exemptions: z.array(
      z
        .object({ at: instant, userId: z.string(), change: z.enum(['exempted', 'ended']), until: instant.nullable(), reason: z.string(), actor })
        .strict()
        .meta({ description: 'Exemptions granted (`reason`: the staff\'s text) or ended (`reason`: expired, revoked or left) in the period.' }),
    ),
    policyChanges: z.array(
      z
        .object({
          at: instant,
          change: z.enum(['escalation_scheduled', 'escalation_cancelled', 'grace_changed']),
          hardFrom: instant.nullable(),
          graceDays: z.number().int().nullable(),
          reason: z.string().nullable(),
          actor,
        })
        .strict()
        .meta({ description: 'A scheduled escalation set, moved (cancelled, then scheduled) or cancelled, or the newcomers\' grace changed.' }),
    ),
  })
  .strict();
const rebuildProgress = z
  .object({
    state: z.enum(['idle', 'running', 'swapping', 'done', 'failed']),
    projections: z.array(z.string()),
    processed: z.number().int(),
    position: position.nullable(),
    headPosition: position.nullable(),
    startedAt: instant.nullable(),
    finishedAt: instant.nullable(),
    error: z.string().nullable(),
  })
  .strict();
const readiness = z.object({ status: z.literal('ok'), checks: z.object({ eventStore: z.boolean(), readStore: z.boolean(), projections: z.boolean() }).strict() }).strict();

/**
 * Drift at compile time: each answer's schema has exactly the fields of the type the code returns,
 * at every depth, and promises nothing that type does not allow. A field added to a view fails the
 * type-check here until it is documented. (Views type some enums as plain strings, so the schema
 * may be narrower than the type; the HTTP specs check the values.)
 */
type Plain<T> = T extends readonly (infer U)[] ? Plain<U>[] : T extends object ? { -readonly [K in keyof T as string extends K ? never : K]: Plain<T[K]> } : T;
type Shape<T> = ShapeOf<NonNullable<T>>;
type ShapeOf<T> = [T] extends [readonly (infer U)[]] ? Shape<U>[] : [T] extends [object] ? { [K in keyof T as string extends K ? never : K]-?: Shape<T[K]> } : 'value';
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Documents<Schema extends z.ZodType, View> = Same<Shape<z.infer<Schema>>, Shape<View>> extends true ? ([Plain<z.infer<Schema>>] extends [Plain<View>] ? true : false) : false;
export const ANSWERS_MATCH_VIEWS: readonly true[] = [
  true satisfies Documents<typeof commandAnswer, CommandAnswer>,
  true satisfies Documents<typeof created, CommandAnswer & { id: string }>,
  true satisfies Documents<typeof membersSynced, MembersSyncAnswer>,
  true satisfies Documents<typeof setupAnswer, CommandAnswer & SetupAnswer>,
  true satisfies Documents<typeof backupCodesAnswer, CommandAnswer & BackupCodesAnswer>,
  true satisfies Documents<typeof verifiedAnswer, VerifyAnswer>,
  true satisfies Documents<typeof trustedDevices, TrustedDevicesView>,
  true satisfies Documents<typeof resetRequested, CommandAnswer & PendingReset>,
  true satisfies Documents<typeof resetRequestsPage, ResetRequestsPage>,
  true satisfies Documents<typeof organisationView, OrganisationView>,
  true satisfies Documents<typeof membersPage, MembersPage>,
  true satisfies Documents<typeof userView, UserView>,
  true satisfies Documents<typeof userLookup, UserLookup>,
  true satisfies Documents<typeof timelinePage, TimelinePage>,
  true satisfies Documents<typeof remindersPage, { items: ReminderView[]; nextCursor: string | null }>,
  true satisfies Documents<typeof decision, EnforcementDecision>,
  true satisfies Documents<typeof hostDocument, HostDecisionDocument>,
  true satisfies Documents<typeof enforcementPreview, EnforcementPreview>,
  true satisfies Documents<typeof streamHistory, StreamHistoryView>,
  true satisfies Documents<typeof eventsPage, EventsView>,
  true satisfies Documents<typeof stateAsOf, StateAsOfView>,
  true satisfies Documents<typeof integrity, IntegrityResult & { stream: string }>,
  true satisfies Documents<typeof complianceReport, ComplianceReport>,
  true satisfies Documents<typeof rebuildProgress, RebuildProgress>,
];

const json = (schema: SchemaSource, description: string) => ({ description, content: { 'application/json': schema } });
const ndjson = { type: 'string', description: 'One JSON object per line.' };
const text = { type: 'string' };
const asset = z.object({ file: z.string() });

/**
 * The pages (DESIGN §8): HTML for people, not the JSON API. "anyone" because no bearer token is
 * asked: a page needs the session cookie that a hand-off set (sealed, HttpOnly, 30 minutes idle),
 * and its user is the only principal it acts for. Every refusal is an HTML error page.
 */
const SESSION_WORDS = 'Needs the pages\' session cookie, set by a hand-off; without a live session the answer is the 401 error page. The session\'s user acts on itself, as with their own token.';
const FORM_WORDS = 'An HTML form post (application/x-www-form-urlencoded) with the session\'s `csrf` field and a same-origin `Origin` header (else 403).';
const CONSOLE_WORDS = 'Needs the pages\' session cookie from a hand-off (purpose `console`), whose `roles` are the principal\'s roles: each read and change is authorised by the same query or command as the JSON route named, and a refusal is the 403 "not allowed" page.';
const htmlPage = (description: string) => ({ description, content: { 'text/html': text } });
const htmlErrors = (...statuses: number[]) => Object.fromEntries(statuses.map((status) => [status, htmlPage('The HTML error page, with a way back to the host when its origin is allowed.')]));
const redirect = (description: string) => ({ description });
const handoffQuery = z.object({ token: z.string().meta({ description: 'The hand-off JWT (DESIGN §8).' }) });

export const API_ROUTES: readonly ApiRoute[] = [
  // Organisations
  {
    method: 'POST', path: '/v1/organisations', tag: 'organisations', summary: 'Register an organisation', roles: ['platform'],
    body: organisations.registerBody,
    responses: { 201: json(created, 'Registered; `id` is the given or a generated id.') },
    problems: { 409: ['organisation_already_registered'] },
  },
  {
    method: 'GET', path: '/v1/organisations/:orgId', tag: 'organisations', summary: 'Compliance view of an organisation', roles: ['platform', 'support', 'org-admin'],
    params: organisations.orgPath, query: organisations.viewQuery,
    responses: { 200: json(organisationView, 'The organisation and its members\' 2FA counts.') },
    problems: { 404: ['organisation_not_found'] },
  },
  {
    method: 'PUT', path: '/v1/organisations/:orgId/xero-connection', tag: 'organisations', summary: 'Connect to a Xero tenant', roles: ['platform'],
    description: 'Connecting an organisation whose mode is `off` switches it to `soft`.',
    params: organisations.orgPath, body: organisations.xeroBody,
    responses: { 200: json(commandAnswer, 'Connected (or already connected to this tenant).') },
    problems: { 404: ['organisation_not_found'], 409: ['xero_connected_to_other_tenant'] },
  },
  {
    method: 'DELETE', path: '/v1/organisations/:orgId/xero-connection', tag: 'organisations', summary: 'Disconnect from Xero', roles: ['platform'],
    params: organisations.orgPath,
    responses: { 200: json(commandAnswer, 'Disconnected; the enforcement mode stays.') },
    problems: { 404: ['organisation_not_found'] },
  },
  {
    method: 'PUT', path: '/v1/organisations/:orgId/enforcement', tag: 'organisations', summary: 'Choose the enforcement mode', roles: ['platform', 'org-admin'],
    params: organisations.orgPath, body: organisations.enforcementBody,
    responses: { 200: json(commandAnswer, 'The mode is set.') },
    problems: { 404: ['organisation_not_found'], 409: ['xero_requires_enforcement'] },
  },
  {
    method: 'GET', path: '/v1/organisations/:orgId/members', tag: 'organisations', summary: 'Members and their 2FA status', roles: ['platform', 'support', 'org-admin'],
    params: organisations.orgPath, query: organisations.membersQuery,
    responses: { 200: json(membersPage, 'A page of members.') },
    problems: { 400: ['invalid_cursor'], 404: ['organisation_not_found'] },
  },
  {
    method: 'GET', path: '/v1/organisations/:orgId/history', tag: 'organisations', summary: 'The organisation\'s change history, newest first', roles: ['platform', 'support', 'org-admin'],
    description: 'Every event of the organisation (mode changes with their reason, members, Xero, schedules) with its time and actor; keyset-paged by revision.',
    params: organisations.orgPath, query: organisations.historyQuery,
    responses: { 200: json(timelinePage, 'A page of changes.') },
    problems: { 400: ['invalid_cursor'], 404: ['organisation_not_found'] },
  },
  {
    method: 'PUT', path: '/v1/organisations/:orgId/members/:userId', tag: 'organisations', summary: 'Add a member or change their role', roles: ['platform', 'org-admin'],
    description: 'Only the platform adds a user to an organisation; an admin of it may change an existing member\'s role.',
    params: organisations.memberPath, body: organisations.memberBody,
    responses: { 200: json(commandAnswer, 'The user is a member with this role.') },
    problems: { 404: ['organisation_not_found', 'user_not_found'], 409: ['last_admin'], 410: ['user_forgotten'] },
  },
  {
    method: 'PUT', path: '/v1/organisations/:orgId/members', tag: 'organisations', summary: 'Sync the full member list', roles: ['platform'],
    description: 'The desired list of members and roles; one decision appends only the differences (nothing when the list already matches). With `removeOthers`, members not listed leave.',
    params: organisations.orgPath, body: organisations.membersBody,
    responses: { 200: json(membersSynced, 'The organisation now has these members.') },
    problems: { 404: ['organisation_not_found'], 409: ['last_admin'], 422: ['unknown_users'] },
  },
  {
    method: 'DELETE', path: '/v1/organisations/:orgId/members/:userId', tag: 'organisations', summary: 'Remove a member', roles: ['platform', 'org-admin'],
    params: organisations.memberPath,
    responses: { 200: json(commandAnswer, 'The user is no longer a member.') },
    problems: { 404: ['organisation_not_found', 'membership_not_found'], 409: ['last_admin'] },
  },
  {
    method: 'PUT', path: '/v1/organisations/:orgId/members/:userId/exemption', tag: 'organisations', summary: 'Exempt a member until an instant', roles: ['support', 'org-admin'],
    description: 'The member is not held to this organisation\'s enforcement until `until` (after now, at most 90 days ahead; never open-ended). Other organisations still apply. Exempting again replaces the exemption. The scheduler ends it at `until` (`MemberExemptionEnded`, reason `expired`).',
    params: exemptions.exemptionPath, body: exemptions.exemptBody,
    responses: { 200: json(commandAnswer, 'The member is exempt until `until`.') },
    problems: { 400: ['invalid_reason', 'invalid_until', 'until_not_in_future', 'until_too_far'], 403: ['self_exemption'], 404: ['organisation_not_found', 'membership_not_found'] },
  },
  {
    method: 'DELETE', path: '/v1/organisations/:orgId/members/:userId/exemption', tag: 'organisations', summary: 'End a member\'s exemption early', roles: ['support', 'org-admin'],
    description: 'Optional body `{reason}`. Nothing happens when the member is not exempt.',
    params: exemptions.exemptionPath, body: exemptions.endExemptionBody,
    responses: { 200: json(commandAnswer, 'The member is no longer exempt.') },
    problems: { 400: ['invalid_reason'], 404: ['organisation_not_found', 'membership_not_found'] },
  },
  {
    method: 'GET', path: '/v1/organisations/:orgId/enforcement/preview', tag: 'enforcement', summary: 'Dry run of a mode (and schedule)', roles: ['platform', 'support', 'org-admin'],
    description: 'How many members would be prompted, redirected, spared by an exemption or are already compliant under `mode`, now and (with `hardFrom`) at that instant under `hard`, and a page of the affected members by user id. Uses the enforcement decision itself; writes nothing.',
    params: preview.previewPath, query: preview.previewQuery,
    responses: { 200: json(enforcementPreview, 'The effect of the proposed policy.') },
    problems: { 400: ['invalid_cursor', 'hard_from_requires_soft', 'hard_from_not_in_future'], 404: ['organisation_not_found'], 409: ['xero_requires_enforcement'] },
  },
  // Users and their factor
  {
    method: 'POST', path: '/v1/users', tag: 'users', summary: 'Register a user', roles: ['platform'],
    body: users.registerBody,
    responses: { 201: json(created, 'Registered; `id` is the given or a generated id.') },
    problems: { 409: ['user_already_registered', 'email_in_use'], 410: ['user_forgotten'] },
  },
  {
    method: 'GET', path: '/v1/users', tag: 'users', summary: 'Find a user by e-mail', roles: ['platform', 'support'],
    description: 'Through the address\'s keyed blind index (HMAC under a key derived from the master key), never a scan of decrypted addresses. A forgotten user, or an address nobody holds, answers an empty list.',
    query: users.lookupQuery,
    responses: { 200: json(userLookup, 'The user holding the address, if any.') },
  },
  {
    method: 'GET', path: '/v1/users/:userId/timeline', tag: 'users', summary: 'What happened to a user\'s account, newest first', roles: ['platform', 'support', 'self'],
    description: 'Registration, factor changes, lockouts, resets (with their reason) and reminders, with time and actor; no secret, hash or address. Keyset-paged by revision.',
    params: users.userPath, query: users.timelineQuery,
    responses: { 200: json(timelinePage, 'A page of entries.') },
    problems: { 400: ['invalid_cursor'], 404: ['user_not_found'] },
  },
  {
    method: 'GET', path: '/v1/users/:userId', tag: 'users', summary: 'A user\'s status, lockout and reminders', roles: ['platform', 'support', 'self'],
    params: users.userPath, query: users.viewQuery,
    responses: { 200: json(userView, 'The user.') },
    problems: { 404: ['user_not_found'] },
  },
  {
    method: 'POST', path: '/v1/users/:userId/two-factor/setup', tag: 'two-factor', summary: 'Start TOTP setup', roles: ['platform', 'self'],
    params: users.userPath,
    responses: { 201: json(setupAnswer, 'The secret as an otpauth URI and a QR code (SVG); confirm before `expiresAt`.') },
    problems: { 404: ['user_not_found'], 409: ['two_factor_already_enabled'], 410: ['user_forgotten'], 429: ['rate_limited'] },
  },
  {
    method: 'POST', path: '/v1/users/:userId/two-factor/confirm', tag: 'two-factor', summary: 'Confirm setup with a first code', roles: ['platform', 'self'],
    params: users.userPath, body: users.codeBody,
    responses: { 200: json(backupCodesAnswer, '2FA is enabled; ten one-time backup codes, shown once.') },
    problems: { 404: ['user_not_found'], 409: ['two_factor_already_enabled', 'two_factor_not_pending', 'backup_codes_already_issued'], 410: ['user_forgotten', 'setup_expired'], 422: ['invalid_code', 'code_already_used'], 429: ['rate_limited'] },
  },
  {
    method: 'POST', path: '/v1/users/:userId/two-factor/verify', tag: 'two-factor', summary: 'Check a code, a backup code or a trusted device at sign-in', roles: ['platform', 'self'],
    description: 'Exactly one of `code`, `backupCode` or `deviceToken`. A replayed code is refused; five failures in a row (wrong codes and wrong, revoked or expired device tokens alike) lock verification for 30 minutes (429 with Retry-After, `lockedUntil` and `retryAfterSeconds`). With `rememberDevice: true` (and an optional `deviceLabel`, 1–64 printable characters) a successful code check answers a `deviceToken` that later checks send instead of a code until `deviceExpiresAt`.',
    params: users.userPath, body: users.verifyBody,
    responses: { 200: json(verifiedAnswer, 'The code (or the device) was right.') },
    problems: { 404: ['user_not_found'], 409: ['two_factor_not_enabled', 'device_token_already_issued'], 410: ['user_forgotten'], 422: ['invalid_code', 'code_already_used', 'invalid_device_token', 'device_expired'], 429: ['verification_locked', 'rate_limited'] },
  },
  {
    method: 'GET', path: '/v1/users/:userId/two-factor/devices', tag: 'two-factor', summary: 'Trusted devices (remembered browsers), newest first', roles: ['support', 'self'],
    description: 'Devices that can still skip the code: label, when remembered, last used and expiry. Never the token nor its hash.',
    params: users.userPath, query: users.viewQuery,
    responses: { 200: json(trustedDevices, 'The trusted devices.') },
    problems: { 404: ['user_not_found'], 410: ['user_forgotten'] },
  },
  {
    method: 'DELETE', path: '/v1/users/:userId/two-factor/devices/:deviceId', tag: 'two-factor', summary: 'Stop trusting one device', roles: ['support', 'self'],
    params: users.devicePath,
    responses: { 200: json(commandAnswer, 'Revoked: its token no longer skips the code.') },
    problems: { 404: ['user_not_found', 'device_not_found'], 410: ['user_forgotten'] },
  },
  {
    method: 'POST', path: '/v1/users/:userId/two-factor/backup-codes', tag: 'two-factor', summary: 'Regenerate backup codes', roles: ['self'],
    params: users.userPath, body: users.codeBody,
    responses: { 200: json(backupCodesAnswer, 'A new set of ten backup codes, shown once; the old ones no longer work.') },
    problems: { 404: ['user_not_found'], 409: ['two_factor_not_enabled', 'backup_codes_already_issued'], 410: ['user_forgotten'], 422: ['invalid_code', 'code_already_used'], 429: ['verification_locked', 'rate_limited'] },
  },
  {
    method: 'DELETE', path: '/v1/users/:userId/two-factor', tag: 'two-factor', summary: 'Disable 2FA', roles: ['self'],
    params: users.userPath, body: users.codeBody,
    responses: { 200: json(commandAnswer, '2FA is disabled.') },
    problems: { 404: ['user_not_found'], 409: ['two_factor_not_enabled', 'enforced_by_organisation'], 410: ['user_forgotten'], 422: ['invalid_code', 'code_already_used'], 429: ['verification_locked', 'rate_limited'], 503: ['read_models_behind'] },
  },
  {
    method: 'POST', path: '/v1/users/:userId/two-factor/reset', tag: 'two-factor', summary: 'Reset a lost factor', roles: ['support'],
    description: 'Revokes every trusted device with the factor. With RESET_REQUIRES_APPROVAL=true nothing is reset yet: the answer is 202 with a request that a different support agent approves within 24 hours.',
    params: users.userPath, body: users.resetBody,
    responses: {
      200: json(commandAnswer, 'The factor is removed; the user sets up again.'),
      202: json(resetRequested, 'RESET_REQUIRES_APPROVAL: the reset waits for a second support agent\'s approval until `expiresAt`.'),
    },
    problems: { 404: ['user_not_found'], 409: ['two_factor_not_enabled', 'reset_request_pending'], 410: ['user_forgotten'] },
  },
  {
    method: 'POST', path: '/v1/users/:userId/two-factor/reset-requests/:requestId/approval', tag: 'two-factor', summary: 'Approve a pending two-person reset', roles: ['support'],
    description: 'Resets the factor as the request asked (the same TwoFactorReset as a direct reset, naming requester and approver). The requester may not approve their own request.',
    params: users.resetRequestPath,
    responses: { 200: json(commandAnswer, 'The factor is removed; the user sets up again.') },
    problems: { 403: ['self_approval'], 404: ['user_not_found', 'reset_request_not_found'], 409: ['reset_request_already_used', 'reset_request_closed', 'two_factor_not_enabled'], 410: ['user_forgotten', 'reset_request_expired'] },
  },
  {
    method: 'GET', path: '/v1/two-factor/reset-requests', tag: 'two-factor', summary: 'Two-person resets waiting for approval', roles: ['support'],
    description: 'Pending (not approved, not closed, not expired) requests, soonest to expire first; keyset paged with `cursor`.',
    query: resetRequests.listQuery,
    responses: { 200: json(resetRequestsPage, 'A page of pending requests.') },
    problems: { 400: ['invalid_cursor'] },
  },
  {
    method: 'POST', path: '/v1/users/:userId/forget', tag: 'users', summary: 'Forget a user (crypto-shred)', roles: ['operator'],
    params: users.userPath,
    responses: { 200: json(commandAnswer, 'The user\'s data key is deleted: secrets and email are unreadable everywhere.') },
    problems: { 404: ['user_not_found'], 410: ['user_forgotten'] },
  },
  {
    method: 'GET', path: '/v1/users/:userId/reminders', tag: 'users', summary: 'Reminders sent to a user, newest first', roles: ['support', 'self'],
    params: reminders.userPath, query: reminders.listQuery,
    responses: { 200: json(remindersPage, 'A page of reminders.') },
    problems: { 400: ['invalid_cursor'], 404: ['user_not_found'] },
  },
  // Enforcement
  {
    method: 'GET', path: '/v1/enforcement/:userId', tag: 'enforcement', summary: 'The enforcement decision (hot path)', roles: ['platform', 'self'],
    description: 'Without `orgId` the strictest of the user\'s organisations applies; with it, that organisation\'s mode.',
    params: enforcement.userPath, query: enforcement.decisionQuery,
    responses: { 200: json(decision, 'What the host should do for this user now.') },
    problems: { 404: ['user_not_found', 'membership_not_found'] },
  },
  {
    method: 'GET', path: '/v1/enforcement/changes', tag: 'enforcement', summary: 'Change feed of decision documents (Server-Sent Events)', roles: ['platform'],
    description:
      'A `text/event-stream` that never ends by itself. `event: decision` carries a decision document (as `GET /v1/enforcement/documents/:userId` answers it) each time a user\'s decision changes, in position order; '
      + 'an `id:` line means every change up to that position has been sent (documents changed by one event share its position, and only the last of them carries the id). '
      + '`event: position` follows each round of changes (and moves the position on when changes touched no decision); the first one marks the end of the back-fill: from then on the stream is live. Comments (`: keep-alive`) keep proxies from closing a quiet stream. '
      + 'Resume with `Last-Event-ID` (it wins over `after`: an EventSource reconnects to the URL it first opened); without either, the feed starts from now. '
      + 'A client that does not read what it is sent is disconnected and resumes. Refusals (401, 403, 400, 503 `feed_full`) come before the stream starts.',
    query: changes.changesQuery, headers: changes.resumeHeader,
    responses: { 200: { description: 'The stream.', content: { 'text/event-stream': text } } },
    problems: { 400: ['unknown_position'], 503: ['feed_full'] },
  },
  {
    method: 'GET', path: '/v1/enforcement/documents/:userId', tag: 'enforcement', summary: 'One user\'s decision document (what the change feed sends)', roles: ['platform'],
    description: 'Every answer of `GET /v1/enforcement/:userId` for this user (without and with each of their organisations) and until when they hold: how a host cache loads a user before following the feed. Pass the feed\'s position as `minPosition` so the document is not older than the feed.',
    params: changes.documentPath, query: changes.documentQuery,
    responses: { 200: json(hostDocument, 'The user\'s decision document; `found: false` for a user the decision answers 404.') },
    problems: { 400: ['unknown_position'] },
  },
  // Audit
  {
    method: 'GET', path: '/v1/audit/streams/:stream', tag: 'audit', summary: 'One stream\'s history with metadata', roles: ['auditor'],
    params: audit.streamPath, query: audit.streamQuery,
    responses: { 200: json(streamHistory, 'A page of events; `nextRevision` continues in the same direction.') },
    problems: { 404: ['stream_not_found'] },
  },
  {
    method: 'GET', path: '/v1/audit/events', tag: 'audit', summary: 'Events across streams', roles: ['auditor'],
    query: audit.eventsQuery,
    responses: { 200: json(eventsPage, 'A page of events in store order.') },
    problems: { 400: ['invalid_cursor'] },
  },
  {
    method: 'GET', path: '/v1/audit/organisations/:orgId/state', tag: 'audit', summary: 'An organisation\'s state as of an instant', roles: ['auditor'],
    params: audit.orgPath, query: audit.atQuery,
    responses: { 200: json(stateAsOf, 'The state by replay.') },
    problems: { 404: ['no_state_at_instant'] },
  },
  {
    method: 'GET', path: '/v1/audit/users/:userId/state', tag: 'audit', summary: 'A user\'s state as of an instant', roles: ['auditor'],
    params: audit.userPath, query: audit.atQuery,
    responses: { 200: json(stateAsOf, 'The state by replay.') },
    problems: { 404: ['no_state_at_instant'] },
  },
  {
    method: 'GET', path: '/v1/audit/organisations/:orgId/compliance', tag: 'audit', summary: 'Compliance evidence for a period', roles: ['auditor'],
    params: audit.orgPath, query: audit.complianceQuery,
    responses: { 200: { description: 'The report, as JSON or CSV (`format`).', content: { 'application/json': complianceReport, 'text/csv': text } } },
    problems: { 404: ['organisation_not_found'] },
  },
  {
    method: 'GET', path: '/v1/audit/integrity', tag: 'audit', summary: 'Hash-chain check', roles: ['auditor'],
    description: 'With `stream`: one JSON answer. Without: the whole store as NDJSON (progress lines, each break found, then a summary).',
    query: audit.integrityQuery,
    responses: { 200: { description: 'The first broken event, if any.', content: { 'application/json': integrity, 'application/x-ndjson': ndjson } } },
    problems: { 404: ['stream_not_found'] },
  },
  {
    method: 'GET', path: '/v1/audit/export', tag: 'audit', summary: 'Streamed export of the history', roles: ['auditor'],
    query: audit.exportQuery,
    responses: { 200: { description: 'JSON lines or CSV (`format`), as an attachment.', content: { 'application/x-ndjson': ndjson, 'text/csv': text } } },
  },
  // Operations
  {
    method: 'POST', path: '/v1/admin/projections/rebuild', tag: 'admin', summary: 'Rebuild read models from history, then swap', roles: ['operator'],
    responses: { 202: json(rebuildProgress, 'Started in the background; follow it with GET.') },
    problems: { 409: ['rebuild_in_progress', 'projector_not_here'] },
  },
  {
    method: 'GET', path: '/v1/admin/projections/rebuild', tag: 'admin', summary: 'Progress of the rebuild', roles: ['operator'],
    responses: { 200: json(rebuildProgress, 'The current or last rebuild.') },
    problems: { 409: ['projector_not_here'] },
  },
  {
    method: 'GET', path: '/health/live', tag: 'health', summary: 'Liveness probe', roles: ['anyone'],
    responses: { 200: json(z.object({ status: z.literal('ok') }).strict(), 'The process is up.') },
  },
  {
    method: 'GET', path: '/health/ready', tag: 'health', summary: 'Readiness probe', roles: ['anyone'],
    responses: { 200: json(readiness, 'Both stores answer and read models are maintained.') },
    problems: { 503: ['not_ready'] },
  },
  {
    method: 'GET', path: '/metrics', tag: 'health', summary: 'Prometheus metrics (also open on METRICS_PORT, bound to loopback)', roles: ['operator'],
    responses: { 200: { description: 'Prometheus text format 0.0.4.', content: { 'text/plain': text } } },
  },
  // The pages
  {
    method: 'GET', path: '/two-factor/handoff', tag: 'pages', summary: 'Hand-off from a host to a page', roles: ['anyone'],
    description: 'Checks the hand-off JWT (same key as API tokens, `aud` `two-factor-pages`, at most 10 minutes, single-use `jti`, `purpose`, `returnTo` on an allowed origin), starts a new session (cookie) and answers 303 to the page for the purpose.',
    query: handoffQuery,
    responses: { 303: redirect('To `/two-factor/{purpose}` (`/two-factor/required` for a setup hand-off of a hard-enforced user), with the session cookie.'), ...htmlErrors(400, 401, 403) },
  },
  {
    method: 'POST', path: '/two-factor/handoff', tag: 'pages', summary: 'Hand-off as a form post', roles: ['anyone'],
    description: 'The same as the GET, with `token` as a form field (the token stays out of URLs and logs).',
    responses: { 303: redirect('To the page for the purpose, with the session cookie.'), ...htmlErrors(400, 401, 403) },
  },
  {
    method: 'GET', path: '/two-factor/setup', tag: 'pages', summary: 'Set up 2FA: QR code, manual key, first code', roles: ['anyone'], description: SESSION_WORDS,
    responses: { 200: htmlPage('The setup page (or "already on").'), ...htmlErrors(401, 404, 410, 429) },
  },
  {
    method: 'POST', path: '/two-factor/setup', tag: 'pages', summary: 'Confirm setup; shows the backup codes once', roles: ['anyone'], description: `${SESSION_WORDS} ${FORM_WORDS}`,
    responses: { 200: htmlPage('The ten backup codes (never cached), or "already on" when posted again.'), ...htmlErrors(401, 403, 404, 410, 422, 429) },
  },
  {
    method: 'GET', path: '/two-factor/required', tag: 'pages', summary: 'Hard enforcement: who requires 2FA and why', roles: ['anyone'], description: SESSION_WORDS,
    responses: { 200: htmlPage('The organisations that require 2FA (Xero named when it is the reason), set up now, sign out.'), ...htmlErrors(401, 404, 410, 503) },
  },
  {
    method: 'GET', path: '/two-factor/verify', tag: 'pages', summary: 'Sign-in challenge', roles: ['anyone'], description: SESSION_WORDS,
    responses: { 200: htmlPage('The code form (with the lockout and the time left when locked), or "2FA is not on".'), ...htmlErrors(401, 404, 410, 503) },
  },
  {
    method: 'POST', path: '/two-factor/verify', tag: 'pages', summary: 'Check a code, a backup code or this browser\'s trusted device; back to the host with `tfa`', roles: ['anyone'],
    description: `${SESSION_WORDS} ${FORM_WORDS} Field \`code\`: six digits (authenticator) or eight (backup code); \`remember=yes\` also trusts this browser for TRUSTED_DEVICE_DAYS (cookie \`tfa_device\`, \`__Secure-tfa_device\` over HTTPS: HttpOnly, SameSite=Lax, Path=/two-factor, sealed with the user id). Or \`method=device\`: continue with that cookie, for the session's user only. On success 303 to \`returnTo\` with \`tfa\`, a JWT: \`iss\` APP_BASE_URL, \`aud\` returnTo's origin, \`sub\`, \`amr\` ["otp"] (["otp","backup_code"] for a backup code, ["device"] for a trusted device), \`auth_time\`, \`iat\`, \`exp\` (2 minutes), \`jti\`; HS256 with the API tokens' shared secret, else ES256 (/.well-known/jwks.json).`,
    responses: { 303: redirect('Verified: to `returnTo` with `tfa`.'), ...htmlErrors(401, 403, 404, 409, 410, 422, 429) },
  },
  {
    method: 'GET', path: '/two-factor/manage', tag: 'pages', summary: 'Status, backup codes left, regenerate, disable', roles: ['anyone'], description: SESSION_WORDS,
    responses: { 200: htmlPage('The management page.'), ...htmlErrors(401, 404, 410, 503) },
  },
  {
    method: 'POST', path: '/two-factor/manage/backup-codes', tag: 'pages', summary: 'Regenerate backup codes (with a code)', roles: ['anyone'], description: `${SESSION_WORDS} ${FORM_WORDS}`,
    responses: { 200: htmlPage('The new codes, shown once.'), ...htmlErrors(401, 403, 404, 409, 410, 422, 429, 503) },
  },
  {
    method: 'POST', path: '/two-factor/manage/disable', tag: 'pages', summary: 'Disable 2FA (with a code); refused while enforced', roles: ['anyone'], description: `${SESSION_WORDS} ${FORM_WORDS}`,
    responses: { 200: htmlPage('2FA is off.'), ...htmlErrors(401, 403, 404, 409, 410, 422, 429, 503) },
  },
  {
    method: 'POST', path: '/two-factor/manage/devices/revoke', tag: 'pages', summary: 'Forget one remembered device', roles: ['anyone'], description: `${SESSION_WORDS} ${FORM_WORDS} Field \`deviceId\`.`,
    responses: { 200: htmlPage('The manage page, saying the device is forgotten (or already was).'), ...htmlErrors(401, 403, 404, 410, 422, 503) },
  },
  {
    method: 'GET', path: '/two-factor/console', tag: 'pages', summary: 'Old address of the console', roles: ['anyone'], description: SESSION_WORDS,
    responses: { 303: redirect('To `/console`.'), ...htmlErrors(401) },
  },
  // The console (DESIGN §8, purpose `console`): the same queries and commands as the JSON routes, with the session's principal.
  {
    method: 'GET', path: '/console', tag: 'pages', summary: 'Console: the consoles this session may use', roles: ['anyone'], description: CONSOLE_WORDS,
    responses: { 200: htmlPage('Links to the organisations the user administers, support and audit, as the roles allow.'), ...htmlErrors(401, 403) },
  },
  {
    method: 'GET', path: '/console/organisations/:orgId', tag: 'pages', summary: 'Console: an organisation (mode, preview, members, history)', roles: ['anyone'],
    description: `${CONSOLE_WORDS} As \`GET /v1/organisations/:orgId\`: its admins, support and the platform. \`mode\` previews the effect of a mode (the dry run); \`filter\` (all, none, locked) and \`cursor\` page the members.`,
    params: consoleOrgPath, query: consoleOrgQuery,
    responses: { 200: htmlPage('The organisation page.'), ...htmlErrors(400, 401, 403, 404, 409, 503) },
  },
  {
    method: 'POST', path: '/console/organisations/:orgId/enforcement', tag: 'pages', summary: 'Console: change the mode (reason required)', roles: ['anyone'],
    description: `${CONSOLE_WORDS} ${FORM_WORDS} Fields \`mode\` and \`reason\` (required). As \`PUT /v1/organisations/:orgId/enforcement\`: its admins and the platform.`,
    params: consoleOrgPath,
    responses: { 303: redirect('Saved: back to the organisation page (a refused change is the page again, 409 or 422, with the reason inline).'), ...htmlErrors(400, 401, 403, 404, 409, 422) },
  },
  {
    method: 'GET', path: '/console/organisations/:orgId/members.csv', tag: 'pages', summary: 'Console: the members as CSV', roles: ['anyone'],
    description: `${CONSOLE_WORDS} Streams every page of the members query.`,
    params: consoleOrgPath, query: consoleMembersCsvQuery,
    responses: { 200: { description: 'CSV, as an attachment.', content: { 'text/csv': text } }, ...htmlErrors(400, 401, 403, 404) },
  },
  {
    method: 'GET', path: '/console/support', tag: 'pages', summary: 'Console: support (find a user, resets waiting for approval)', roles: ['anyone'], description: `${CONSOLE_WORDS} \`cursor\` pages the resets waiting for a second agent (RESET_REQUIRES_APPROVAL).`,
    query: consoleSupportQuery,
    responses: { 200: htmlPage('The search form and the pending resets.'), ...htmlErrors(400, 401, 403, 503) },
  },
  {
    method: 'POST', path: '/console/support/search', tag: 'pages', summary: 'Console: find a user by id or e-mail', roles: ['anyone'],
    description: `${CONSOLE_WORDS} ${FORM_WORDS} Field \`q\`: a user id, or an e-mail address looked up through its keyed blind index (support and the platform).`,
    responses: { 303: redirect('To the user\'s page.'), 200: htmlPage('No match.'), ...htmlErrors(400, 401, 403) },
  },
  {
    method: 'GET', path: '/console/support/users/:userId', tag: 'pages', summary: 'Console: a user (status, lockout, reminders, timeline)', roles: ['anyone'],
    description: `${CONSOLE_WORDS} As \`GET /v1/users/:userId\` and its timeline: support, the platform and the user.`,
    params: consoleUserPath, query: consoleUserQuery,
    responses: { 200: htmlPage('The user page.'), ...htmlErrors(400, 401, 403, 404, 410, 503) },
  },
  {
    method: 'POST', path: '/console/support/users/:userId/reset', tag: 'pages', summary: 'Console: reset a lost factor (reason, then confirmation)', roles: ['anyone'],
    description: `${CONSOLE_WORDS} ${FORM_WORDS} Field \`reason\` (required); without \`confirm=yes\` the answer is the confirmation page. As \`POST /v1/users/:userId/two-factor/reset\`: support.`,
    params: consoleUserPath,
    responses: { 200: htmlPage('The confirmation page.'), 303: redirect('Reset: back to the user\'s page.'), ...htmlErrors(400, 401, 403, 404, 409, 410, 422) },
  },
  {
    method: 'POST', path: '/console/support/users/:userId/reset-requests/:requestId/approval', tag: 'pages', summary: 'Console: approve a two-person reset', roles: ['anyone'],
    description: `${CONSOLE_WORDS} ${FORM_WORDS} As \`POST /v1/users/:userId/two-factor/reset-requests/:requestId/approval\`: support, never the agent who asked.`,
    params: consoleResetRequestPath,
    responses: { 303: redirect('Approved: to the user\'s page, factor reset.'), ...htmlErrors(400, 401, 403, 404, 409, 410) },
  },
  {
    method: 'GET', path: '/console/audit', tag: 'pages', summary: 'Console: audit (timeline, state as of, integrity, report, export)', roles: ['anyone'],
    description: `${CONSOLE_WORDS} Auditors, as the audit API. \`subject\` and \`id\` open a timeline with its hash-chain status; \`at\` (a local date-time) with \`tz\` (minutes to UTC) replays the state as of that instant.`,
    query: consoleAuditQuery,
    responses: { 200: htmlPage('The audit page.'), ...htmlErrors(400, 401, 403, 404) },
  },
  {
    method: 'POST', path: '/console/audit/integrity', tag: 'pages', summary: 'Console: start an integrity check of the whole store', roles: ['anyone'],
    description: `${CONSOLE_WORDS} ${FORM_WORDS} Auditors.`,
    responses: { 303: redirect('To the check\'s progress page.'), ...htmlErrors(401, 403) },
  },
  {
    method: 'GET', path: '/console/audit/integrity/:jobId', tag: 'pages', summary: 'Console: progress of an integrity check', roles: ['anyone'],
    description: `${CONSOLE_WORDS} Refreshes itself while the check runs (no JavaScript needed); only the session that started it sees it.`,
    params: consoleJobPath,
    responses: { 200: htmlPage('Progress, then the result.'), ...htmlErrors(400, 401, 403, 404) },
  },
  {
    method: 'GET', path: '/console/audit/compliance', tag: 'pages', summary: 'Console: compliance report for a period', roles: ['anyone'],
    description: `${CONSOLE_WORDS} Auditors. \`from\` and \`to\` are days (UTC, inclusive).`,
    query: consoleComplianceQuery,
    responses: { 200: htmlPage('The report, with CSV and JSONL downloads.'), ...htmlErrors(400, 401, 403, 404) },
  },
  {
    method: 'GET', path: '/console/audit/compliance/download', tag: 'pages', summary: 'Console: compliance report as CSV or JSONL', roles: ['anyone'],
    description: `${CONSOLE_WORDS} Auditors.`,
    query: consoleComplianceDownloadQuery,
    responses: { 200: { description: 'The report as an attachment.', content: { 'text/csv': text, 'application/x-ndjson': ndjson } }, ...htmlErrors(400, 401, 403, 404) },
  },
  {
    method: 'GET', path: '/console/audit/export', tag: 'pages', summary: 'Console: export the whole log', roles: ['anyone'],
    description: `${CONSOLE_WORDS} Auditors; streamed as \`GET /v1/audit/export\`.`,
    query: consoleExportQuery,
    responses: { 200: { description: 'JSON lines or CSV, as an attachment.', content: { 'application/x-ndjson': ndjson, 'text/csv': text } }, ...htmlErrors(400, 401, 403) },
  },
  {
    method: 'GET', path: '/console/assets/console.css', tag: 'pages', summary: 'The console\'s stylesheet', roles: ['anyone'],
    responses: { 200: { description: 'CSS.', content: { 'text/css': text } } },
  },
  {
    method: 'GET', path: '/console/assets/console.js', tag: 'pages', summary: 'Local times and the instant picker', roles: ['anyone'],
    responses: { 200: { description: 'The script.', content: { 'text/javascript': text } } },
  },
  {
    method: 'POST', path: '/two-factor/signout', tag: 'pages', summary: 'End the pages\' session', roles: ['anyone'], description: `${SESSION_WORDS} ${FORM_WORDS}`,
    responses: { 303: redirect('Cookie cleared; to the hand-off\'s `signOutUrl`, else the host\'s origin.'), ...htmlErrors(401, 403) },
  },
  {
    method: 'GET', path: '/two-factor/assets/pages.css', tag: 'pages', summary: 'The pages\' stylesheet', roles: ['anyone'],
    responses: { 200: { description: 'CSS.', content: { 'text/css': text } } },
  },
  {
    method: 'GET', path: '/two-factor/assets/brand.css', tag: 'pages', summary: 'The brand colours (BRAND_COLOR)', roles: ['anyone'],
    responses: { 200: { description: 'CSS custom properties.', content: { 'text/css': text } } },
  },
  {
    method: 'GET', path: '/two-factor/assets/pages.js', tag: 'pages', summary: 'Copy, download and print of backup codes', roles: ['anyone'],
    responses: { 200: { description: 'The script.', content: { 'text/javascript': text } } },
  },
  {
    method: 'GET', path: '/two-factor/prompt.js', tag: 'pages', summary: 'The soft prompt\'s custom element, for hosts\' pages', roles: ['anyone'],
    description: 'Served with `Cross-Origin-Resource-Policy: cross-origin` and a day of caching.',
    responses: { 200: { description: 'The script.', content: { 'text/javascript': text } } },
  },
  {
    method: 'GET', path: '/.well-known/jwks.json', tag: 'pages', summary: 'Keys that verify `tfa` assertions', roles: ['anyone'],
    description: 'The ES256 public key when API tokens come from a JWKS; empty (`keys: []`) when assertions are HS256 with the shared secret.',
    responses: { 200: json(z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).strict(), 'A JWK set.') },
  },
  // The documentation itself
  {
    method: 'GET', path: '/docs', tag: 'docs', summary: 'Swagger UI', roles: ['anyone'],
    responses: { 200: { description: 'The page.', content: { 'text/html': text } } },
  },
  {
    method: 'GET', path: '/docs/openapi.json', tag: 'docs', summary: 'This document', roles: ['anyone'],
    responses: { 200: json({ type: 'object', required: ['openapi', 'paths'] }, 'OpenAPI 3.1.') },
  },
  {
    method: 'GET', path: '/docs/assets/init.js', tag: 'docs', summary: 'Swagger UI start script', roles: ['anyone'],
    responses: { 200: { description: 'The script.', content: { 'text/javascript': text } } },
  },
  {
    method: 'GET', path: '/docs/assets/:file', tag: 'docs', summary: 'Swagger UI assets', roles: ['anyone'],
    params: asset,
    responses: { 200: { description: 'A stylesheet or script of swagger-ui-dist.', content: { 'text/css': text, 'text/javascript': text } } },
    problems: { 404: ['route_not_found'] },
  },
];
