/**
 * A refusal decided by the domain. `kind` maps to an HTTP status at the edge; `code` is a stable
 * machine-readable reason. Messages must never contain secrets, codes or personal data.
 */
export type DomainErrorKind = 'invalid' | 'forbidden' | 'not_found' | 'conflict' | 'gone' | 'unprocessable' | 'locked' | 'unavailable';

export class DomainError {
  constructor(
    readonly kind: DomainErrorKind,
    readonly code: string,
    readonly message: string,
    readonly details: Readonly<Record<string, string | number | null | readonly string[]>> = {},
  ) {}
}

export function isDomainError(value: unknown): value is DomainError {
  return value instanceof DomainError;
}
