/**
 * Structured logs (pino). Credentials never reach a log line: known secret fields are redacted wherever they
 * appear, and the request logger never sees the Authorization header.
 */
import pino from 'pino';

/**
 * What every part logs through: structured lines at three levels. The process's pino logger (and each child of
 * it) is one; tests and embedders that want no output pass `silentLogger`.
 */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** The process's root logger: children per part, plain-message lines, and Fastify's request logging. */
export type PinoLogger = pino.Logger;

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

export function createLogger(
  options: { level?: string; destination?: pino.DestinationStream } = {},
): PinoLogger {
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    options.destination,
  );
}
