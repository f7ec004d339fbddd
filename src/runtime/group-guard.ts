/**
 * The per-group guard: no group receives two posts from one customer closer than `min_group_gap_seconds` or the
 * group's known slow mode — whichever session sends them. The plan makes this true when nothing goes wrong; the
 * guard keeps it true when a FLOOD_WAIT stalls one session and the next one catches up.
 *
 * The rule (wait, go, or skip and why) is core/group-spacing.ts; this keeps what it reads.
 *
 * A send reserves the group before the call (so two sessions cannot both pass the check while one is on the
 * wire); a send that certainly did not arrive gives the reservation back.
 */

/** The chat a target posts into: topics of one forum are one group. */
export function chatOf(groupKey: string): string {
  const slash = groupKey.indexOf('/');
  return slash < 0 ? groupKey : groupKey.slice(0, slash);
}

export interface GuardReservation {
  chat: string;
  at: number;
  previous: number | undefined;
}

export class GroupGuard {
  private readonly last = new Map<string, number>();
  private readonly slowmode = new Map<string, number>();

  constructor(
    lastSent: ReadonlyMap<string, number> = new Map(),
    slowmodes: ReadonlyMap<string, number> = new Map(),
  ) {
    for (const [key, at] of lastSent) this.note(chatOf(key), at);
    for (const [key, seconds] of slowmodes) this.setSlowmode(key, seconds);
  }

  private note(chat: string, at: number): void {
    this.last.set(chat, Math.max(this.last.get(chat) ?? Number.NEGATIVE_INFINITY, at));
  }

  setSlowmode(groupKey: string, seconds: number): void {
    this.slowmode.set(chatOf(groupKey), seconds);
  }

  /** The group's slow mode in seconds as learned from Telegram; 0 when none is known. */
  slowmodeOf(groupKey: string): number {
    return this.slowmode.get(chatOf(groupKey)) ?? 0;
  }

  lastAt(groupKey: string): number | undefined {
    return this.last.get(chatOf(groupKey));
  }

  reserve(groupKey: string, at: number): GuardReservation {
    const chat = chatOf(groupKey);
    const reservation = { chat, at, previous: this.last.get(chat) };
    this.last.set(chat, at);
    return reservation;
  }

  /** The send did not arrive: the group's last post is what it was before (unless someone posted since). */
  release(reservation: GuardReservation): void {
    if (this.last.get(reservation.chat) !== reservation.at) return;
    if (reservation.previous === undefined) this.last.delete(reservation.chat);
    else this.last.set(reservation.chat, reservation.previous);
  }
}
