import { createHash, randomUUID } from 'node:crypto';
import { chmod, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { NodemailerError, SendMailOptions, SentMessageInfo, Transporter } from 'nodemailer';
import type { Mailer, OutgoingMail, SentMail } from '../../ports/mailer.port.js';

export interface NodemailerMailerOptions {
  /** SMTP is used whenever this is set; otherwise messages go to `outboxDir` as .eml files. */
  readonly smtpUrl?: string | undefined;
  readonly outboxDir: string;
  readonly from: string;
  /** Most SMTP connections kept open at once (the pool); default 5, as nodemailer's. */
  readonly smtpConnections?: number | undefined;
}

/**
 * The only error `send()` rejects with. Its message names the failing step and SMTP reply code
 * but never the server's reply text, the recipient or the body: servers echo addresses in their
 * replies and these errors end up in logs.
 */
export class MailDeliveryError extends Error {
  override readonly name = 'MailDeliveryError';

  /** True when the server refused the message for good (5xx), so retrying it is pointless. */
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/**
 * Deterministic per idempotency key, so a resend of the same reminder period carries the same
 * Message-ID and is recognisable (and deduplicated by the outbox file name). Hashed because the
 * key names a user, and Message-IDs travel in clear through every relay.
 */
export function messageIdFor(idempotencyKey: string): string {
  const digest = createHash('sha256').update(idempotencyKey, 'utf8').digest('hex');
  return `<reminder-${digest.slice(0, 32)}@two-factor.local>`;
}

/** A dead server must fail a send within seconds, not nodemailer's default minutes. */
const smtpTimeouts = { connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: 10_000, dnsTimeout: 5_000 } as const;

/**
 * Pooled SMTP: a connection is reused for up to `maxMessages` messages instead of paying a TCP
 * (and TLS) handshake, greeting and EHLO per message, which bounded reminders at about 230/s.
 * A send queues until one of `maxConnections` connections is free; a connection that fails
 * fails the message it carried, and the next send opens a fresh one.
 */
const smtpPool = { pool: true, maxMessages: 100 } as const;

/** Our messages carry no attachments; refusing file and URL content closes an SSRF/disclosure path. */
const contentLockdown = { disableFileAccess: true, disableUrlAccess: true, logger: false } as const;

export class NodemailerMailer implements Mailer {
  private readonly transport: Transporter<SentMessageInfo>;
  private readonly toOutbox: boolean;

  constructor(private readonly options: NodemailerMailerOptions) {
    this.toOutbox = !options.smtpUrl;
    this.transport = options.smtpUrl
      ? nodemailer.createTransport({ url: options.smtpUrl, ...smtpPool, maxConnections: options.smtpConnections ?? 5, ...smtpTimeouts, ...contentLockdown })
      : // RFC 5322 requires CRLF line endings in a stored message.
        nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows', ...contentLockdown });
  }

  async send(mail: OutgoingMail): Promise<SentMail> {
    const messageId = messageIdFor(mail.idempotencyKey);
    const info = await this.compose(mail, messageId);
    if (this.toOutbox) await this.writeToOutbox(outboxFileName(mail.recipientId, messageId), info.message);
    else if ((info.rejected?.length ?? 0) > 0 || (info.accepted?.length ?? 0) === 0) {
      throw new MailDeliveryError('SMTP delivery failed: the recipient was not accepted', false);
    }
    return { messageId };
  }

  /**
   * Deletes the recipient's outbox files (found by the recipient tag their names start with),
   * overwriting each with zeros first so the address does not linger in freed blocks of a
   * filesystem that writes in place. Temp files of an interrupted write are deleted too.
   */
  async forgetRecipient(recipientId: string): Promise<void> {
    if (!this.toOutbox) return;
    const tag = recipientTag(recipientId);
    const names = await readdir(this.options.outboxDir).catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 'ENOENT') return [] as string[];
      throw error;
    });
    const theirs = names.filter((name) => name.startsWith(`${tag}.`) || name.startsWith(`.${tag}.`));
    for (const name of theirs) await shred(join(this.options.outboxDir, name));
    if (theirs.length > 0) await syncDirectory(this.options.outboxDir);
  }

  async close(): Promise<void> {
    this.transport.close();
  }

  private async compose(mail: OutgoingMail, messageId: string): Promise<SentMessageInfo> {
    try {
      return await this.transport.sendMail(this.messageOptions(mail, messageId));
    } catch (error) {
      throw smtpFailure(error);
    }
  }

  private messageOptions(mail: OutgoingMail, messageId: string): SendMailOptions {
    return {
      from: this.options.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      messageId,
      // RFC 3834: an automated message; tells auto-responders not to reply to it.
      headers: { 'Auto-Submitted': 'auto-generated' },
    };
  }

  private async writeToOutbox(fileName: string, message: unknown): Promise<void> {
    if (!Buffer.isBuffer(message)) throw new MailDeliveryError('writing to the outbox failed: no message was composed', false);
    try {
      await prepareOutbox(this.options.outboxDir);
      await writeDurably(this.options.outboxDir, fileName, message);
    } catch (error) {
      throw new MailDeliveryError(`writing to the outbox failed (${safeCode(error) ?? 'unknown error'})`, false);
    }
  }
}

