/**
 * Counting words, one rule for every layer (the API's messages, the dashboard, the CLI): "1 session", "3 sessions",
 * "0 sessions". English has two forms; the plural is the noun with an `s` unless it is given.
 */

/** The noun in the form that goes with `n`: `noun(1, 'session')` is `session`, `noun(2, 'session')` `sessions`. */
export function noun(n: number, singular: string, plural = `${singular}s`): string {
  return n === 1 ? singular : plural;
}

/** `n` and its noun: `count(1, 'session')` is `1 session`, `count(3, 'session')` `3 sessions`. */
export function count(n: number, singular: string, plural?: string): string {
  return `${n} ${noun(n, singular, plural)}`;
}

/** The verb "to be" that goes with `n` things: `1 session is`, `2 sessions are`. */
export function isAre(n: number): 'is' | 'are' {
  return n === 1 ? 'is' : 'are';
}

/** Names joined as English lists them: `a`, `a and b`, `a, b and c`. */
export function listOf(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * A clause to follow a colon in a sentence that ends with its own full stop: its final stop is dropped, so that
 * `Cycle 3 stopped: ${clause('Stopped by the customer.')}.` reads "…: Stopped by the customer." and not "..".
 */
export function clause(text: string): string {
  return text.replace(/[.\s]+$/u, '');
}
