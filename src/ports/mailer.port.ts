/** An outgoing message; `idempotencyKey` becomes part of the Message-ID so a resend is recognisable. */
export interface OutgoingMail {
  readonly to: string;
  /** Whom the message is to (a user id): a stored copy can then be erased when that user is forgotten. */
  readonly recipientId: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly idempotencyKey: string;
}

export interface SentMail {
  /** The Message-ID header value the receiving server accepted. */
  readonly messageId: string;
}

/**
 * Resolves only once the receiving SMTP server accepted the message (or the .eml file is durably
 * written); rejects otherwise, so a caller never records an unsent reminder as sent.
 */
export interface Mailer {
  send(mail: OutgoingMail): Promise<SentMail>;
  /**
   * Erases every copy of mail to this recipient that the mailer itself keeps (the embedded
   * outbox's files), because it holds their address in clear. Idempotent; mail already handed to
   * an SMTP server is out of our hands and is not affected.
   */
  forgetRecipient(recipientId: string): Promise<void>;
  close(): Promise<void>;
}
