/** A customer with sandbox sessions, a sandbox post, groups and settings: a bot ready to start. */
import type { BotSettings } from '../../src/core/model.js';
import type { Store } from '../../src/storage/store.js';
import type { PlanType } from '../../src/storage/users.js';

export interface SeededBot {
  botId: string;
  userId: string;
  token: string;
}

export async function seedBot(
  store: Store,
  spec: {
    name: string;
    sessions: number;
    groups: string[];
    settings?: Partial<BotSettings>;
    planType?: PlanType;
  },
): Promise<SeededBot> {
  const user = await store.users.create({
    name: spec.name,
    maxSessions: spec.sessions,
    planType: spec.planType ?? null,
  });
  for (let s = 0; s < spec.sessions; s++) {
    await store.sessions.create({ ownerUserId: user.id, label: `s${s}`, driver: 'sandbox' });
  }
  const botId = await store.bots.ensureForUser(user.id);
  await store.bots.setPostLink(botId, 'https://t.me/stagger_demo/1');
  await store.bots.setGroups(botId, spec.groups);
  if (spec.settings) await store.bots.setSettings(botId, spec.settings);
  return { botId, userId: user.id, token: (await store.users.issueToken(user.id)).token };
}

/** `count` distinct group ids starting at `-100<base>`. */
export function groupIds(count: number, base: number): string[] {
  return Array.from({ length: count }, (_, i) => `-100${base + i}`);
}