function smtpFailure(error: unknown): MailDeliveryError {
  const failure = (typeof error === 'object' && error !== null ? error : {}) as NodemailerError;
  const command = typeof failure.command === 'string' && /^[A-Z ]{1,16}$/.test(failure.command) ? failure.command : undefined;
  const reply = Number.isInteger(failure.responseCode) ? failure.responseCode : undefined;
  const details = [safeCode(failure), command && `at ${command}`, reply && `reply ${reply}`].filter(Boolean).join(', ');
  return new MailDeliveryError(`SMTP delivery failed (${details || 'unknown error'})`, failure.permanent === true);
}

/** Only a well-formed error code is copied: anything free-form might carry an address or a path. */
function safeCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z_]{1,30}$/.test(code) ? code : undefined;
}

/**
 * `<recipient tag>.<message id>.eml`: the tag finds a recipient's files when they are forgotten.
 * The Message-ID is hex plus fixed text, but the name is filtered anyway: it becomes a path.
 */
function outboxFileName(recipientId: string, messageId: string): string {
  return `${recipientTag(recipientId)}.${messageId.replace(/^<|>$/g, '').replace(/[^A-Za-z0-9.-]/g, '_')}.eml`;
}

/** Hashed so that a directory listing does not name who was reminded. */
export function recipientTag(recipientId: string): string {
  return createHash('sha256').update(`outbox-recipient\u0000${recipientId}`, 'utf8').digest('hex').slice(0, 32);
}

async function shred(path: string): Promise<void> {
  const size = await stat(path).then((s) => s.size, () => null);
  if (size === null) return;
  const file = await open(path, 'r+').catch(() => null);
  if (file) {
    try {
      await file.write(Buffer.alloc(size), 0, size, 0);
      await file.sync();
    } finally {
      await file.close();
    }
  }
  await rm(path, { force: true });
}

/** Reminders reveal who lacks 2FA: the outbox is readable by the service user only. */
async function prepareOutbox(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/**
 * Temp file, fsync, rename, fsync the directory: a crash leaves either no file or the whole
 * message, never a truncated one, and `send()` resolves only once the file survives power loss.
 */
async function writeDurably(dir: string, name: string, content: Buffer): Promise<void> {
  const temp = join(dir, `.${name}.${randomUUID()}.tmp`);
  const file = await open(temp, 'wx', 0o600);
  let written = false;
  try {
    await file.writeFile(content);
    await file.sync();
    written = true;
  } finally {
    await file.close();
    if (!written) await rm(temp, { force: true });
  }
  await rename(temp, join(dir, name));
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
