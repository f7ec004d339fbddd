import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

describe('logger', () => {
  it('redacts credentials wherever they appear in a log line', () => {
    const lines: string[] = [];
    const logger = createLogger({
      destination: new Writable({
        write(chunk, _e, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    logger.info(
      {
        authString: 'AUTH-SECRET',
        session: { authString: 'NESTED-SECRET', apiHash: 'HASH-SECRET' },
        login: { code: '12345', password: 'hunter2' },
        req: { headers: { authorization: 'Bearer stg_TOKEN' } },
        token: 'stg_OTHER',
      },
      'something happened',
    );
    const text = lines.join('');
    expect(text).toContain('something happened');
    for (const secret of [
      'AUTH-SECRET',
      'NESTED-SECRET',
      'HASH-SECRET',
      '12345',
      'hunter2',
      'stg_TOKEN',
      'stg_OTHER',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('[redacted]');
  });
});
