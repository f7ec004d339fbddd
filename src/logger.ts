/**
 * Structured logs (pino). Credentials never reach a log line: known secret fields are redacted wherever they
 * appear, and the request logger never sees the Authorization header.
 */
import pino, { type Logger } from 'pino';

export const REDACTED_PATHS = [
  'authString',
  'apiHash',
  'api_hash',
  'token',
  'password',
  'code',
  'phoneCodeHash',
  'secretKey',
  '*.authString',
  '*.apiHash',
  '*.api_hash',
  '*.token',
  '*.password',
  '*.code',
  '*.phoneCodeHash',
  '*.session',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
];

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    options.destination,
  );
}

export type { Logger };
