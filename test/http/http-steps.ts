import { generateTotpCode } from '../../src/two-factor/totp.js';
import type { Harness, JsonResponse } from '../support/http-harness.js';

/** Shared steps of the HTTP specs: register things through the real routes, compute real codes. */

export const STEP_MS = 30_000;

export function expectProblem(response: JsonResponse, status: number, code?: string): void {
  expect({ status: response.status, body: response.body }).toMatchObject({ status, body: { status, ...(code ? { code } : {}) } });
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(typeof response.body.type).toBe('string');
  expect(typeof response.body.title).toBe('string');
  expect(typeof response.body.detail).toBe('string');
}

export function expectCommandAnswer(response: JsonResponse, status = 200): void {
  expect({ status: response.status, body: response.body }).toMatchObject({ status, body: { revision: expect.any(Number), position: expect.stringMatching(/^\d+(\/\d+)?$/) } });
}

let sequence = 0;
/** Ids unique within one run, so specs sharing a harness never collide. */
export function uniqueId(prefix: string): string {
  sequence += 1;
  return `${prefix}-${sequence}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function registerOrg(h: Harness, platform: string, name = 'Org'): Promise<string> {
  const id = uniqueId('org');
  const response = await h.call('POST', '/v1/organisations', { token: platform, body: { id, name } });
  expectCommandAnswer(response, 201);
  return id;
}

export async function registerUser(h: Harness, platform: string, email?: string): Promise<string> {
  const id = uniqueId('user');
  const response = await h.call('POST', '/v1/users', { token: platform, body: { id, email: email ?? `${id}@example.test` } });
  expectCommandAnswer(response, 201);
  return id;
}

export async function setMember(h: Harness, token: string, orgId: string, userId: string, role: 'admin' | 'member'): Promise<JsonResponse> {
  return h.call('PUT', `/v1/organisations/${orgId}/members/${userId}`, { token, body: { role } });
}

export function secretOf(otpauthUri: string): string {
  const secret = new URL(otpauthUri).searchParams.get('secret');
  if (!secret) throw new Error('otpauth URI without a secret');
  return secret;
}

/** The code an authenticator app shows at the service's (fake) now. */
export function codeAt(h: Harness, secret: string, offsetMs = 0): string {
  return generateTotpCode({ secret, at: new Date(h.clock.now().getTime() + offsetMs) });
}

/** A six-digit code different from the right one at now and its neighbouring steps. */
export function wrongCode(h: Harness, secret: string): string {
  const taken = new Set([-STEP_MS, 0, STEP_MS].map((offset) => codeAt(h, secret, offset)));
  for (let candidate = 0; candidate < 10; candidate++) {
    const code = String(123456 + candidate).padStart(6, '0');
    if (!taken.has(code)) return code;
  }
  throw new Error('no wrong code found');
}

export interface EnabledFactor {
  readonly secret: string;
  readonly backupCodes: string[];
  readonly position: string;
  /** Every TOTP code sent to the service, for the plaintext scans. */
  readonly sentCodes: string[];
}

/** Setup and confirm with a real code; leaves the clock one step later so a fresh code is available. */
export async function enableTwoFactor(h: Harness, token: string, userId: string): Promise<EnabledFactor> {
  const setup = await h.call('POST', `/v1/users/${userId}/two-factor/setup`, { token });
  expect(setup.status).toBe(201);
  const secret = secretOf(setup.body.otpauthUri);
  const code = codeAt(h, secret);
  const confirm = await h.call('POST', `/v1/users/${userId}/two-factor/confirm`, { token, body: { code } });
  expectCommandAnswer(confirm);
  h.clock.advance(STEP_MS);
  return { secret, backupCodes: confirm.body.backupCodes, position: confirm.body.position, sentCodes: [code] };
}

export async function userView(h: Harness, token: string, userId: string, minPosition?: string): Promise<JsonResponse> {
  return h.call('GET', `/v1/users/${userId}${minPosition ? `?minPosition=${minPosition}` : ''}`, { token });
}

/**
 * What the service records by itself after a mail went out (reminders, security notices, the admins'
 * digest): the scheduler appends these on its own time, e.g. a notice a few seconds after a factor
 * was turned on, so they are no command's doing.
 */
export const MAIL_RECORDS: readonly string[] = ['ReminderSent', 'NoticeSent', 'AdminDigestSent'];

/** The events commands wrote to a stream (the scheduler's mail records left out). */
export async function streamLength(h: Harness, stream: string): Promise<number> {
  return (await h.service.runtime.eventStore.readStream(stream)).filter((e) => !MAIL_RECORDS.includes(e.type)).length;
}

/** Events commands appended after `head` (a headPosition), the scheduler's mail records left out. */
export async function commandEventsSince(h: Harness, head: string | null): Promise<string[]> {
  const store = h.service.runtime.eventStore;
  const appended = await store.readAll(head === null ? {} : { after: head });
  return appended.filter((e) => !MAIL_RECORDS.includes(e.type)).map((e) => `${e.stream} ${e.type}`);
}
