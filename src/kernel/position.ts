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

const SORT_DIGITS = 20;

/**
 * A position as a fixed-width string whose text order is the position order, for read models
 * that sort and filter by it (decimal text does not: "9" > "10").
 */
export function positionSortKey(value: string): string {
  const { commit, prepare } = parsePosition(value);
  return `${commit.toString().padStart(SORT_DIGITS, '0')}/${prepare.toString().padStart(SORT_DIGITS, '0')}`;
}

export function positionFromSortKey(key: string): string {
  const [commit, prepare] = key.split('/');
  return formatPosition({ commit: BigInt(commit!), prepare: BigInt(prepare!) });
}
