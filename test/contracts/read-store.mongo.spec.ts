import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import fc from 'fast-check';
import { MongoClient } from 'mongodb';
import { afterSwap, IDENTITY, physicalName } from '../../src/infrastructure/read-store/mongo.collection-map.js';
import { MongoReadStore } from '../../src/infrastructure/read-store/mongo.read-store.js';
import {
  groupByCollection,
  sortValues,
  toMongoFilter,
  toMongoIndex,
  toMongoKeyset,
  typesBeyond,
  toMongoSort,
  toMongoWriteModel,
} from '../../src/infrastructure/read-store/mongo.query.js';
import { normalizeSort } from '../../src/infrastructure/read-store/read-store.pagination.js';
import type { Filter, WriteOp } from '../../src/ports/read-store.port.js';
import { readStoreContract } from './read-store.contract.js';

const uri = process.env.MONGODB_URI;

if (uri) {
  readStoreContract('MongoDB', async () => {
    const client = await MongoClient.connect(uri);
    // A database of its own per run: the suite never touches data it did not create, and drops it all.
    const dbName = `tfe_read_store_contract_${randomBytes(4).toString('hex')}`;
    const store = new MongoReadStore(client, dbName);
    return {
      store,
      dispose: async () => {
        await client.db(dbName).dropDatabase();
        await store.close();
        await client.close();
      },
    };
  });
} else {
  describe('ReadStore contract: MongoDB', () => {
    it.skip('MONGODB_URI not set: start docker compose to run against MongoDB', () => undefined);
  });
}

