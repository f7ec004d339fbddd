/**
 * Structured logs (pino). Credentials never reach a log line: known secret fields are redacted wherever they
 * appear, and the request logger never sees the Authorization header. A person at a terminal reads one short
 * line per entry (pino-pretty); anything else (a file, a pipe, a log collector) gets JSON lines.
 */
import pino from 'pino';
import pinoPretty from 'pino-pretty';

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

/** LOG_LEVEL: pino's levels; `debug` adds a line per HTTP request, `silent` turns logging off. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** LOG_FORMAT: `auto` picks by where the lines go; `json` and `pretty` say it outright. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormatSetting = (typeof LOG_FORMATS)[number];
export type LogFormat = Exclude<LogFormatSetting, 'auto'>;

/** Readable lines for a terminal, JSON lines for anything that is not one (a machine reads those). */
export function logFormatFor(setting: LogFormatSetting, stream: { isTTY?: boolean }): LogFormat {
  if (setting !== 'auto') return setting;
  return stream.isTTY === true ? 'pretty' : 'json';
}

/**
 * pino-pretty over `destination` (a file descriptor or a stream): one line per entry, its fields on the same line,
 * colours only on a terminal that has not asked for none (NO_COLOR). It formats what pino wrote, so it only ever
 * sees lines whose secrets pino has already redacted. Written synchronously: a person reads these lines, few of
 * them, and a line logged before the banner is printed shows above it, not among its tokens.
 */
function prettyStream(
  destination: number | pino.DestinationStream,
  colorize: boolean,
): pino.DestinationStream {
  return pinoPretty({
    destination,
    colorize,
    singleLine: true,
    sync: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname',
  });
}

/**
 * A logger writing to `destination` (a stream, or a file descriptor: default stdout) in `format` (default JSON).
 * Tests pass a stream; the long-running commands use `createProcessLogger`.
 */
export function createLogger(
  options: {
    level?: string;
    destination?: number | pino.DestinationStream;
    format?: LogFormat;
    colorize?: boolean;
  } = {},
): PinoLogger {
  const target = options.destination;
  const destination =
    options.format === 'pretty'
      ? prettyStream(target ?? 1, options.colorize ?? false)
      : typeof target === 'number'
        ? pino.destination({ fd: target, sync: false })
        : target;
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    destination,
  );
}

/**
 * The logger of a long-running command (`serve`, `worker`): to stderr, so stdout keeps what a person reads (the
 * address, the tokens); pretty on a terminal, JSON otherwise (LOG_FORMAT overrides).
 */
export function createProcessLogger(options: { level: string; format: LogFormatSetting }): PinoLogger {
  return createLogger({
    level: options.level,
    destination: 2,
    format: logFormatFor(options.format, process.stderr),
    colorize: process.stderr.isTTY === true && !process.env.NO_COLOR,
  });
}
