/**
 * Turning what mtcute throws into the raw `TelegramAnswer` the core classifier reads, the refusals the adapter
 * answers itself, and the one 64-bit conversion the gateway needs (our bigint random_id → mtcute's Long).
 */
import { Long, MtPeerNotFoundError, MtTimeoutError, tl } from '@mtcute/core';
import type { TelegramAnswer } from '../../core/outcome.js';

/** Some of `RpcError`'s parsed fields: `fromTl` moves the number out of the text (`FLOOD_WAIT_%d` + `seconds`). */
interface RpcErrorArgs {
  seconds?: unknown;
  newDc?: unknown;
  dc?: unknown;
  minutes?: unknown;
  codeLength?: unknown;
  which?: unknown;
}

const MESSAGE_PREFIX = /^Telegram API error -?\d+: (\S+)$/;

export function isRpcError(error: unknown): error is tl.RpcError {
  return error instanceof Error && tl.RpcError.is(error);
}

/**
 * The error text exactly as Telegram sent it. mtcute 0.30.3 rewrites `text` of parameterised errors to a
 * template (`FLOOD_WAIT_30` → text `FLOOD_WAIT_%d`, `seconds: 30`); the message keeps the original, and the
 * parameter is put back if the message is not in the expected shape.
 */
export function rpcErrorText(error: tl.RpcError): string {
  const fromMessage = MESSAGE_PREFIX.exec(error.message)?.[1];
  if (fromMessage !== undefined) return fromMessage;
  const text = String(error.text);
  if (!text.includes('%d')) return text;
  const args = error as unknown as RpcErrorArgs;
  const value = [args.seconds, args.newDc, args.dc, args.minutes, args.codeLength, args.which].find(
    (v) => typeof v === 'number',
  );
  return value === undefined ? text : text.replace('%d', String(value));
}

/** A refusal in Telegram's words, for what the adapter decides without asking Telegram (or from its answer). */
export function refusal(error: string, code = 400): TelegramAnswer {
  return { ok: false, error, code };
}

/**
 * Whatever a call threw, as a raw answer: Telegram's error text and code; `TIMEOUT` for a call that timed out;
 * `PEER_ID_INVALID` when mtcute could not find a peer; `NETWORK_ERROR` for everything else (connection trouble,
 * an aborted call). Never throws.
 */
export function answerFromError(error: unknown): TelegramAnswer {
  if (isRpcError(error)) return { ok: false, error: rpcErrorText(error), code: error.code };
  if (error instanceof MtTimeoutError) return { ok: false, error: 'TIMEOUT' };
  if (error instanceof MtPeerNotFoundError) return { ok: false, error: 'PEER_ID_INVALID', code: 400 };
  return { ok: false, error: 'NETWORK_ERROR' };
}

/** What to log about an unexpected error: its kind and message, never an object that might carry a key. */
export function describeError(error: unknown): { errorName: string; errorMessage: string } {
  if (error instanceof Error) {
    const message = error.message.length > 300 ? `${error.message.slice(0, 297)}...` : error.message;
    return { errorName: error.name, errorMessage: message };
  }
  return { errorName: typeof error, errorMessage: '' };
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** A signed 64-bit bigint as mtcute's `Long` (signed), bit for bit. Throws RangeError outside int64. */
export function bigintToLong(value: bigint): Long {
  if (value < INT64_MIN || value > INT64_MAX) {
    throw new RangeError(`random_id ${value} is outside the signed 64-bit range`);
  }
  const bits = BigInt.asUintN(64, value);
  const low = Number(bits & 0xffffffffn) | 0;
  const high = Number(bits >> 32n) | 0;
  return Long.fromBits(low, high, false);
}

/** mtcute's `Long` as a bigint (signed or unsigned as the Long says). */
export function longToBigint(value: Long): bigint {
  const bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
  return value.unsigned ? bits : BigInt.asIntN(64, bits);
}
