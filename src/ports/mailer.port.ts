/** An outgoing message; `idempotencyKey` becomes part of the Message-ID so a resend is recognisable. */
export interface OutgoingMail {
  readonly to: string;
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
  close(): Promise<void>;
}
