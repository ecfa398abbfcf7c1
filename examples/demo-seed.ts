import { generateSync } from 'otplib';
import { DEMO_ORGANISATIONS, DEMO_USERS } from './demo-host/demo-directory.js';

/**
 * Seeds the service over its public HTTP API with a platform token, as a host's back office
 * would. Safe to run again: "already registered" answers (409) count as done, and a user whose
 * factor is already on keeps it.
 */
export interface SeedInput {
  readonly apiBaseUrl: string;
  readonly platformToken: string;
  /** The service's "now", for the TOTP code that confirms the enrolled user's factor. */
  readonly now: () => Date;
  /** Keys enrolled on an earlier run (the service never gives a secret back). */
  readonly knownKeys: Readonly<Record<string, string>>;
}

export interface SeedResult {
  /** The TOTP key of each enrolled user, base32, for an authenticator app. */
  readonly enrolledKeys: Record<string, string>;
  /** The backup codes of users enrolled by this run (the service shows them once). */
  readonly backupCodes: Record<string, readonly string[]>;
}

export async function seedDemo({ apiBaseUrl, platformToken, now, knownKeys }: SeedInput): Promise<SeedResult> {
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${apiBaseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${platformToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  const expect = async (method: string, path: string, body: unknown, accepted: number[]): Promise<any> => {
    const answer = await call(method, path, body);
    if (!accepted.includes(answer.status)) throw new Error(`seeding failed: ${method} ${path} answered ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  };

  for (const user of DEMO_USERS) await expect('POST', '/v1/users', { id: user.id, email: user.email }, [201, 409]);
  for (const org of DEMO_ORGANISATIONS) {
    await expect('POST', '/v1/organisations', { id: org.id, name: org.name }, [201, 409]);
    const members = DEMO_USERS.filter((user) => user.orgId === org.id).map((user) => ({ userId: user.id, role: user.role }));
    await expect('PUT', `/v1/organisations/${org.id}/members`, { members }, [200]);
    // Connecting to Xero switches an "off" organisation to soft; the mode below is then explicit.
    if (org.xeroTenantId) await expect('PUT', `/v1/organisations/${org.id}/xero-connection`, { tenantId: org.xeroTenantId }, [200, 409]);
    await expect('PUT', `/v1/organisations/${org.id}/enforcement`, { mode: org.enforcement, reason: 'demo seed' }, [200]);
  }

  const enrolledKeys: Record<string, string> = {};
  const backupCodes: Record<string, readonly string[]> = {};
  for (const user of DEMO_USERS.filter((candidate) => candidate.enrolled)) {
    const view = await expect('GET', `/v1/users/${user.id}`, undefined, [200]);
    const known = knownKeys[user.id];
    if (view.twoFactor.status === 'enabled' && known) {
      enrolledKeys[user.id] = known;
      continue;
    }
    // Enabled with a key we no longer have (data of another run): reset it so the printed key works.
    if (view.twoFactor.status === 'enabled') await expect('POST', `/v1/users/${user.id}/two-factor/reset`, { reason: 'demo seed lost the key' }, [200]);
    const setup = await expect('POST', `/v1/users/${user.id}/two-factor/setup`, undefined, [201]);
    const secret = new URL(setup.otpauthUri).searchParams.get('secret')!;
    const code = generateSync({ secret, epoch: Math.floor(now().getTime() / 1000) });
    const confirmed = await expect('POST', `/v1/users/${user.id}/two-factor/confirm`, { code }, [200]);
    enrolledKeys[user.id] = secret;
    backupCodes[user.id] = confirmed.backupCodes;
  }
  return { enrolledKeys, backupCodes };
}
