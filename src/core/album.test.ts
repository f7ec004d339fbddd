import { describe, expect, it } from 'vitest';
import { albumSize, messagesToForward, sourceReadStep } from './album.js';
import { classifyAnswer, classifyError } from './outcome.js';

const link = { canonical: 'https://t.me/chan/11', messageId: 11 };
const album = { link: 'https://t.me/chan/11', messageIds: [10, 11, 12] };

describe('messagesToForward: what one post forwards', () => {
  it('the album read at planning, each message with the post’s random_id in order', () => {
    expect(messagesToForward(album, link, ['-5', '7', '9223372036854775807'])).toEqual({
      messageIds: [10, 11, 12],
      randomIds: ['-5', '7', '9223372036854775807'],
    });
  });

  it('the link’s one message when the source was not read at planning', () => {
    expect(messagesToForward(null, link, ['-5'])).toEqual({ messageIds: [11], randomIds: ['-5'] });
  });

  it('the new link’s one message, with the first random_id, when the link changed since planning', () => {
    const changed = { canonical: 'https://t.me/other/11', messageId: 11 };
    expect(messagesToForward(album, changed, ['-5', '7', '8'])).toEqual({
      messageIds: [11],
      randomIds: ['-5'],
    });
  });

  it('never a message without a random_id of its own', () => {
    expect(messagesToForward(album, link, ['-5'])).toEqual({ messageIds: [10], randomIds: ['-5'] });
  });
});

describe('albumSize: what the preview says of the post', () => {
  it('the size of the last read while it is of the link set now', () => {
    expect(albumSize(album, 'https://t.me/chan/11')).toBe(3);
    expect(albumSize({ link: 'https://t.me/chan/5', messageIds: [5] }, 'https://t.me/chan/5')).toBe(1);
  });

  it('unknown without a read, for another link, or without a link', () => {
    expect(albumSize(null, 'https://t.me/chan/11')).toBeNull();
    expect(albumSize(album, 'https://t.me/chan/12')).toBeNull();
    expect(albumSize(album, null)).toBeNull();
  });
});

describe('sourceReadStep: after one session’s read at planning', () => {
  it('uses a read that succeeded', () => {
    expect(sourceReadStep(classifyAnswer({ ok: true }, 'source'))).toBe('use');
  });

  it('asks the next session when this one cannot see the chat, is dead, is limited, or gave no clear answer', () => {
    for (const [error, code] of [
      ['CHANNEL_PRIVATE', 400],
      ['PEER_ID_INVALID', 400],
      ['AUTH_KEY_UNREGISTERED', 401],
      ['SOMETHING_NEW', 400],
      ['FLOOD_WAIT_30', 420],
      ['PEER_FLOOD', 400],
    ] as const) {
      expect(sourceReadStep(classifyError(error, code, 'source')), error).toBe('next');
    }
    expect(sourceReadStep(null)).toBe('next');
  });

  it('stops asking on a protected or missing post (the same for everyone)', () => {
    for (const [error, code] of [
      ['CHAT_FORWARDS_RESTRICTED', 400],
      ['MSG_ID_INVALID', 400],
    ] as const) {
      expect(sourceReadStep(classifyError(error, code, 'source')), error).toBe('stop');
    }
  });
});
