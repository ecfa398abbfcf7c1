import { randomBytes } from 'node:crypto';
import { DuplicateKeyError, InvalidCursorError, type Doc, type Filter, type ReadStore, type Scalar, type SortSpec, type WriteOp } from '../../src/ports/read-store.port.js';

/**
 * The behaviour every ReadStore adapter must show. Collection and checkpoint names are unique per
 * run and per test so that the suite can run against a shared MongoDB without cleaning it first.
 */
export interface ReadStoreUnderTest {
  readonly store: ReadStore;
  dispose(): Promise<void>;
}

const run = `t${randomBytes(4).toString('hex')}`;
let counter = 0;
const freshCollection = (): string => `${run}_${(counter += 1)}`;

const ids = (docs: readonly Doc[]): string[] => docs.map((doc) => doc.id);

export function readStoreContract(name: string, makeStore: () => Promise<ReadStoreUnderTest>): void {
  describe(`ReadStore contract: ${name}`, () => {
    let subject: ReadStoreUnderTest;
    let store: ReadStore;

    beforeAll(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.dispose();
    });

    describe('documents', () => {
      it('returns null, an empty page and zero for a collection never written', async () => {
        const c = freshCollection();
        expect(await store.get(c, 'nobody')).toBeNull();
        expect(await store.find(c, {})).toEqual({ items: [], nextCursor: null });
        expect(await store.count(c, {})).toBe(0);
      });

      it('upserts a document and replaces it whole on the next upsert', async () => {
        const c = freshCollection();
        await store.write([{ kind: 'upsert', collection: c, doc: { id: 'u1', name: 'first', nested: { a: 1, list: [1, 'x', null] }, flag: true } }]);
        expect(await store.get(c, 'u1')).toEqual({ id: 'u1', name: 'first', nested: { a: 1, list: [1, 'x', null] }, flag: true });

        await store.write([{ kind: 'upsert', collection: c, doc: { id: 'u1', other: 2 } }]);
        expect(await store.get(c, 'u1')).toEqual({ id: 'u1', other: 2 });
        expect(await store.count(c, {})).toBe(1);
      });

      it('patches top-level and nested dotted paths, creating missing parents, and unsets fields', async () => {
        const c = freshCollection();
        await store.write([{ kind: 'upsert', collection: c, doc: { id: 'p1', keep: 'yes', profile: { city: 'Paris', zip: '75001' }, gone: 1 } }]);
        await store.write([
          {
            kind: 'patch',
            collection: c,
            id: 'p1',
            set: { 'profile.city': 'Lyon', 'settings.theme.color': 'dark', counts: { a: [1, 2] }, enabled: false, nothing: null },
            unset: ['gone', 'profile.zip', 'never.there'],
          },
        ]);
        expect(await store.get(c, 'p1')).toEqual({
          id: 'p1',
          keep: 'yes',
          profile: { city: 'Lyon' },
          settings: { theme: { color: 'dark' } },
          counts: { a: [1, 2] },
          enabled: false,
          nothing: null,
        });
        expect(await store.find(c, { enabled: false, 'settings.theme.color': 'dark' })).toMatchObject({ items: [{ id: 'p1' }] });
      });

      it('does nothing when patching a missing document', async () => {
        const c = freshCollection();
        await store.write([{ kind: 'patch', collection: c, id: 'ghost', set: { name: 'x' } }]);
        expect(await store.get(c, 'ghost')).toBeNull();
        expect(await store.count(c, {})).toBe(0);
      });

      it('deletes one document, and deleting a missing one is harmless', async () => {
        const c = freshCollection();
        await store.write([
          { kind: 'upsert', collection: c, doc: { id: 'a' } },
          { kind: 'upsert', collection: c, doc: { id: 'b' } },
        ]);
        await store.write([
          { kind: 'delete', collection: c, id: 'a' },
          { kind: 'delete', collection: c, id: 'missing' },
        ]);
        expect(await store.get(c, 'a')).toBeNull();
        expect(ids((await store.find(c, {})).items)).toEqual(['b']);
      });

      it('patches and deletes every document matching a filter', async () => {
        const c = freshCollection();
        await store.write(
          ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({ kind: 'upsert' as const, collection: c, doc: { id, org: i % 2 === 0 ? 'x' : 'y', n: i } })),
        );
        await store.write([{ kind: 'patchMany', collection: c, filter: { org: 'x' }, set: { 'meta.flagged': true }, unset: ['n'] }]);
        expect(ids((await store.find(c, { 'meta.flagged': true })).items)).toEqual(['a', 'c', 'e']);
        expect(await store.get(c, 'c')).toEqual({ id: 'c', org: 'x', meta: { flagged: true } });
        expect(await store.get(c, 'b')).toEqual({ id: 'b', org: 'y', n: 1 });

        await store.write([{ kind: 'deleteMany', collection: c, filter: { org: 'y' } }]);
        expect(ids((await store.find(c, {})).items)).toEqual(['a', 'c', 'e']);
      });

      it('applies the operations of one write in order', async () => {
        const c = freshCollection();
        await store.write([
          { kind: 'upsert', collection: c, doc: { id: 'a', v: 1 } },
          { kind: 'patch', collection: c, id: 'a', set: { v: 2 } },
          { kind: 'upsert', collection: c, doc: { id: 'b', v: 1 } },
          { kind: 'delete', collection: c, id: 'b' },
          { kind: 'delete', collection: c, id: 'c' },
          { kind: 'upsert', collection: c, doc: { id: 'c', v: 1 } },
          { kind: 'patchMany', collection: c, filter: { v: 1 }, set: { v: 3 } },
        ]);
        expect((await store.find(c, {})).items).toEqual([
          { id: 'a', v: 2 },
          { id: 'c', v: 3 },
        ]);
      });

      it('spans several collections in one write', async () => {
        const first = freshCollection();
        const second = freshCollection();
        await store.write([
          { kind: 'upsert', collection: first, doc: { id: 'a' } },
          { kind: 'upsert', collection: second, doc: { id: 'b' } },
          { kind: 'upsert', collection: first, doc: { id: 'c' } },
        ]);
        expect(ids((await store.find(first, {})).items)).toEqual(['a', 'c']);
        expect(ids((await store.find(second, {})).items)).toEqual(['b']);
      });

      it('treats values as data, never as query text', async () => {
        const c = freshCollection();
        const tricky = `x' OR 1=1 --"); DROP TABLE rm_${c}; {"$gt": ""}`;
        await store.write([
          { kind: 'upsert', collection: c, doc: { id: tricky, name: tricky } },
          { kind: 'upsert', collection: c, doc: { id: 'plain', name: 'plain' } },
        ]);
        expect(ids((await store.find(c, { name: tricky })).items)).toEqual([tricky]);
        expect(ids((await store.find(c, { name: "x' OR 1=1 --" })).items)).toEqual([]);
        expect(await store.get(c, tricky)).toEqual({ id: tricky, name: tricky });
        expect(await store.count(c, {})).toBe(2);
      });

      it('refuses invalid collection names, ids and patches without changing anything', async () => {
        const c = freshCollection();
        await store.write([{ kind: 'upsert', collection: c, doc: { id: 'a', v: 1 } }]);
        const refused: WriteOp[][] = [
          [{ kind: 'upsert', collection: 'Bad-Name', doc: { id: 'x' } }],
          [{ kind: 'upsert', collection: 'x"; DROP TABLE y; --', doc: { id: 'x' } }],
          [{ kind: 'upsert', collection: c, doc: { id: '' } }],
          [{ kind: 'patch', collection: c, id: 'a', set: { id: 'other' } }],
          [{ kind: 'patch', collection: c, id: 'a', set: { profile: {} }, unset: ['profile.city'] }],
          [{ kind: 'patch', collection: c, id: 'a', set: { "v') OR 1=1 --": 1 } }],
          [{ kind: 'patchMany', collection: c, filter: { v: { $where: 'x' } } as unknown as Filter, set: { v: 2 } }],
        ];
        for (const ops of refused) {
          await expect(store.write([{ kind: 'patch', collection: c, id: 'a', set: { v: 99 } }, ...ops])).rejects.toThrow(TypeError);
        }
        expect(await store.get(c, 'a')).toEqual({ id: 'a', v: 1 });
      });
    });

    describe('atomic writes', () => {
      it('stores nothing of a write that breaks a unique index: not its other collections, not its checkpoint', async () => {
        const [first, unique] = [freshCollection(), freshCollection()];
        const checkpoint = `${unique}-projection`;
        await store.ensureIndexes(unique, [{ fields: ['email'], unique: true }]);
        await store.write([{ kind: 'upsert', collection: unique, doc: { id: 'taken', email: 'a@example.test' } }], { name: checkpoint, position: '3' });

        const failed = await store
          .write(
            [
              { kind: 'upsert', collection: first, doc: { id: 'written-first' } },
              { kind: 'upsert', collection: unique, doc: { id: 'ok', email: 'b@example.test' } },
              { kind: 'upsert', collection: unique, doc: { id: 'clash', email: 'a@example.test' } },
            ],
            { name: checkpoint, position: '4' },
          )
          .catch((error: unknown) => error);

        expect(failed).toBeInstanceOf(DuplicateKeyError);
        expect(await store.get(first, 'written-first')).toBeNull();
        expect(await store.get(unique, 'ok')).toBeNull();
        expect(await store.getCheckpoint(checkpoint)).toBe('3');
      });
    });

    describe('checkpoints', () => {
      it('stores a checkpoint with a write and reads it back', async () => {
        const c = freshCollection();
        const checkpoint = `${run}-projection-${(counter += 1)}`;
        expect(await store.getCheckpoint(checkpoint)).toBeNull();

        await store.write([{ kind: 'upsert', collection: c, doc: { id: 'a' } }], { name: checkpoint, position: '42' });
        expect(await store.getCheckpoint(checkpoint)).toBe('42');

        await store.write([], { name: checkpoint, position: '43/41' });
        expect(await store.getCheckpoint(checkpoint)).toBe('43/41');
        expect(await store.getCheckpoint(`${checkpoint}-other`)).toBeNull();
      });

      it('leaves the checkpoint alone when a write carries none', async () => {
        const c = freshCollection();
        const checkpoint = `${run}-projection-${(counter += 1)}`;
        await store.write([], { name: checkpoint, position: '7' });
        await store.write([{ kind: 'upsert', collection: c, doc: { id: 'a' } }]);
        expect(await store.getCheckpoint(checkpoint)).toBe('7');
      });
    });

    describe('filters', () => {
      const people: Doc[] = [
        { id: 'a', name: 'alice', age: 30, active: true, tier: 'gold', profile: { city: 'Paris', zip: '75001' }, score: 1.5, code: 'A' },
        { id: 'b', name: 'bob', age: 25, active: false, tier: 'silver', profile: { city: 'Lyon' }, score: 2 },
        { id: 'c', name: 'carol', age: 35, active: true, profile: null, code: '1' },
        { id: 'd', name: 'dave', age: '30', active: 1, tier: null, code: 1 },
        { id: 'e', name: 'eve', age: 40, active: 'true', profile: { city: 'Paris' }, code: { nested: '1' } },
      ];
      let c: string;
      const match = async (filter: Filter): Promise<string[]> => ids((await store.find(c, filter)).items);

      beforeAll(async () => {
        c = freshCollection();
        await store.write(people.map((doc) => ({ kind: 'upsert' as const, collection: c, doc })));
      });

      it('matches plain and $eq equality', async () => {
        expect(await match({ name: 'bob' })).toEqual(['b']);
        expect(await match({ name: { $eq: 'eve' } })).toEqual(['e']);
        expect(await match({ name: 'nobody' })).toEqual([]);
        expect(await match({})).toEqual(['a', 'b', 'c', 'd', 'e']);
      });

      it('keeps numbers, strings, booleans and objects apart', async () => {
        expect(await match({ age: 30 })).toEqual(['a']);
        expect(await match({ age: '30' })).toEqual(['d']);
        expect(await match({ code: 1 })).toEqual(['d']);
        expect(await match({ code: '1' })).toEqual(['c']);
        expect(await match({ code: '{"nested":"1"}' })).toEqual([]);
        expect(await match({ score: 1.5 })).toEqual(['a']);
        expect(await match({ score: 2.0 })).toEqual(['b']);
      });

      it('matches booleans by type: true is not 1 nor "true"', async () => {
        expect(await match({ active: true })).toEqual(['a', 'c']);
        expect(await match({ active: false })).toEqual(['b']);
        expect(await match({ active: 1 })).toEqual(['d']);
        expect(await match({ active: 'true' })).toEqual(['e']);
        expect(await match({ active: { $ne: true } })).toEqual(['b', 'd', 'e']);
        expect(await match({ active: { $in: [false, 1] } })).toEqual(['b', 'd']);
      });

      it('matches null against null and missing fields alike, and $exists tells them apart', async () => {
        expect(await match({ tier: null })).toEqual(['c', 'd', 'e']);
        expect(await match({ tier: { $eq: null } })).toEqual(['c', 'd', 'e']);
        expect(await match({ tier: { $exists: false } })).toEqual(['c', 'e']);
        expect(await match({ tier: { $exists: true } })).toEqual(['a', 'b', 'd']);
        expect(await match({ tier: { $ne: null } })).toEqual(['a', 'b']);
        expect(await match({ tier: { $exists: true, $eq: null } })).toEqual(['d']);
      });

      it('includes missing fields in $ne', async () => {
        expect(await match({ tier: { $ne: 'gold' } })).toEqual(['b', 'c', 'd', 'e']);
        expect(await match({ age: { $ne: 30 } })).toEqual(['b', 'c', 'd', 'e']);
      });

      it('matches $in over mixed values, null meaning missing too', async () => {
        expect(await match({ tier: { $in: ['gold', null] } })).toEqual(['a', 'c', 'd', 'e']);
        expect(await match({ age: { $in: [25, '30', 99] } })).toEqual(['b', 'd']);
        expect(await match({ tier: { $in: [] } })).toEqual([]);
        expect(await match({ name: { $in: ['alice', 'eve', 'zed'] } })).toEqual(['a', 'e']);
      });

      it('compares ranges within one type only', async () => {
        expect(await match({ age: { $gt: 30 } })).toEqual(['c', 'e']);
        expect(await match({ age: { $gte: 30 } })).toEqual(['a', 'c', 'e']);
        expect(await match({ age: { $lt: 30 } })).toEqual(['b']);
        expect(await match({ age: { $lte: 30 } })).toEqual(['a', 'b']);
        expect(await match({ age: { $gt: 25, $lt: 40 } })).toEqual(['a', 'c']);
        expect(await match({ age: { $gte: '0' } })).toEqual(['d']);
        expect(await match({ name: { $gte: 'bob', $lt: 'dave' } })).toEqual(['b', 'c']);
        expect(await match({ active: { $gte: 0 } })).toEqual(['d']);
        expect(await match({ score: { $gt: 1.5 } })).toEqual(['b']);
      });

      it('follows dotted paths into nested objects', async () => {
        expect(await match({ 'profile.city': 'Paris' })).toEqual(['a', 'e']);
        expect(await match({ 'profile.city': null })).toEqual(['c', 'd']);
        expect(await match({ 'profile.zip': { $exists: true } })).toEqual(['a']);
        expect(await match({ 'profile.city': { $ne: 'Paris' } })).toEqual(['b', 'c', 'd']);
        expect(await match({ 'code.nested': '1' })).toEqual(['e']);
      });

      it('ANDs conditions on several fields', async () => {
        expect(await match({ 'profile.city': 'Paris', active: true })).toEqual(['a']);
        expect(await match({ age: { $gte: 25 }, tier: { $exists: true } })).toEqual(['a', 'b']);
      });

      it('filters on id like any field', async () => {
        expect(await match({ id: 'c' })).toEqual(['c']);
        expect(await match({ id: { $in: ['a', 'e', 'zz'] } })).toEqual(['a', 'e']);
        expect(await match({ id: { $gt: 'c' } })).toEqual(['d', 'e']);
        expect(await match({ id: { $ne: 'a' } })).toEqual(['b', 'c', 'd', 'e']);
        expect(await match({ id: 1 })).toEqual([]);
      });

      it('counts the documents a filter matches', async () => {
        expect(await store.count(c, {})).toBe(5);
        expect(await store.count(c, { active: true })).toBe(2);
        expect(await store.count(c, { tier: null })).toBe(3);
        expect(await store.count(c, { 'profile.city': 'Paris', age: { $gt: 35 } })).toBe(1);
      });

      it('refuses unknown operators, malformed conditions and bad paths', async () => {
        const refused: unknown[] = [
          { name: { $regex: 'a' } },
          { name: { $where: 'true' } },
          { name: { nested: 'x' } },
          { name: {} },
          { name: ['alice'] },
          { name: { $in: 'alice' } },
          { name: { $in: [{ a: 1 }] } },
          { name: { $gt: true } },
          { name: { $gt: null } },
          { name: { $exists: 1 } },
          { age: { $eq: Number.NaN } },
          { $or: [{ name: 'alice' }] },
          { 'a..b': 1 },
          { 'profile.0': 1 },
          { _id: 'a' },
          { 'id.x': 'a' },
          { "name') OR 1=1 --": 'x' },
        ];
        for (const filter of refused) {
          await expect(store.find(c, filter as Filter)).rejects.toThrow(TypeError);
          await expect(store.count(c, filter as Filter)).rejects.toThrow(TypeError);
        }
      });
    });

    describe('sorting and limits', () => {
      const docs: Doc[] = [
        { id: 'r5', group: 'b', rank: 2 },
        { id: 'r1', group: 'a', rank: 3 },
        { id: 'r4', group: 'a', rank: null },
        { id: 'r3', group: 'b', rank: 3 },
        { id: 'r2', group: 'a' },
        { id: 'r6', group: 'b', rank: 2.5 },
        { id: 'r0', group: 'a', rank: 3 },
      ];
      let c: string;
      const order = async (sort: SortSpec, filter: Filter = {}): Promise<string[]> => ids((await store.find(c, filter, { sort })).items);

      beforeAll(async () => {
        c = freshCollection();
        await store.write(docs.map((doc) => ({ kind: 'upsert' as const, collection: c, doc })));
      });

      it('orders by id when no sort is given', async () => {
        expect(await order([])).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
      });

      it('sorts ascending with null and missing first, ties broken by id', async () => {
        expect(await order([['rank', 1]])).toEqual(['r2', 'r4', 'r5', 'r6', 'r0', 'r1', 'r3']);
      });

      it('sorts descending with null and missing last, ties still broken by id ascending', async () => {
        expect(await order([['rank', -1]])).toEqual(['r0', 'r1', 'r3', 'r6', 'r5', 'r2', 'r4']);
      });

      it('sorts on two fields in mixed directions', async () => {
        expect(await order([['group', 1], ['rank', -1]])).toEqual(['r0', 'r1', 'r2', 'r4', 'r3', 'r6', 'r5']);
        expect(await order([['group', -1], ['rank', 1]])).toEqual(['r5', 'r6', 'r3', 'r2', 'r4', 'r0', 'r1']);
      });

      it('sorts by id descending when asked', async () => {
        expect(await order([['id', -1]], { group: 'a' })).toEqual(['r4', 'r2', 'r1', 'r0']);
      });

      it('limits a page and says whether more follow', async () => {
        const first = await store.find(c, {}, { sort: [['rank', 1]], limit: 3 });
        expect(ids(first.items)).toEqual(['r2', 'r4', 'r5']);
        expect(first.nextCursor).toEqual(expect.any(String));

        const whole = await store.find(c, {}, { limit: 7 });
        expect(whole.items).toHaveLength(7);
        expect(whole.nextCursor).toBeNull();

        const filtered = await store.find(c, { group: 'b' }, { limit: 10 });
        expect(ids(filtered.items)).toEqual(['r3', 'r5', 'r6']);
        expect(filtered.nextCursor).toBeNull();
      });

      it('refuses a limit that is not a positive integer', async () => {
        for (const limit of [0, -1, 1.5, Number.NaN]) {
          await expect(store.find(c, {}, { limit })).rejects.toThrow(RangeError);
        }
      });
    });

    describe('cursor pagination', () => {
      const total = 300;
      const labels = ['alpha', 'beta', 'gamma'];
      const docs: Doc[] = Array.from({ length: total }, (_, i) => {
        const doc: Doc = { id: `d${String((i * 7919) % total).padStart(3, '0')}`, bucket: i % 7, label: labels[i % 3]!, flag: i % 4 === 0 };
        if (i % 5 !== 0) doc.opt = i % 11;
        else if (i % 10 === 0) doc.opt = null;
        // Numbers in some documents, strings in others, missing in the rest: the sort orders by type first.
        if (i % 3 === 0) doc.mixed = i % 13;
        else if (i % 3 === 1) doc.mixed = `m${i % 17}`;
        return doc;
      });
      let c: string;

      beforeAll(async () => {
        c = freshCollection();
        await store.write(docs.map((doc) => ({ kind: 'upsert' as const, collection: c, doc })));
      });

      const walk = async (filter: Filter, sort: SortSpec, limit: number): Promise<{ ids: string[]; pages: number }> => {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        for (; pages < total + 2; pages += 1) {
          const page = await store.find(c, filter, cursor === undefined ? { sort, limit } : { sort, limit, cursor });
          expect(page.items.length).toBeLessThanOrEqual(limit);
          seen.push(...ids(page.items));
          if (page.nextCursor === null) return { ids: seen, pages: pages + 1 };
          expect(page.items).toHaveLength(limit);
          cursor = page.nextCursor;
        }
        throw new Error('pagination did not end');
      };

      const expected = (filter: (doc: Doc) => boolean, sort: SortSpec): string[] =>
        docs
          .filter(filter)
          .sort((x, y) => {
            for (const [field, direction] of sort) {
              const order = compareValues(x[field] as Scalar | undefined, y[field] as Scalar | undefined);
              if (order !== 0) return order * direction;
            }
            return x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
          })
          .map((doc) => doc.id);

      const cases: Array<[title: string, filter: Filter, predicate: (doc: Doc) => boolean, sort: SortSpec]> = [
        ['by id', {}, () => true, []],
        ['by a number with many equal values', {}, () => true, [['bucket', 1]]],
        ['by a number descending', {}, () => true, [['bucket', -1]]],
        ['by two fields in mixed directions', {}, () => true, [['label', 1], ['bucket', -1]]],
        ['by a field that is null or missing in some documents', {}, () => true, [['opt', 1]]],
        ['by a field that is null or missing, descending', {}, () => true, [['opt', -1], ['label', 1]]],
        ['by a boolean', {}, () => true, [['flag', -1]]],
        ['by a field holding numbers, strings or nothing', {}, () => true, [['mixed', 1]]],
        ['by a field holding numbers, strings or nothing, descending', {}, () => true, [['mixed', -1], ['bucket', 1]]],
        ['with a filter', { flag: false, bucket: { $gte: 2 } }, (doc) => doc.flag === false && (doc.bucket as number) >= 2, [['label', -1]]],
      ];

      it.each(cases)('walks every document once, %s', async (_title, filter, predicate, sort) => {
        const want = expected(predicate, sort);
        expect(want.length).toBeGreaterThan(40);
        const got = await walk(filter, sort, 17);
        expect(got.ids).toEqual(want);
        expect(new Set(got.ids).size).toBe(got.ids.length);
        expect(got.pages).toBe(Math.ceil(want.length / 17));
      });

      it('ends on a page exactly full without an empty extra page', async () => {
        const got = await walk({ bucket: 0 }, [], 43);
        expect(got.ids).toHaveLength(43);
        expect(got.pages).toBe(1);
      });

      it('skips documents deleted behind the cursor without repeating any', async () => {
        const first = await store.find(c, {}, { sort: [['bucket', 1]], limit: 50 });
        const doomed = first.items[10]!.id;
        const restored = docs.find((doc) => doc.id === doomed)!;
        await store.write([{ kind: 'delete', collection: c, id: doomed }]);
        try {
          const second = await store.find(c, {}, { sort: [['bucket', 1]], limit: 50, cursor: first.nextCursor! });
          expect(ids(second.items)).toEqual(expected(() => true, [['bucket', 1]]).slice(50, 100));
        } finally {
          await store.write([{ kind: 'upsert', collection: c, doc: restored }]);
        }
      });

      it('refuses malformed cursors and cursors made for another sort', async () => {
        const page = await store.find(c, {}, { sort: [['bucket', 1]], limit: 5 });
        const malformed = [
          '',
          'not a cursor!',
          Buffer.from('{"s":').toString('base64url'),
          Buffer.from('[1,2]').toString('base64url'),
          Buffer.from(JSON.stringify({ s: 'bucket:1,id:1', k: [1] })).toString('base64url'),
          Buffer.from(JSON.stringify({ s: 'bucket:1,id:1', k: [1, 2] })).toString('base64url'),
          Buffer.from(JSON.stringify({ s: 'bucket:1,id:1', k: [{ $gt: 1 }, 'd001'] })).toString('base64url'),
          'A'.repeat(10_000),
        ];
        for (const cursor of malformed) {
          await expect(store.find(c, {}, { sort: [['bucket', 1]], limit: 5, cursor })).rejects.toThrow(InvalidCursorError);
        }
        await expect(store.find(c, {}, { sort: [['bucket', -1]], limit: 5, cursor: page.nextCursor! })).rejects.toThrow(InvalidCursorError);
        await expect(store.find(c, {}, { limit: 5, cursor: page.nextCursor! })).rejects.toThrow(InvalidCursorError);
      });
    });

    describe('indexes and maintenance', () => {
      it('creates indexes idempotently and enforces unique ones', async () => {
        const c = freshCollection();
        const indexes = [{ fields: ['org', 'rank'] }, { fields: ['email'], unique: true }, { fields: ['id'] }];
        await store.ensureIndexes(c, indexes);
        await store.ensureIndexes(c, indexes);
        await store.write([
          { kind: 'upsert', collection: c, doc: { id: 'a', org: 'o', rank: 1, email: 'a@example.test' } },
          { kind: 'upsert', collection: c, doc: { id: 'b', org: 'o', rank: 2, email: 'b@example.test' } },
        ]);
        await expect(store.write([{ kind: 'upsert', collection: c, doc: { id: 'c', email: 'a@example.test' } }])).rejects.toThrow();
        expect(await store.get(c, 'c')).toBeNull();

        // Unique among the documents that hold a value: many may have none yet.
        await store.write([
          { kind: 'upsert', collection: c, doc: { id: 'd' } },
          { kind: 'upsert', collection: c, doc: { id: 'e', email: null } },
          { kind: 'upsert', collection: c, doc: { id: 'f' } },
        ]);
        expect(await store.count(c, { email: null })).toBe(3);
        expect(ids((await store.find(c, { org: 'o' }, { sort: [['rank', -1]] })).items)).toEqual(['b', 'a']);
      });

      it('drops every document of a collection, which stays usable', async () => {
        const c = freshCollection();
        const other = freshCollection();
        await store.write([
          { kind: 'upsert', collection: c, doc: { id: 'a' } },
          { kind: 'upsert', collection: c, doc: { id: 'b' } },
          { kind: 'upsert', collection: other, doc: { id: 'kept' } },
        ]);
        await store.drop(c);
        expect(await store.count(c, {})).toBe(0);
        expect(await store.get(c, 'a')).toBeNull();
        expect(ids((await store.find(other, {})).items)).toEqual(['kept']);

        await store.write([{ kind: 'upsert', collection: c, doc: { id: 'again' } }]);
        expect(ids((await store.find(c, {})).items)).toEqual(['again']);
      });

      it('answers a ping', async () => {
        expect(await store.ping()).toBe(true);
      });
    });

    describe('swapping collections', () => {
      it('exchanges the documents of two collections and stores the checkpoints with them', async () => {
        const live = freshCollection();
        const next = freshCollection();
        const checkpoint = `${live}-projection`;
        await store.write([{ kind: 'upsert', collection: live, doc: { id: 'old', v: 1 } }], { name: checkpoint, position: '5' });
        await store.write([
          { kind: 'upsert', collection: next, doc: { id: 'new1', v: 2 } },
          { kind: 'upsert', collection: next, doc: { id: 'new2', v: 3 } },
        ]);

        await store.swapCollections([[live, next]], [{ name: checkpoint, position: '9' }]);

        expect(ids((await store.find(live, {})).items)).toEqual(['new1', 'new2']);
        expect(await store.get(live, 'new2')).toEqual({ id: 'new2', v: 3 });
        expect(ids((await store.find(next, {})).items)).toEqual(['old']);
        expect(await store.getCheckpoint(checkpoint)).toBe('9');
      });

      it('keeps every collection indexed under its own name after a swap, twice over', async () => {
        const live = freshCollection();
        const next = freshCollection();
        const indexes = [{ fields: ['email'], unique: true }, { fields: ['org'] }];
        await store.ensureIndexes(live, indexes);
        await store.ensureIndexes(next, indexes);
        await store.write([{ kind: 'upsert', collection: next, doc: { id: 'a', email: 'a@example.test', org: 'o' } }]);

        await store.swapCollections([[live, next]]);
        await store.ensureIndexes(live, indexes);
        await store.ensureIndexes(next, indexes);
        await expect(store.write([{ kind: 'upsert', collection: live, doc: { id: 'b', email: 'a@example.test' } }])).rejects.toThrow();

        await store.write([{ kind: 'upsert', collection: live, doc: { id: 'c', email: 'c@example.test', org: 'o' } }]);
        await store.swapCollections([[live, next]]);
        await store.ensureIndexes(live, indexes);
        expect(await store.count(live, {})).toBe(0);
        expect(ids((await store.find(next, { org: 'o' })).items)).toEqual(['a', 'c']);
        await expect(store.write([{ kind: 'upsert', collection: next, doc: { id: 'd', email: 'c@example.test' } }])).rejects.toThrow();
      });

      it('treats a collection never written as empty, and swaps several pairs in one call', async () => {
        const [a, aNext, b, bNext] = [freshCollection(), freshCollection(), freshCollection(), freshCollection()];
        await store.write([
          { kind: 'upsert', collection: aNext, doc: { id: 'a1' } },
          { kind: 'upsert', collection: b, doc: { id: 'b-old' } },
        ]);

        await store.swapCollections([[a, aNext], [b, bNext]]);

        expect(ids((await store.find(a, {})).items)).toEqual(['a1']);
        expect(await store.count(aNext, {})).toBe(0);
        expect(await store.count(b, {})).toBe(0);
        expect(ids((await store.find(bNext, {})).items)).toEqual(['b-old']);
        await store.write([{ kind: 'upsert', collection: aNext, doc: { id: 'usable' } }]);
        expect(await store.get(aNext, 'usable')).toEqual({ id: 'usable' });
      });

      it('never shows a reader neither generation: every read during a swap sees the old or the new one whole', async () => {
        const live = freshCollection();
        const next = freshCollection();
        const generation = (name: string) => Array.from({ length: 20 }, (_, i) => ({ kind: 'upsert' as const, collection: name === 'old' ? live : next, doc: { id: `d${i}`, generation: name } }));
        await store.write(generation('old'));
        await store.write(generation('new'));

        const seen: string[] = [];
        let swapped = false;
        const reading = (async () => {
          while (!swapped) {
            const [one, page, total] = await Promise.all([store.get(live, 'd7'), store.find(live, {}), store.count(live, {})]);
            const generations = [...new Set(page.items.map((doc) => doc.generation))];
            seen.push(`get:${String(one?.generation)}`, `find:${generations.join(',')}:${page.items.length}`, `count:${total}`);
            // An adapter that answers synchronously would otherwise never let the swap run.
            await new Promise((resolve) => setImmediate(resolve));
          }
        })();
        await new Promise((resolve) => setTimeout(resolve, 20));
        await store.swapCollections([[live, next]]);
        await new Promise((resolve) => setTimeout(resolve, 20));
        swapped = true;
        await reading;
        await store.drop(next);

        expect(seen.length).toBeGreaterThan(0);
        for (const read of seen) expect(['get:old', 'get:new', 'find:old:20', 'find:new:20', 'count:20']).toContain(read);
        expect(await store.count(live, { generation: 'new' })).toBe(20);
      });

      it('refuses invalid names and a collection named twice, changing nothing', async () => {
        const c = freshCollection();
        await store.write([{ kind: 'upsert', collection: c, doc: { id: 'stays' } }]);
        await expect(store.swapCollections([[c, 'Not Valid']])).rejects.toThrow(TypeError);
        await expect(store.swapCollections([[c, freshCollection()], [c, freshCollection()]])).rejects.toThrow(TypeError);
        expect(ids((await store.find(c, {})).items)).toEqual(['stays']);
      });
    });
  });
}

/** The contract's order: null and missing first, then numbers, then strings, then booleans (false < true). */
function compareValues(x: Scalar | undefined, y: Scalar | undefined): number {
  const rank = (value: Scalar | undefined): number =>
    value === undefined || value === null ? 0 : typeof value === 'number' ? 1 : typeof value === 'string' ? 2 : 3;
  const byType = rank(x) - rank(y);
  if (byType !== 0) return Math.sign(byType);
  if (x === undefined || x === null || y === undefined || y === null) return 0;
  return x < y ? -1 : x > y ? 1 : 0;
}
