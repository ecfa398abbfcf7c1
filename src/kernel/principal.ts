import type { Actor } from './event-envelope.js';

export const STAFF_ROLES = ['platform', 'support', 'auditor', 'operator'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/** The authenticated caller. A principal with no staff role is an end user acting on its own id. */
export interface Principal {
  readonly id: string;
  readonly roles: readonly StaffRole[];
}

export function hasRole(principal: Principal, ...roles: readonly StaffRole[]): boolean {
  return roles.some((role) => principal.roles.includes(role));
}

export function isEndUser(principal: Principal): boolean {
  return principal.roles.length === 0;
}

export function actorOf(principal: Principal): Actor {
  return { id: principal.id, roles: [...principal.roles] };
}
