/**
 * Demo data, so that a new user sees posts flowing with no Telegram account: an operator, a demo customer on the
 * STARTER plan with three sandbox sessions, twenty sandbox groups and a sandbox post (and a second one, in an album of
 * three photos, to switch to). Seeded on the first start
 * of `stagger serve` with a fresh data directory, or on demand by `stagger demo`.
 */
import type { Store } from './storage/store.js';

export const DEMO_POST = 'https://t.me/stagger_demo/1';
/** A second sandbox post, one of an album of three photos (messages 2, 3, 4): each forward sends all three. */
export const DEMO_ALBUM_POST = 'https://t.me/stagger_demo/3';
export const DEMO_ALBUM = [2, 3, 4];
export const DEMO_GROUPS = Array.from({ length: 20 }, (_, i) => `-100${1_000_000_001 + i}`);

export interface DemoCredentials {
  adminId: string;
  adminToken: string;
  userId: string;
  token: string;
}

export async function seedDemo(store: Store): Promise<DemoCredentials> {
  const admin = await store.users.create({
    name: 'Operator',
    role: 'admin',
    planStatus: 'active',
    maxSessions: 100,
  });
  const customer = await store.users.create({
    name: 'Demo customer',
    role: 'user',
    planType: 'STARTER',
    planStatus: 'active',
    maxSessions: 3,
  });
  for (let i = 1; i <= 3; i++) {
    await store.sessions.create({ ownerUserId: customer.id, label: `sandbox ${i}`, driver: 'sandbox' });
  }
  const botId = await store.bots.ensureForUser(customer.id);
  await store.bots.setPostLink(botId, DEMO_POST);
  await store.bots.setGroups(botId, DEMO_GROUPS);
  for (const key of DEMO_GROUPS) {
    // Sandbox groups where every sandbox account is a member (Stagger never joins groups).
    await store.sandbox.putGroup({
      key,
      isChannel: false,
      members: null,
      readOnly: [],
      banned: [],
      slowmodeSeconds: 0,
    });
  }
  await store.sandbox.putSourceState(DEMO_POST, 'ok');
  await store.sandbox.putSourceAlbum(DEMO_ALBUM_POST, DEMO_ALBUM);
  const adminToken = (await store.users.issueToken(admin.id, 'demo operator')).token;
  const token = (await store.users.issueToken(customer.id, 'demo customer')).token;
  return { adminId: admin.id, adminToken, userId: customer.id, token };
}
