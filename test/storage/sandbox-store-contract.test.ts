/** The sandbox's store contract on memory, SQLite and PostgreSQL (several processes share one sandbox). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePostgres } from '../support/postgres.js';
import { sourceViewKey } from '../../src/telegram/sandbox/sandbox-store.js';
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

  it('reads what a forward meets in one view, and reading takes nothing', async () => {
    const link = 'https://t.me/view_chan/5';
    const q = { accountId: 'rv', groupKey: '-1007/3', baseKey: '-1007', sourceLink: link, now: 1_000 };
    // Nothing stored: no fault, no account row, no source state, no group.
    expect(await fx.sandbox.readForward(q)).toEqual({
      fault: null,
      status: null,
      bucket: null,
      sourceState: null,
      group: null,
      lastDeliveryAt: null,
    });
    await fx.sandbox.addFault({
      accountId: 'rv',
      groupKey: '-1007/3',
      method: 'forward',
      fromAt: 500,
      error: 'SLOWMODE_WAIT_9',
      remaining: 1,
    });
    await fx.sandbox.putAccount({ id: 'rv', status: 'limited' });
    await fx.sandbox.putSourceState(link, 'deleted');
    await fx.sandbox.putSourceState(sourceViewKey(link, 'rv'), 'private');
    // The topic lives in its group: the group is found by its base key.
    const group = {
      key: '-1007',
      isChannel: false,
      members: null,
      readOnly: [],
      banned: [],
      slowmodeSeconds: 60,
      paidStars: 0,
      closedTopics: [3],
    };
    await fx.sandbox.putGroup(group);
    await fx.sandbox.insertDelivery({
      accountId: 'rv',
      groupKey: '-1007/3',
      randomId: '11',
      sourceLink: link,
      at: 900,
      trace: {},
    });
    const view = await fx.sandbox.readForward(q);
    expect(view).toMatchObject({
      fault: { error: 'SLOWMODE_WAIT_9' },
      status: 'limited',
      bucket: { tokens: null, updatedAt: null },
      sourceState: 'private',
      group,
      lastDeliveryAt: 900,
    });
    // Read twice, the fault is still there: only a write takes its use.
    expect((await fx.sandbox.readForward(q)).fault).toEqual(view.fault);
    // The account's own view of the source decides; another account sees the post's state.
    expect((await fx.sandbox.readForward({ ...q, accountId: 'other' })).sourceState).toBe('deleted');
    // A group without slow mode does not need the last delivery.
    await fx.sandbox.putGroup({ ...group, slowmodeSeconds: 0 });
    expect((await fx.sandbox.readForward(q)).lastDeliveryAt).toBeNull();
    // The target's own key wins over its base key.
    await fx.sandbox.putGroup({ ...group, key: '-1007/3', paidStars: 5 });
    expect((await fx.sandbox.readForward(q)).group).toMatchObject({ key: '-1007/3', paidStars: 5 });
  });

  it('writes a forward only where the world is as read: one use of a fault, a bucket that has not moved', async () => {
    await fx.sandbox.addFault({
      accountId: 'wf',
      groupKey: null,
      method: 'forward',
      fromAt: 0,
      error: 'TIMEOUT',
      remaining: 1,
    });
    const q = {
      accountId: 'wf',
      groupKey: '-1008',
      baseKey: '-1008',
      sourceLink: 'https://t.me/w/1',
      now: 5,
    };
    const { fault } = await fx.sandbox.readForward(q);
    expect(await fx.sandbox.writeForward({ kind: 'fault', faultId: fault!.id })).toEqual([]);
    // Its last use was taken: a second call that read it reads again, and finds none.
    expect(await fx.sandbox.writeForward({ kind: 'fault', faultId: fault!.id })).toBeNull();
    expect((await fx.sandbox.readForward(q)).fault).toBeNull();

    const delivery = (randomId: string, at: number) => ({
      accountId: 'wf',
      groupKey: '-1008',
      randomId,
      sourceLink: 'https://t.me/w/1',
      at,
      trace: { postId: randomId },
    });
    const read = (await fx.sandbox.readForward(q)).bucket;
    expect(read).toBeNull();
    const first = await fx.sandbox.writeForward({
      kind: 'call',
      accountId: 'wf',
      read,
      bucket: { tokens: 29, updatedAt: 5 },
      deliveries: [delivery('9223372036854775001', 5), delivery('-9223372036854775001', 5)],
    });
    expect(first).toMatchObject([{ status: 'inserted' }, { status: 'inserted' }]);
    const ids = first!.map((r) => (r.status === 'inserted' ? r.id : 0));
    expect(ids[1]!).toBeGreaterThan(ids[0]!);
    // Another call that read the same (empty) bucket came too late: nothing of it is written.
    expect(
      await fx.sandbox.writeForward({
        kind: 'call',
        accountId: 'wf',
        read,
        bucket: { tokens: 29, updatedAt: 5 },
        deliveries: [delivery('77', 5)],
      }),
    ).toBeNull();
    const moved = (await fx.sandbox.readForward({ ...q, now: 6 })).bucket;
    expect(moved).toEqual({ tokens: 29, updatedAt: 5 });
    // Read again, it applies; a random_id delivered before is a duplicate.
    expect(
      await fx.sandbox.writeForward({
        kind: 'call',
        accountId: 'wf',
        read: moved,
        bucket: { tokens: 28.5, updatedAt: 6 },
        deliveries: [delivery('77', 6), delivery('9223372036854775001', 6)],
      }),
    ).toMatchObject([{ status: 'inserted' }, { status: 'duplicate' }]);
    // A stale read of a bucket that moved since writes nothing either.
    expect(
      await fx.sandbox.writeForward({
        kind: 'call',
        accountId: 'wf',
        read: moved,
        bucket: { tokens: 28, updatedAt: 7 },
        deliveries: [delivery('78', 7)],
      }),
    ).toBeNull();
    const mine = (await fx.sandbox.listDeliveries()).filter((d) => d.accountId === 'wf');
    expect(mine.map((d) => [d.randomId, d.at])).toEqual([
      ['9223372036854775001', 5],
      ['-9223372036854775001', 5],
      ['77', 6],
    ]);
    expect((await fx.sandbox.readForward(q)).bucket).toEqual({ tokens: 28.5, updatedAt: 6 });
  });

  it('forwards of one instant: each reads and writes as if alone; two of one account, the second reads again', async () => {
    const accounts = ['c1', 'c2', 'c3', 'c4'];
    const q = (accountId: string) => ({
      accountId,
      groupKey: '-1009',
      baseKey: '-1009',
      sourceLink: 'https://t.me/c/1',
      now: 10,
    });
    const statements = () => fx.store?.statements?.snapshot().sandbox ?? 0;
    const before = statements();
    const views = await Promise.all([...accounts, 'c1'].map((a) => fx.sandbox.readForward(q(a))));
    // On PostgreSQL the five reads were one statement (one round trip).
    if (engine === 'postgres') expect(statements() - before).toBe(1);
    expect(views.every((v) => v.bucket === null && v.fault === null)).toBe(true);
    const writes = await Promise.all(
      [...accounts, 'c1'].map((accountId, i) =>
        fx.sandbox.writeForward({
          kind: 'call',
          accountId,
          read: views[i]!.bucket,
          bucket: { tokens: 1, updatedAt: 10 },
          deliveries: [
            {
              accountId,
              groupKey: '-1009',
              randomId: String(500 + i),
              sourceLink: 'https://t.me/c/1',
              at: 10,
              trace: {},
            },
          ],
        }),
      ),
    );
    // One statement for the four accounts; c1's second write waited for the next one (an account's bucket is
    // compared and moved once a statement).
    if (engine === 'postgres') expect(statements() - before).toBe(3);
    expect(writes.slice(0, 4)).toMatchObject(accounts.map(() => [{ status: 'inserted' }]));
    // c1's second call read the bucket before the first one took its token: it must read again.
    expect(writes[4]).toBeNull();
    const delivered = (await fx.sandbox.listDeliveries()).filter((d) => d.groupKey === '-1009');
    expect(delivered.map((d) => d.randomId).sort()).toEqual(['500', '501', '502', '503']);
  });
});
