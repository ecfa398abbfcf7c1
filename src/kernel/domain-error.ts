/**
 * A refusal decided by the domain. `kind` maps to an HTTP status at the edge; `code` is a stable
 * machine-readable reason. Messages must never contain secrets, codes or personal data.
 */
export type DomainErrorKind = 'invalid' | 'forbidden' | 'not_found' | 'conflict' | 'gone' | 'unprocessable' | 'locked' | 'unavailable';

/** A list is for ids (e.g. the organisations that enforce 2FA), never for personal data. */
export type DomainErrorDetail = string | number | null | readonly string[];

export class DomainError {
  constructor(
    readonly kind: DomainErrorKind,
    readonly code: string,
    readonly message: string,
    readonly details: Readonly<Record<string, DomainErrorDetail>> = {},
  ) {}
}

export function isDomainError(value: unknown): value is DomainError {
  return value instanceof DomainError;
}
