/** The sandbox's store contract on memory, SQLite and PostgreSQL (several processes share one sandbox). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePostgres } from '../support/postgres.js';
import { fixtureFor, type EngineName, type Fixture } from '../support/store-fixture.js';

const engines: EngineName[] = ['memory', 'sqlite'];
if (await requirePostgres('sandbox store contract')) engines.push('postgres');

describe.each(engines)('sandbox store contract on %s', (engine) => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await fixtureFor(engine);
  });
  afterAll(async () => {
    await fx.close();
  });

  it('deduplicates deliveries on (account, random_id) and records the rest exactly', async () => {
    const base = { groupKey: '-1001', sourceLink: 'https://t.me/x_chan/1', trace: { postId: '7' } };
    const first = await fx.sandbox.insertDelivery({
      ...base,
      accountId: 'a',
      randomId: '9223372036854775001',
      at: 10,
    });
    expect(first).toMatchObject({ status: 'inserted' });
    expect(
      await fx.sandbox.insertDelivery({ ...base, accountId: 'a', randomId: '9223372036854775001', at: 20 }),
    ).toEqual({ status: 'duplicate' });
    // The same random_id from another account is another message.
    const second = await fx.sandbox.insertDelivery({
      ...base,
      accountId: 'b',
      randomId: '9223372036854775001',
      at: 30,
    });
    expect(second).toMatchObject({ status: 'inserted' });
    const all = await fx.sandbox.listDeliveries();
    expect(all.map((d) => [d.accountId, d.randomId, d.at, d.trace])).toEqual([
      ['a', '9223372036854775001', 10, { postId: '7' }],
      ['b', '9223372036854775001', 30, { postId: '7' }],
    ]);
    // A delivery's id is the message's id in the group: the one stored, increasing.
    const ids = [first, second].map((r) => (r.status === 'inserted' ? r.id : null));
    expect(ids).toEqual(all.map((d) => d.id));
    expect(ids[1]!).toBeGreaterThan(ids[0]!);
    expect(await fx.sandbox.lastDeliveryAt('a', '-1001')).toBe(10);
    expect(await fx.sandbox.lastDeliveryAt('a', '-1002')).toBeNull();
  });

  it('keeps a source post’s album beside its state, each set without changing the other', async () => {
    const link = 'https://t.me/x_chan/11';
    expect(await fx.sandbox.getSourceAlbum(link)).toBeNull();
    await fx.sandbox.putSourceAlbum(link, [10, 11, 12]);
    expect(await fx.sandbox.getSourceAlbum(link)).toEqual([10, 11, 12]);
    expect(await fx.sandbox.getSourceState(link)).toBe('ok');
    await fx.sandbox.putSourceState(link, 'protected');
    expect(await fx.sandbox.getSourceAlbum(link)).toEqual([10, 11, 12]);
    await fx.sandbox.putSourceAlbum(link, [11, 12]);
    expect(await fx.sandbox.getSourceState(link)).toBe('protected');
    expect(await fx.sandbox.getSourceAlbum(link)).toEqual([11, 12]);
    expect(await fx.sandbox.getSourceAlbum('https://t.me/x_chan/12')).toBeNull();
  });

  it('hands each use of a fault to exactly one call, from its time on', async () => {
    await fx.sandbox.addFault({
      accountId: 'f',
      groupKey: null,
      method: 'forward',
      fromAt: 100,
      error: 'PEER_FLOOD',
      remaining: 2,
    });
    expect(await fx.sandbox.takeFault('f', '-1', 'forward', 50)).toBeNull();
    expect(await fx.sandbox.takeFault('f', '-1', 'source', 150)).toBeNull();
    expect(await fx.sandbox.takeFault('other', '-1', 'forward', 150)).toBeNull();
    expect(await fx.sandbox.takeFault('f', '-1', 'forward', 150)).toBe('PEER_FLOOD');
    expect(await fx.sandbox.takeFault('f', '-1', 'forward', 151)).toBe('PEER_FLOOD');
    expect(await fx.sandbox.takeFault('f', '-1', 'forward', 152)).toBeNull();
    await fx.sandbox.addFault({
      accountId: null,
      groupKey: '-9',
      method: null,
      fromAt: 0,
      error: 'TIMEOUT',
      remaining: -1,
    });
    for (let i = 0; i < 3; i++) expect(await fx.sandbox.takeFault('any', '-9', 'forward', 1)).toBe('TIMEOUT');
  });

  it('limits each account with a token bucket', async () => {
    const policy = { burst: 2, refillPerSecond: 0.5 };
    expect(await fx.sandbox.takeFloodToken('fl', 0, policy)).toEqual({ ok: true });
    expect(await fx.sandbox.takeFloodToken('fl', 0, policy)).toEqual({ ok: true });
    expect(await fx.sandbox.takeFloodToken('fl', 0, policy)).toEqual({ ok: false, waitSeconds: 2 });
    expect(await fx.sandbox.takeFloodToken('fl', 2_000, policy)).toEqual({ ok: true });
    expect(await fx.sandbox.takeFloodToken('other-account', 0, policy)).toEqual({ ok: true });
  });

  it('keeps accounts, groups and source posts', async () => {
    await fx.sandbox.putAccount({ id: 'acc', status: 'revoked' });
    expect(await fx.sandbox.getAccount('acc')).toEqual({ id: 'acc', status: 'revoked' });
    const group = {
      key: '-1005',
      isChannel: false,
      members: ['acc'],
      readOnly: [],
      banned: ['x'],
      slowmodeSeconds: 30,
      paidStars: 25,
      closedTopics: [7, 9],
    };
    await fx.sandbox.putGroup(group);
    expect(await fx.sandbox.getGroup('-1005')).toEqual(group);
    // A group put without paid messages or closed topics reads back as free, with none closed.
    const { paidStars: _p, closedTopics: _c, ...plain } = group;
    await fx.sandbox.putGroup({ ...plain, members: null });
    expect(await fx.sandbox.getGroup('-1005')).toMatchObject({
      members: null,
      paidStars: 0,
      closedTopics: [],
    });
    await fx.sandbox.putSourceState('https://t.me/x_chan/2', 'protected');
    expect(await fx.sandbox.getSourceState('https://t.me/x_chan/2')).toBe('protected');
    expect(await fx.sandbox.getSourceState('https://t.me/x_chan/3')).toBeNull();
  });
});
