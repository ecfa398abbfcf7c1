/**
 * The service's global positions, as its answers give them: a decimal sequence number (embedded
 * profile) or "commit/prepare" (EventStoreDB). Both order by commit, then prepare. Kept here
 * because the SDK imports nothing of the service.
 */
const POSITION = /^(\d{1,20})(?:\/(\d{1,20}))?$/;

export const START_POSITION = '0';

export function isPosition(value: unknown): value is string {
  return typeof value === 'string' && POSITION.test(value);
}

export function comparePositions(a: string, b: string): number {
  const [commitA, prepareA] = parts(a);
  const [commitB, prepareB] = parts(b);
  if (commitA !== commitB) return commitA < commitB ? -1 : 1;
  if (prepareA !== prepareB) return prepareA < prepareB ? -1 : 1;
  return 0;
}

function parts(position: string): [bigint, bigint] {
  const match = POSITION.exec(position);
  if (!match) throw new TypeError(`not a position: ${position.slice(0, 40)}`);
  const commit = BigInt(match[1]!);
  return [commit, match[2] === undefined ? commit : BigInt(match[2])];
}
