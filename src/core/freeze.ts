/**
 * Frozen accounts (Telegram, 2025): a frozen account can still sign in and read its own settings, but every call
 * that does something answers FROZEN_METHOD_INVALID. Telegram says so in the account's app config
 * (`freeze_since_date`, `freeze_until_date`, `freeze_appeal_url`): frozen since a date, deleted at the until date
 * unless an appeal through the link lifts the freeze first. Stagger reads it when a session is checked and when a
 * client connects, stores it, and never posts from a frozen account.
 */

/** What Telegram said of a freeze. Times are epoch milliseconds. */
export interface FreezeState {
  since: number;
  /** When Telegram deletes the account unless the freeze is lifted; null when it gave no date. */
  until: number | null;
  /** Where the account's owner appeals; null when Telegram gave none. */
  appealUrl: string | null;
}

/**
 * Frozen at `at`: a freeze is recorded and the account's deletion date has not come. From that date on the account
 * is gone rather than frozen: its next call says so (USER_DEACTIVATED), and the session is retired as any deleted
 * account. `since` is not compared with `at`: Telegram's word that the account is frozen counts even when this
 * machine's clock is behind Telegram's.
 */
export function frozenAt(freeze: FreezeState | null | undefined, at: number): boolean {
  if (!freeze) return false;
  return freeze.until === null || at < freeze.until;
}
