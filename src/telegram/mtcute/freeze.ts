/**
 * Reading a freeze from the account's app config (`help.getAppConfig`): Telegram puts `freeze_since_date`,
 * `freeze_until_date` (unix seconds) and `freeze_appeal_url` there for a frozen account, and leaves them out
 * otherwise. Whether the account is frozen at a time is core/freeze.ts's rule.
 */
import type { tl } from '@mtcute/core';
import type { TelegramClient } from '@mtcute/node';
import type { FreezeState } from '../../core/freeze.js';
import { NO_FLOOD_SLEEP } from './client-factory.js';

function valueAt(config: tl.TypeJSONValue, key: string): tl.TypeJSONValue | null {
  if (config._ !== 'jsonObject') return null;
  return config.value.find((v) => v.key === key)?.value ?? null;
}

/** A positive unix time in seconds (a number, or a string of digits) as epoch ms; null otherwise. */
function secondsAt(config: tl.TypeJSONValue, key: string): number | null {
  const value = valueAt(config, key);
  const seconds =
    value?._ === 'jsonNumber'
      ? value.value
      : value?._ === 'jsonString' && /^\d{1,12}$/.test(value.value)
        ? Number(value.value)
        : null;
  return seconds !== null && Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : null;
}

/** Only a web link is kept: the dashboard shows it as a link, so nothing else (`javascript:`, `tg:`) gets through. */
function appealUrlAt(config: tl.TypeJSONValue): string | null {
  const value = valueAt(config, 'freeze_appeal_url');
  if (value?._ !== 'jsonString' || value.value.length > 2048) return null;
  try {
    const url = new URL(value.value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : null;
  } catch {
    return null;
  }
}

/** The freeze the app config describes; null when it describes none (no `freeze_since_date`). */
export function freezeFromAppConfig(config: tl.TypeJSONValue): FreezeState | null {
  const since = secondsAt(config, 'freeze_since_date');
  if (since === null) return null;
  return { since, until: secondsAt(config, 'freeze_until_date'), appealUrl: appealUrlAt(config) };
}

/**
 * Asks Telegram for the account's app config: the freeze it describes (null: none), or `unknown` when the answer
 * says nothing either way (not modified). Errors are thrown, for the caller to judge.
 */
export async function readFreeze(
  tg: TelegramClient,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<FreezeState | null | 'unknown'> {
  const answer = await tg.call(
    { _: 'help.getAppConfig', hash: 0 },
    {
      ...NO_FLOOD_SLEEP,
      timeout: options.timeoutMs,
      ...(options.signal ? { abortSignal: options.signal } : {}),
    },
  );
  return answer._ === 'help.appConfig' ? freezeFromAppConfig(answer.config) : 'unknown';
}
