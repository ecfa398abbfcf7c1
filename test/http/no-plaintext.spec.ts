import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { DATABASE_FILE, DERIVED_DATABASE_FILE } from '../../src/runtime/data-dir.files.js';
import { startHarness, type Harness, type JsonResponse } from '../support/http-harness.js';
import { attribute, attributes, csrfOf, handoffToken, PageClient } from '../support/page-client.js';
import { STEP_MS, codeAt, expectCommandAnswer, registerOrg, secretOf, setMember, uniqueId, wrongCode } from './http-steps.js';

/**
 * Codes are short digit strings, so they are searched as whole tokens (not inside a longer run of
 * letters or digits such as a hash, a time step or base64): that is how a leaked code would look
 * in JSON, SQL text or a log line, and it keeps random matches inside binary data out.
 */
function containsToken(haystack: string, token: string): boolean {
  return new RegExp(`(?<![0-9A-Za-z])${token}(?![0-9A-Za-z])`).test(haystack);
}

function fileText(path: string): string {
  // latin1 maps every byte to one character, so byte offsets and ASCII text survive unchanged.
  return existsSync(path) ? readFileSync(path).toString('latin1') : '';
}

describe('No plaintext secret, code or personal data at rest or in logs', () => {
  let h: Harness;
  const secrets: string[] = [];
  const backupCodes: string[] = [];
  const totpCodes: string[] = [];
  /** Hand-off tokens, session cookies, CSRF tokens and `tfa` assertions of the pages. */
  const pageTokens: string[] = [];
  /** Trusted-device tokens (256 random bits, shown once) and the labels users gave their devices. */
  const deviceTokens: string[] = [];
  const deviceLabels: string[] = [];
  const forgottenEmail = `forget-me-${randomUUID()}@example.test`;
  /** An address support looks up (API and console): kept only encrypted and as its keyed blind index. */
  const searchedEmail = `search-me-${randomUUID()}@example.test`;
  // Positive controls: non-secret values we write on purpose, which the scan must find.
  const orgMarker = `Marker Org ${randomUUID()}`;
  const digitMarker = String(randomInt(100_000, 1_000_000));

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.dispose());

  async function send(userId: string, action: string, token: string, body?: Record<string, string>, idempotencyKey?: string): Promise<JsonResponse> {
    if (body?.['code']) totpCodes.push(body['code']);
    if (body?.['backupCode']) backupCodes.push(body['backupCode']);
    const headers = idempotencyKey ? { 'idempotency-key': idempotencyKey } : undefined;
    return h.call('POST', `/v1/users/${userId}/two-factor/${action}`, { token, ...(body ? { body } : {}), ...(headers ? { headers } : {}) });
  }

  /**
   * With keys, setup and confirm answers (the otpauth URI with the secret, the backup codes) are
   * kept for replay: sent twice each, so the stored answer is the one answered the second time.
   */
  async function setupAndConfirm(userId: string, token: string, keyed = false): Promise<string> {
    const key = (action: string): string | undefined => (keyed ? `${action}-${userId}-${randomUUID()}` : undefined);
    const setupKey = key('setup');
    const setup = await send(userId, 'setup', token, undefined, setupKey);
    expect(setup.status).toBe(201);
    if (setupKey) expect((await send(userId, 'setup', token, undefined, setupKey)).headers.get('idempotent-replayed')).toBe('true');
    const secret = secretOf(setup.body.otpauthUri);
    secrets.push(secret);
    const code = codeAt(h, secret);
    const confirmKey = key('confirm');
    const confirm = await send(userId, 'confirm', token, { code }, confirmKey);
    expectCommandAnswer(confirm);
    if (confirmKey) expect((await send(userId, 'confirm', token, { code }, confirmKey)).body.backupCodes).toEqual(confirm.body.backupCodes);
    backupCodes.push(...confirm.body.backupCodes);
    h.clock.advance(STEP_MS);
    return secret;
  }

  async function runFullLifecycle(): Promise<void> {
    const platform = await h.token('host-platform', 'platform');
    const orgId = await registerOrg(h, platform, orgMarker);
    expectCommandAnswer(await h.call('PUT', `/v1/organisations/${orgId}/xero-connection`, { token: platform, body: { tenantId: `tenant-${digitMarker}` } }));
    await h.call('DELETE', `/v1/organisations/${orgId}/xero-connection`, { token: platform });
    const off = await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'off' } });
    expectCommandAnswer(off);

    const userId = uniqueId('alice');
    expectCommandAnswer(await h.call('POST', '/v1/users', { token: platform, body: { id: userId, email: `alice-${randomUUID()}@example.test` } }), 201);
    const token = await h.token(userId);
    await setMember(h, platform, orgId, userId, 'admin');
    // An abandoned setup: its secret must not survive either.
    secrets.push(secretOf((await send(userId, 'setup', token)).body.otpauthUri));
    const secret = await setupAndConfirm(userId, token, true);
    expectCommandAnswer(await send(userId, 'verify', token, { code: codeAt(h, secret) }, `verify-${randomUUID()}`));
    expect((await send(userId, 'verify', token, { code: wrongCode(h, secret) })).status).toBe(422);
    expectCommandAnswer(await send(userId, 'verify', token, { backupCode: backupCodes[0]! }));
    h.clock.advance(STEP_MS);
    await trustDevice(userId, token, secret);
    const regenerated = await send(userId, 'backup-codes', token, { code: codeAt(h, secret) }, `regenerate-${randomUUID()}`);
    expectCommandAnswer(regenerated);
    backupCodes.push(...regenerated.body.backupCodes);
    expectCommandAnswer(await send(userId, 'verify', token, { backupCode: regenerated.body.backupCodes[5] }));
    h.clock.advance(STEP_MS);
    // Disabling consults the read models: let them see the organisation turned off.
    expect((await h.call('GET', `/v1/users/${userId}?minPosition=${off.body.position}`, { token: platform })).status).toBe(200);
    const disableCode = codeAt(h, secret);
    totpCodes.push(disableCode);
    expectCommandAnswer(await h.call('DELETE', `/v1/users/${userId}/two-factor`, { token, body: { code: disableCode } }));
    await setupAndConfirm(userId, token);
    expectCommandAnswer(await send(userId, 'reset', await h.token('support-1', 'support'), { reason: 'Lost phone' }));

    const forgottenId = uniqueId('bob');
    expectCommandAnswer(await h.call('POST', '/v1/users', { token: platform, body: { id: forgottenId, email: forgottenEmail }, headers: { 'idempotency-key': `register-${randomUUID()}` } }), 201);
    await setMember(h, platform, orgId, forgottenId, 'member');
    const bobToken = await h.token(forgottenId);
    const bobSecret = await setupAndConfirm(forgottenId, bobToken, true);
    expectCommandAnswer(await send(forgottenId, 'verify', bobToken, { code: codeAt(h, bobSecret) }));
    expectCommandAnswer(await h.call('POST', `/v1/users/${forgottenId}/forget`, { token: await h.token('operator-1', 'operator') }));
    const head = await h.service.runtime.eventStore.headPosition();
    const view = await h.call('GET', `/v1/users/${forgottenId}?minPosition=${head}`, { token: platform });
    expect(view.body).toMatchObject({ forgotten: true, email: null });
  }

  /** Remember a device (keyed: its answer with the token is kept for replay), use it, list it, revoke it. */
  async function trustDevice(userId: string, token: string, secret: string): Promise<void> {
    const label = `Laptop ${randomUUID()}`;
    deviceLabels.push(label);
    const code = codeAt(h, secret);
    totpCodes.push(code);
    const body = { code, rememberDevice: true, deviceLabel: label };
    const remembered = await h.call('POST', `/v1/users/${userId}/two-factor/verify`, { token, body, headers: { 'idempotency-key': `remember-${randomUUID()}` } });
    expectCommandAnswer(remembered);
    deviceTokens.push(remembered.body.deviceToken);
    h.clock.advance(STEP_MS);
    expectCommandAnswer(await h.call('POST', `/v1/users/${userId}/two-factor/verify`, { token, body: { deviceToken: remembered.body.deviceToken } }));
    const listed = await h.call('GET', `/v1/users/${userId}/two-factor/devices`, { token });
    expect(listed.body.items.map((d: { label: string }) => d.label)).toEqual([label]);
    const spare = await h.call('POST', `/v1/users/${userId}/two-factor/verify`, { token, body: { code: codeAt(h, secret), rememberDevice: true } });
    deviceTokens.push(spare.body.deviceToken);
    h.clock.advance(STEP_MS);
    expectCommandAnswer(await h.call('DELETE', `/v1/users/${userId}/two-factor/devices/${remembered.body.deviceId}`, { token }));
    // A wrong device token is a failed check; it must not be kept either.
    const wrong = randomUUID().replace(/-/g, '').padEnd(43, 'x');
    deviceTokens.push(wrong);
    expect((await h.call('POST', `/v1/users/${userId}/two-factor/verify`, { token, body: { deviceToken: wrong } })).status).toBe(422);
  }

  /** Setup and sign-in through the pages, as a browser does: nothing they carry may be kept either. */
  async function runPagesLifecycle(): Promise<void> {
    const platform = await h.token('host-platform', 'platform');
    const userId = uniqueId('carol');
    expectCommandAnswer(await h.call('POST', '/v1/users', { token: platform, body: { id: userId, email: `carol-${randomUUID()}@example.test` } }), 201);
    const browser = new PageClient(h);
    const visit = async (purpose: string): Promise<string> => {
      const token = await handoffToken(h, { sub: userId, purpose, returnTo: 'http://localhost:3001/after' });
      pageTokens.push(token);
      const landing = await browser.get(`/two-factor/handoff?token=${token}`);
      pageTokens.push(browser.cookie('tfa_pages')!);
      const page = (await browser.get(landing.location!)).text;
      pageTokens.push(csrfOf(page));
      return page;
    };
    const setup = await visit('setup');
    const secret = attribute(setup, 'data-manual-key')!;
    secrets.push(secret);
    const code = codeAt(h, secret);
    totpCodes.push(code);
    const done = await browser.post('/two-factor/setup', { csrf: csrfOf(setup), code });
    const codes = attributes(done.text, 'data-backup-code');
    expect(codes).toHaveLength(10);
    backupCodes.push(...codes);
    h.clock.advance(STEP_MS);
    for (const entered of [codeAt(h, secret), codes[3]!]) {
      const verify = await visit('verify');
      if (entered.length === 6) totpCodes.push(entered);
      const answer = await browser.post('/two-factor/verify', { csrf: csrfOf(verify), code: entered, remember: 'yes' });
      expect(answer.status).toBe(303);
      pageTokens.push(new URL(answer.location!).searchParams.get('tfa')!);
      pageTokens.push(browser.cookie('tfa_device')!);
    }
    // Continue with the remembered browser: the sealed device cookie is all the pages get back.
    const again = await visit('verify');
    const continued = await browser.post('/two-factor/verify', { csrf: csrfOf(again), method: 'device' });
    expect(continued.status).toBe(303);
    pageTokens.push(new URL(continued.location!).searchParams.get('tfa')!);
    h.clock.advance(STEP_MS);
  }

  /** Support finds a user by e-mail over the API and in the console: the address is never written or logged. */
  async function runSupportSearch(): Promise<void> {
    const platform = await h.token('host-platform', 'platform');
    const userId = uniqueId('dana');
    expectCommandAnswer(await h.call('POST', '/v1/users', { token: platform, body: { id: userId, email: searchedEmail } }), 201);
    const found = await h.call('GET', `/v1/users?email=${encodeURIComponent(searchedEmail)}`, { token: await h.token('support-1', 'support') });
    expect(found.body).toEqual({ items: [{ id: userId }] });
    const console = new PageClient(h);
    const token = await handoffToken(h, { sub: 'support-1', purpose: 'console', roles: ['support'], returnTo: 'http://localhost:3001/after' });
    pageTokens.push(token);
    await console.get(`/two-factor/handoff?token=${token}`);
    pageTokens.push(console.cookie('tfa_pages')!);
    const search = (await console.get('/console/support')).text;
    pageTokens.push(csrfOf(search));
    const answer = await console.post('/console/support/search', { csrf: csrfOf(search), q: searchedEmail });
    expect(answer.location).toBe(`/console/support/users/${userId}`);
  }

  function keptAnswers(): number {
    const db = new Database(join(h.dataDir, DATABASE_FILE), { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM idempotency_records WHERE status IS NOT NULL').get() as { n: number }).n;
    } finally {
      db.close();
    }
  }

  function expectNoPlaintext(where: string, text: string): void {
    const found = [
      ...secrets.filter((s) => text.includes(s)).map(() => 'a TOTP secret'),
      ...backupCodes.filter((c) => containsToken(text, c)).map(() => 'a backup code'),
      ...totpCodes.filter((c) => containsToken(text, c)).map(() => 'a TOTP code'),
      ...(text.includes(forgottenEmail) || text.includes(forgottenEmail.split('@')[0]!) ? ['the forgotten e-mail'] : []),
      ...(text.includes(searchedEmail.split('@')[0]!) ? ['an e-mail address support searched for'] : []),
      ...pageTokens.filter((t) => text.includes(t)).map(() => 'a hand-off token, session cookie, CSRF token or assertion'),
      ...deviceTokens.filter((t) => text.includes(t)).map(() => 'a trusted-device token'),
      ...deviceLabels.filter((l) => text.includes(l) || text.includes(l.slice('Laptop '.length))).map(() => 'a device label'),
    ];
    expect({ where, found }).toEqual({ where, found: [] });
  }

  it('leaves none in the SQLite files, their WALs or the logs after a full lifecycle and a forgotten user', async () => {
    await runFullLifecycle();
    await runPagesLifecycle();
    await runSupportSearch();
    expect(secrets).toHaveLength(5);
    expect(pageTokens.length).toBeGreaterThanOrEqual(11);
    expect(backupCodes.length).toBeGreaterThanOrEqual(40);
    expect(totpCodes.length).toBeGreaterThanOrEqual(7);
    expect(deviceTokens).toHaveLength(3);
    expect(deviceLabels).toHaveLength(1);
    // Security notices went out for these changes (to the outbox): their events and jobs are in the scan too.
    const deadline = Date.now() + 20_000;
    while ((await h.service.runtime.eventStore.readAll({ types: ['NoticeSent'] })).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await h.service.runtime.eventStore.readAll({ types: ['NoticeSent'] })).length).toBeGreaterThan(0);

    // History and keys in one file, read models and jobs in the other: both, with their WALs.
    const databases = [DATABASE_FILE, DERIVED_DATABASE_FILE].map((file) => join(h.dataDir, file));
    const onDisk = (suffix: string): string => databases.map((database) => fileText(`${database}${suffix}`)).join('\n');
    const running = { db: onDisk(''), wal: onDisk('-wal') };
    for (const database of databases) expect(fileText(database).length).toBeGreaterThan(0);
    // The scan reads the real bytes: the marker we wrote in the clear is there.
    expect(running.db.length + running.wal.length).toBeGreaterThan(0);
    expect((running.db + running.wal).includes(orgMarker)).toBe(true);
    expect(containsToken(running.db + running.wal, digitMarker)).toBe(true);
    // Keyed requests left answers to replay (secrets, backup codes): the scan covers their table.
    expect((running.db + running.wal).includes('idempotency_records')).toBe(true);
    expect(keptAnswers()).toBeGreaterThanOrEqual(6);
    expectNoPlaintext('database file', running.db);
    expectNoPlaintext('WAL file', running.wal);

    const logs = h.logs();
    expect(logs).toContain('/two-factor/verify');
    expectNoPlaintext('logs', logs);

    // Closing checkpoints the WAL into the main file; scan what is left on disk afterwards too.
    await h.stop();
    const stopped = onDisk('') + onDisk('-wal');
    expect(stopped.includes(orgMarker)).toBe(true);
    expectNoPlaintext('files after shutdown', stopped);
    expectNoPlaintext('logs after shutdown', h.logs());
  }, 60_000);
});
