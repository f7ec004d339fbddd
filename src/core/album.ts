/**
 * Albums: photos sent together are one message each in Telegram, tied by a `grouped_id`, and forwarding one id
 * sends one photo. A post that is part of an album is read when its cycle is planned (which messages make it up),
 * and every post of the cycle forwards all of them, each with its own random_id fixed then — so a retry after a
 * crash sends the same messages with the same random_ids, and Telegram drops every one it already has.
 */
import type { Outcome } from './outcome.js';

/** The source post as read when a cycle was planned: the link read, and the ids of its messages in order. */
export interface SourcePost {
  link: string;
  /** An album: every message of it, in order (the linked one among them). Otherwise the linked message alone. */
  messageIds: number[];
}

/** What one forward sends: these messages of the source chat, with one random_id each (decimal int64). */
export interface ForwardedMessages {
  messageIds: number[];
  randomIds: string[];
}

/**
 * The messages a post forwards: the album read at planning while the link is still the one read, else the link's
 * own message (the post was planned before albums were read, no session could read the source then, or the link
 * changed since) — always paired with the post's random_ids in order, one each.
 */
export function messagesToForward(
  planned: SourcePost | null,
  link: { canonical: string; messageId: number },
  randomIds: readonly string[],
): ForwardedMessages {
  const ids = planned && planned.link === link.canonical ? planned.messageIds : [link.messageId];
  const n = Math.min(ids.length, randomIds.length);
  return { messageIds: ids.slice(0, n), randomIds: randomIds.slice(0, n) };
}

/** How many messages the post at `link` is, by the last read of it; null when no read of this link is known. */
export function albumSize(read: SourcePost | null, link: string | null): number | null {
  return read && link !== null && read.link === link ? read.messageIds.length : null;
}

/**
 * After one session's read of the source at planning: `use` what it read; ask the `next` session (this one cannot
 * see the chat, is dead, is limited — a limit is the account's own, the next account is not under it — or gave no
 * clear answer); or `stop` asking — the post is protected or gone (the same for every session: the cycle's check
 * stops the cycle). When nobody could read it, the cycle forwards the link's one message.
 * `null`: the session gave no answer (transient failures until the retries ran out).
 */
export function sourceReadStep(outcome: Outcome | null): 'use' | 'next' | 'stop' {
  if (outcome === null) return 'next';
  switch (outcome.kind) {
    case 'sent':
      return 'use';
    case 'source_invalid':
      return 'stop';
    default:
      return 'next';
  }
}
