import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DATABASE_FILE, DERIVED_DATABASE_FILE } from '../../src/runtime/data-dir.files.js';
import { NodemailerMailer } from '../../src/infrastructure/mail/nodemailer.mailer.js';
import type { Mailer, OutgoingMail } from '../../src/ports/mailer.port.js';
import { ReminderSender } from '../../src/reminders/reminder.sender.js';
import { startHarness, type Harness } from '../support/http-harness.js';
import { expectCommandAnswer, registerOrg, registerUser, setMember } from './http-steps.js';

/** Every regular file under `dir`, recursively: the outbox, the SQLite file, its WAL, keys. */
function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? allFiles(path) : [path];
  });
}

function filesHolding(dir: string, needle: string): string[] {
  // latin1 maps every byte to one character: an ASCII address is found wherever its bytes are.
  return allFiles(dir).filter((path) => readFileSync(path).toString('latin1').includes(needle));
}

describe('Forgetting a user leaves no plaintext of their address in DATA_DIR', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.dispose());

  it('deletes their reminder from the embedded outbox', async () => {
    const platform = await h.token('host-platform', 'platform');
    const email = `outbox-${randomUUID()}@example.test`;
    const otherEmail = `kept-${randomUUID()}@example.test`;
    const userId = await registerUser(h, platform, email);
    const otherId = await registerUser(h, platform, otherEmail);
    const orgId = await registerOrg(h, platform, 'Reminding Ltd');
    for (const id of [userId, otherId]) expectCommandAnswer(await setMember(h, platform, orgId, id, 'member'));
    const soft = await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'soft' } });
    expectCommandAnswer(soft);
    expect((await h.call('GET', `/v1/users/${userId}?minPosition=${soft.body.position}`, { token: platform })).status).toBe(200);

    for (const id of [userId, otherId]) expect(await h.service.runtime.reminders.run(id)).toMatch(/^(sent|already_sent)$/);
    expect(filesHolding(join(h.dataDir, 'outbox'), email)).toHaveLength(1);

    const forget = await h.call('POST', `/v1/users/${userId}/forget`, { token: await h.token('operator-1', 'operator') });
    expectCommandAnswer(forget);
    expect((await h.call('GET', `/v1/users/${userId}?minPosition=${forget.body.position}`, { token: platform })).status).toBe(200);

    expect(filesHolding(h.dataDir, email)).toEqual([]);
    expect(filesHolding(h.dataDir, email.split('@')[0]!)).toEqual([]);
    // The scan reads real bytes: another user's reminder is still there, address and all.
    expect(filesHolding(join(h.dataDir, 'outbox'), otherEmail)).toHaveLength(1);

    expect(allFiles(h.dataDir)).toEqual(expect.arrayContaining([join(h.dataDir, DATABASE_FILE), join(h.dataDir, DERIVED_DATABASE_FILE)]));
  }, 30_000);

  it('deletes a reminder written while the user was being forgotten', async () => {
    const platform = await h.token('host-platform', 'platform');
    const email = `racing-${randomUUID()}@example.test`;
    const userId = await registerUser(h, platform, email);
    const orgId = await registerOrg(h, platform, 'Racing Ltd');
    expectCommandAnswer(await setMember(h, platform, orgId, userId, 'member'));
    const hard = await h.call('PUT', `/v1/organisations/${orgId}/enforcement`, { token: platform, body: { mode: 'hard' } });
    expectCommandAnswer(hard);
    expect((await h.call('GET', `/v1/users/${userId}?minPosition=${hard.body.position}`, { token: platform })).status).toBe(200);

    // The real outbox, with the forget landing (and the saga's erasure running) after the address
    // was read and before the message file is written: the sender must erase it itself.
    const runtime = h.service.runtime;
    const outbox = new NodemailerMailer({ outboxDir: join(h.dataDir, 'outbox'), from: runtime.config.MAIL_FROM });
    const racing: Mailer = {
      async send(mail: OutgoingMail) {
        const forget = await h.call('POST', `/v1/users/${userId}/forget`, { token: await h.token('operator-1', 'operator') });
        expectCommandAnswer(forget);
        expect((await h.call('GET', `/v1/users/${userId}?minPosition=${forget.body.position}`, { token: platform })).status).toBe(200);
        return outbox.send(mail);
      },
      forgetRecipient: (recipientId) => outbox.forgetRecipient(recipientId),
      close: () => outbox.close(),
    };
    const intervals = { soft: runtime.config.REMINDER_SOFT_EVERY, hard: runtime.config.REMINDER_HARD_EVERY };
    const sender = new ReminderSender({ events: runtime.eventStore, readStore: runtime.readStore, cipher: runtime.cipher, mailer: racing, clock: h.clock, config: runtime.config, logger: runtime.logger, intervals, sagaProgress: runtime.progress });

    expect(await sender.run(userId)).toBe('not_subject');
    await racing.close();
    expect(filesHolding(h.dataDir, email)).toEqual([]);

    await h.stop();
    expect(filesHolding(h.dataDir, email)).toEqual([]);
  }, 30_000);
});
