/**
 * Global positions are strings so they survive JSON. SQLite writes a decimal sequence number;
 * EventStoreDB writes "commit/prepare". Both order by commit first, then prepare.
 */
export interface ParsedPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

const POSITION_PATTERN = /^(\d{1,20})(?:\/(\d{1,20}))?$/;

export const START_POSITION = '0';

export function isPosition(value: string): boolean {
  return POSITION_PATTERN.test(value);
}

export function parsePosition(value: string): ParsedPosition {
  const match = POSITION_PATTERN.exec(value);
  if (!match) throw new RangeError('not a stream position');
  const commit = BigInt(match[1]!);
  return { commit, prepare: match[2] === undefined ? commit : BigInt(match[2]) };
}

export function formatPosition(position: ParsedPosition): string {
  return position.commit === position.prepare ? `${position.commit}` : `${position.commit}/${position.prepare}`;
}

export function comparePositions(a: string, b: string): number {
  const pa = parsePosition(a);
  const pb = parsePosition(b);
  if (pa.commit !== pb.commit) return pa.commit < pb.commit ? -1 : 1;
  if (pa.prepare !== pb.prepare) return pa.prepare < pb.prepare ? -1 : 1;
  return 0;
}
