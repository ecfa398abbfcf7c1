import { DomainError } from '../kernel/domain-error.js';
import { hasRole, type Principal } from '../kernel/principal.js';

/**
 * Auditors read everything, redacted; nobody else reads the raw history. The one rule for the
 * audit trail, whichever surface asks (the JSON API, the console); checked before any input.
 */
export function requireAuditor(principal: Principal): void {
  if (!hasRole(principal, 'auditor')) throw new DomainError('forbidden', 'forbidden', 'Only auditors may read the audit trail.');
}
