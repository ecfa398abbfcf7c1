import type { AgendaBackend } from 'agenda';
import type { EventStore } from '../ports/event-store.port.js';
import type { IdempotencyStore } from '../ports/idempotency-store.port.js';
import type { KeyStore } from '../ports/key-store.port.js';
import type { ReadStore } from '../ports/read-store.port.js';

/** The stores a profile provides; everything above them is the same code on every profile. */
export interface ProfileStores {
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  readonly keyStore: KeyStore;
  readonly idempotencyStore: IdempotencyStore;
  readonly agendaBackend: AgendaBackend;
  close(): Promise<void>;
}
