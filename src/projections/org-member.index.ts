import type { Doc } from '../ports/read-store.port.js';
import type { ReadModelView } from './projection.js';

/** A projection's own index of who belongs to which organisation, for fan-out at projection time. */
export interface OrgMemberDoc extends Doc {
  orgId: string;
  userId: string;
}

const PAGE = 1000;

export function orgMemberDoc(orgId: string, userId: string): OrgMemberDoc {
  // '|' cannot occur in ids (see kernel/ids.ts), so the pair is unambiguous.
  return { id: orgMemberId(orgId, userId), orgId, userId };
}

export function orgMemberId(orgId: string, userId: string): string {
  return `${orgId}|${userId}`;
}

/** Every member's user id, page by page, so memory stays flat for very large organisations. */
export async function* orgMemberIds(view: ReadModelView, collection: string, orgId: string): AsyncGenerator<string> {
  let cursor: string | null = null;
  do {
    const page: { items: OrgMemberDoc[]; nextCursor: string | null } = await view.find<OrgMemberDoc>(collection, { orgId }, { limit: PAGE, ...(cursor ? { cursor } : {}) });
    for (const member of page.items) yield member.userId;
    cursor = page.nextCursor;
  } while (cursor);
}