describe('MongoDB query translation', () => {
  it('turns plain values into $eq and keeps the other operators', () => {
    expect(
      toMongoFilter({
        name: 'alice',
        active: true,
        tier: null,
        'profile.city': { $ne: 'Paris' },
        age: { $gte: 18, $lt: 65 },
        role: { $in: ['admin', null] },
        email: { $exists: false },
      }),
    ).toEqual({
      name: { $eq: 'alice' },
      active: { $eq: true },
      tier: { $eq: null },
      'profile.city': { $ne: 'Paris' },
      age: { $gte: 18, $lt: 65 },
      role: { $in: ['admin', null] },
      email: { $exists: false },
    });
  });

  it('maps id to _id in filters, sorts and indexes', () => {
    expect(toMongoFilter({ id: { $in: ['a', 'b'] } })).toEqual({ _id: { $in: ['a', 'b'] } });
    expect(toMongoSort(normalizeSort([['rank', -1]]))).toEqual({ rank: -1, _id: 1 });
    expect(Object.keys(toMongoSort(normalizeSort([['b', 1], ['a', -1]])))).toEqual(['b', 'a', '_id']);
    expect(toMongoSort(normalizeSort([['id', -1], ['ignored', 1]]))).toEqual({ _id: -1 });
  });

  it('refuses operators and shapes the SQLite adapter would not honour', () => {
    const refused: unknown[] = [
      { name: { $regex: '^a' } },
      { name: { $where: 'sleep(1000)' } },
      { name: { $elemMatch: { a: 1 } } },
      { name: { first: 'a' } },
      { name: {} },
      { $or: [{ a: 1 }] },
      { $where: 'true' },
      { 'items.0': 'x' },
      { _id: 'x' },
      { name: { $in: [{ $gt: '' }] } },
      { name: { $eq: { $gt: '' } } },
      { name: { $gt: false } },
    ];
    for (const filter of refused) expect(() => toMongoFilter(filter as Filter)).toThrow(TypeError);
  });

  it('builds a keyset over every sort key, ascending from a value', () => {
    const keys = normalizeSort([['rank', 1]]);
    expect(toMongoKeyset(keys, [3, 'r1'])).toEqual({
      $or: [
        { $or: [{ rank: { $gt: 3 } }, { rank: { $type: ['string', 'object', 'array', 'bool'] } }] },
        { $and: [{ rank: { $eq: 3 } }, { _id: { $gt: 'r1' } }] },
      ],
    });
  });

  it('continues past the cursor into the types MongoDB sorts after it, since $gt and $lt compare within one type', () => {
    expect(typesBeyond(3, 1)).toEqual(['string', 'object', 'array', 'bool']);
    expect(typesBeyond('m', 1)).toEqual(['object', 'array', 'bool']);
    expect(typesBeyond(true, 1)).toEqual([]);
    expect(typesBeyond(3, -1)).toEqual([]);
    expect(typesBeyond('m', -1)).toEqual(['number']);
    expect(toMongoKeyset(normalizeSort([['rank', -1]]), ['m', 'r1'])).toEqual({
      $or: [
        { $or: [{ rank: { $lt: 'm' } }, { rank: { $type: ['number'] } }, { rank: { $eq: null } }] },
        { $and: [{ rank: { $eq: 'm' } }, { _id: { $gt: 'r1' } }] },
      ],
    });
  });

  it('puts null and missing values first going up and last going down', () => {
    const ascending = normalizeSort([['rank', 1]]);
    expect(toMongoKeyset(ascending, [null, 'r1'])).toEqual({
      $or: [{ rank: { $ne: null } }, { $and: [{ rank: { $eq: null } }, { _id: { $gt: 'r1' } }] }],
    });

    const descending = normalizeSort([['rank', -1]]);
    expect(toMongoKeyset(descending, [2, 'r1'])).toEqual({
      $or: [
        { $or: [{ rank: { $lt: 2 } }, { rank: { $eq: null } }] },
        { $and: [{ rank: { $eq: 2 } }, { _id: { $gt: 'r1' } }] },
      ],
    });
    expect(toMongoKeyset(descending, [null, 'r1'])).toEqual({
      $or: [{ $and: [{ rank: { $eq: null } }, { _id: { $gt: 'r1' } }] }],
    });
  });

  it('matches nothing when no document can follow the cursor', () => {
    expect(toMongoKeyset([{ path: 'rank', direction: -1 }], [null])).toEqual({ _id: { $in: [] } });
  });

  it('reads cursor values from nested paths, missing as null, and refuses objects', () => {
    const keys = normalizeSort([['profile.city', 1], ['score', -1]]);
    expect(sortValues(keys, { id: 'u1', profile: { city: 'Paris' } })).toEqual(['Paris', null, 'u1']);
    expect(sortValues(keys, { id: 'u2', profile: 'flat', score: false })).toEqual([null, false, 'u2']);
    expect(() => sortValues(keys, { id: 'u3', profile: { city: { name: 'x' } } })).toThrow(TypeError);
  });

  it('ends non-unique indexes with _id so that they serve the id tie-break', () => {
    expect(toMongoIndex({ fields: ['orgId', 'joinedAt'] })).toEqual({ key: { orgId: 1, joinedAt: 1, _id: 1 } });
    expect(toMongoIndex({ fields: ['id'] })).toBeNull();
    expect(toMongoIndex({ fields: ['orgId', 'id'] })).toEqual({ key: { orgId: 1, _id: 1 } });
    expect(() => toMongoIndex({ fields: ['a.$b'] })).toThrow(TypeError);
  });

  it('makes unique indexes cover only documents where every field holds a value', () => {
    const types = ['string', 'number', 'bool', 'object', 'array'];
    expect(toMongoIndex({ fields: ['email'], unique: true })).toEqual({
      key: { email: 1 },
      unique: true,
      partialFilterExpression: { email: { $type: types } },
    });
    expect(toMongoIndex({ fields: ['orgId', 'slug'], unique: true })?.partialFilterExpression).toEqual({
      orgId: { $type: types },
      slug: { $type: types },
    });
  });

  it('translates each write operation to an idempotent bulk-write model', () => {
    const ops: WriteOp[] = [
      { kind: 'upsert', collection: 'users', doc: { id: 'u1', email: 'hash', twoFactor: { enabled: true } } },
      { kind: 'patch', collection: 'users', id: 'u1', set: { 'twoFactor.enabled': false }, unset: ['lockedUntil'] },
      { kind: 'patch', collection: 'users', id: 'u1' },
      { kind: 'patchMany', collection: 'users', filter: { orgId: 'o1' }, set: { mode: 'hard' } },
      { kind: 'delete', collection: 'users', id: 'u1' },
      { kind: 'deleteMany', collection: 'users', filter: { orgId: { $in: ['o1'] } } },
    ];
    expect(ops.map(toMongoWriteModel)).toEqual([
      { replaceOne: { filter: { _id: 'u1' }, replacement: { _id: 'u1', email: 'hash', twoFactor: { enabled: true } }, upsert: true } },
      { updateOne: { filter: { _id: 'u1' }, update: { $set: { 'twoFactor.enabled': false }, $unset: { lockedUntil: '' } }, upsert: false } },
      null,
      { updateMany: { filter: { orgId: { $eq: 'o1' } }, update: { $set: { mode: 'hard' } }, upsert: false } },
      { deleteOne: { filter: { _id: 'u1' } } },
      { deleteMany: { filter: { orgId: { $in: ['o1'] } } } },
    ]);
  });

  it('groups consecutive operations by collection without reordering them', () => {
    const op = (collection: string, id: string): WriteOp => ({ kind: 'delete', collection, id });
    const runs = groupByCollection([op('a', '1'), op('a', '2'), op('b', '3'), op('a', '4')]);
    expect(runs.map((run) => [run.collection, run.ops.map((o) => (o.kind === 'delete' ? o.id : ''))])).toEqual([
      ['a', ['1', '2']],
      ['b', ['3']],
      ['a', ['4']],
    ]);
  });
});

