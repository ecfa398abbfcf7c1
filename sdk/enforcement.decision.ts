/** The answer of `GET /v1/enforcement/:userId` (DESIGN §4), as the SDK hands it to a host. */

export type EnforcementMode = 'off' | 'soft' | 'hard';
export type Requirement = 'none' | 'soft' | 'hard';
/** `allow`: let the request through; `prompt`: show the skippable banner; `redirect`: send the user to set up 2FA. */
export type EnforcementAction = 'allow' | 'prompt' | 'redirect';

/** One organisation that asks the user for 2FA, and why. */
export interface EnforcingOrganisation {
  readonly orgId: string;
  readonly mode: EnforcementMode;
  /** Xero requires 2FA of everyone who touches a connected organisation. */
  readonly xeroConnected: boolean;
}

export interface EnforcementDecision {
  readonly requirement: Requirement;
  readonly action: EnforcementAction;
  /** The host's own enforcement page (`ENFORCEMENT_PAGE_URL`), for hosts that do not use the hand-off. */
  readonly redirectTo?: string;
  /**
   * Whether the user has 2FA. In a `degraded` decision it is the last known value (`false` when
   * none is known): a sign-in that relies on it must check `degraded` first.
   */
  readonly twoFactorEnabled: boolean;
  readonly enforcedBy: readonly EnforcingOrganisation[];
  /** When a scheduled escalation or a newcomer's grace ends (DESIGN §9); null when nothing is due. */
  readonly deadline?: string | null;
  /** Present when the user is exempted until that instant (DESIGN §9). */
  readonly exemptUntil?: string;
  /**
   * `true` when the service could not answer (unreachable, slow or 5xx) and this decision comes
   * from the fail rules instead: the last known `redirect`, or `whenUnavailable`.
   */
  readonly degraded?: boolean;
}

const ACTIONS: readonly string[] = ['allow', 'prompt', 'redirect'];
const REQUIREMENTS: readonly string[] = ['none', 'soft', 'hard'];

/** A 200 whose body is not a decision is a broken service, handled like an unreachable one. */
export function isDecision(body: unknown): body is EnforcementDecision {
  if (typeof body !== 'object' || body === null) return false;
  const candidate = body as Record<string, unknown>;
  return (
    ACTIONS.includes(candidate['action'] as string) &&
    REQUIREMENTS.includes(candidate['requirement'] as string) &&
    typeof candidate['twoFactorEnabled'] === 'boolean' &&
    Array.isArray(candidate['enforcedBy'])
  );
}

/** What a user the service does not know (404) gets: nothing is required of them. */
export const NOTHING_REQUIRED: EnforcementDecision = Object.freeze({ requirement: 'none', action: 'allow', twoFactorEnabled: false, enforcedBy: Object.freeze([]) });
