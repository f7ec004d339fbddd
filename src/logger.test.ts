import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, logFormatFor, type LogFormat, type PinoLogger } from './logger.js';

function sink(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  return {
    lines,
    stream: new Writable({
      write(chunk, _e, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  };
}

const SECRETS = ['AUTH-SECRET', 'NESTED-SECRET', 'HASH-SECRET', '12345', 'hunter2', 'stg_TOKEN', 'stg_OTHER'];

/** What a logger in `format` wrote for the entries `write` made (pino-pretty formats on its own stream's turn). */
async function logged(format: LogFormat, write: (logger: PinoLogger) => void): Promise<string> {
  const { lines, stream } = sink();
  write(createLogger({ destination: stream, format }));
  await new Promise((resolve) => setImmediate(resolve));
  return lines.join('');
}

describe('logger', () => {
  it.each(['json', 'pretty'] as const)(
    'redacts credentials wherever they appear in a log line (%s)',
    async (format) => {
      const text = await logged(format, (logger) =>
        logger.info(
          {
            authString: 'AUTH-SECRET',
            session: { authString: 'NESTED-SECRET', apiHash: 'HASH-SECRET' },
            login: { code: '12345', password: 'hunter2' },
            req: { headers: { authorization: 'Bearer stg_TOKEN' } },
            token: 'stg_OTHER',
          },
          'something happened',
        ),
      );
      expect(text).toContain('something happened');
      for (const secret of SECRETS) expect(text).not.toContain(secret);
      expect(text).toContain('[redacted]');
    },
  );

  it('writes JSON lines by default and one readable line per entry in pretty format', async () => {
    const json = await logged('json', (logger) => logger.warn({ botId: '7' }, 'session paused'));
    expect(JSON.parse(json)).toMatchObject({ level: 40, botId: '7', msg: 'session paused' });

    const pretty = await logged('pretty', (logger) => {
      logger.warn({ botId: '7' }, 'session paused');
      logger.info({ cycle: 2 }, 'cycle.started');
    });
    expect(pretty).toMatch(
      /^\[\d\d:\d\d:\d\d\] WARN: session paused \{"botId":"7"\}\n\[\d\d:\d\d:\d\d\] INFO: cycle\.started \{"cycle":2\}\n$/,
    );
    // No colour codes unless asked for (a file or pipe forced to pretty stays plain text).
    expect(pretty).not.toContain('\u001b[');
  });

  it('chooses readable lines for a terminal and JSON for anything else, unless LOG_FORMAT says', () => {
    expect(logFormatFor('auto', { isTTY: true })).toBe('pretty');
    expect(logFormatFor('auto', { isTTY: false })).toBe('json');
    expect(logFormatFor('auto', {})).toBe('json');
    expect(logFormatFor('json', { isTTY: true })).toBe('json');
    expect(logFormatFor('pretty', { isTTY: false })).toBe('pretty');
  });
});
