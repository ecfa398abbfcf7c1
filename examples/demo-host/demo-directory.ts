/**
 * The demo's own idea of who exists: in a real host this is its user database. The seed registers
 * the same people and organisations with the service, so both sides agree on the ids.
 */
export interface DemoOrganisation {
  readonly id: string;
  readonly name: string;
  readonly enforcement: 'soft' | 'hard';
  readonly xeroTenantId: string | null;
}

export interface DemoUser {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly orgId: string;
  readonly role: 'admin' | 'member';
  /** What the sign-in list says about the person, so a visitor knows whom to pick. */
  readonly story: string;
  /** Enrolled by the seed with a TOTP factor whose key is printed for an authenticator app. */
  readonly enrolled: boolean;
}

export const DEMO_ORGANISATIONS: readonly DemoOrganisation[] = [
  { id: 'harbour-books', name: 'Harbour Books Ltd', enforcement: 'soft', xeroTenantId: 'xero-tenant-harbour' },
  { id: 'northwind-legal', name: 'Northwind Legal', enforcement: 'hard', xeroTenantId: null },
];

export const DEMO_USERS: readonly DemoUser[] = [
  { id: 'ada', name: 'Ada Admin', email: 'ada@example.com', orgId: 'harbour-books', role: 'admin', story: 'Admin of Harbour Books (connected to Xero, soft enforcement), no 2FA yet: sees the prompt.', enrolled: false },
  { id: 'ben', name: 'Ben Member', email: 'ben@example.com', orgId: 'harbour-books', role: 'member', story: 'Member of Harbour Books (connected to Xero, soft enforcement), no 2FA yet: sees the prompt.', enrolled: false },
  { id: 'cleo', name: 'Cleo Secure', email: 'cleo@example.com', orgId: 'harbour-books', role: 'member', story: 'Member of Harbour Books with 2FA on: signs in with a code.', enrolled: true },
  { id: 'dev', name: 'Dev Hardcase', email: 'dev@example.com', orgId: 'northwind-legal', role: 'member', story: 'Member of Northwind Legal (hard enforcement), no 2FA yet: every page leads to setup.', enrolled: false },
];

/**
 * The host's back-office staff. They are not members of any organisation: their console access
 * comes from the roles the host puts in their hand-off (DESIGN §8), as it would from its own
 * staff directory.
 */
export interface DemoStaff {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly ('support' | 'auditor')[];
  readonly story: string;
}

export const DEMO_STAFF: readonly DemoStaff[] = [
  { id: 'sam', name: 'Sam Support', roles: ['support'], story: 'Support: finds users by e-mail, sees lockouts and reminders, resets a lost factor.' },
  { id: 'avery', name: 'Avery Auditor', roles: ['auditor'], story: 'Auditor: timelines with hash-chain status, state as of any instant, integrity check, compliance report, export.' },
];

export function findDemoStaff(id: string): DemoStaff | undefined {
  return DEMO_STAFF.find((staff) => staff.id === id);
}

export function findDemoUser(id: string): DemoUser | undefined {
  return DEMO_USERS.find((user) => user.id === id);
}

export function findDemoOrganisation(id: string): DemoOrganisation | undefined {
  return DEMO_ORGANISATIONS.find((org) => org.id === id);
}