describe('MongoDB collection map (the rebuild switch)', () => {
  const names = ['users', 'users_next', 'organisations', 'organisations_next'];

  it('exchanges the physical collections of each pair, and a second swap restores the identity', () => {
    const once = afterSwap(IDENTITY, [['users', 'users_next'], ['organisations', 'organisations_next']]);

    expect(physicalName(once, 'users')).toBe('users_next');
    expect(physicalName(once, 'users_next')).toBe('users');
    expect(physicalName(once, 'organisations')).toBe('organisations_next');
    expect(physicalName(once, 'untouched')).toBe('untouched');
    expect(afterSwap(once, [['users', 'users_next'], ['organisations', 'organisations_next']])).toEqual(IDENTITY);
  });

  it('is a single value before or after the switch: a crash at any point leaves one whole generation live', () => {
    // The protocol's only durable step is writing the map (with the checkpoints) in one transaction.
    const before = afterSwap(IDENTITY, [['users', 'users_next']]);
    const committed = afterSwap(before, [['users', 'users_next']]);
    for (const map of [before, committed]) {
      const live = physicalName(map, 'users');
      const spare = physicalName(map, 'users_next');
      expect(new Set([live, spare])).toEqual(new Set(['users', 'users_next']));
    }
  });

  it('keeps every name on its own collection through any sequence of swaps', () => {
    const pair = fc.constantFrom<readonly [string, string]>(['users', 'users_next'], ['organisations', 'organisations_next'], ['users', 'organisations_next']);
    fc.assert(
      fc.property(fc.array(fc.array(pair, { minLength: 1, maxLength: 2 }), { maxLength: 12 }), (swaps) => {
        const map = swaps.reduce((current, pairs) => (new Set(pairs.flat()).size === pairs.length * 2 ? afterSwap(current, pairs) : current), IDENTITY);
        const physical = names.map((name) => physicalName(map, name));
        expect(new Set(physical).size).toBe(names.length);
        expect(new Set(physical)).toEqual(new Set(names));
      }),
    );
  });
});

describe('MongoDB read store against a server that never answers', () => {
  it('answers ping() with false within its own deadline, so /health/ready turns not ready', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`);
    const store = new MongoReadStore(client, 'never_answers', false, 300);
    try {
      const started = Date.now();

      expect(await store.ping()).toBe(false);
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
