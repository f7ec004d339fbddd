/**
 * The network guard every test file runs with (test/support/network-guard.ts): a connection that would leave this
 * machine throws synchronously, before Node makes a socket handle or a DNS lookup — so the documentation addresses
 * used here (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32) never see a packet. Loopback and unix sockets work.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';

// Read before this file loads the guard module itself: vitest's setup must have installed it for every file.
const installedBySetup = Symbol.for('stagger.test.network-guard') in net.Socket.prototype;
const { isLoopbackHost } = await import('./support/network-guard.js');

const refused = (address: string) => new RegExp(`^network guard: tests may not connect to ${address} `);

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function listening(server: net.Server, ...at: unknown[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    (server.listen as (...a: unknown[]) => void)(...at, () => resolve());
  });
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
}

function connected(socket: net.Socket): Promise<void> {
  cleanups.push(() => void socket.destroy());
  return new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
}

describe('the network guard', () => {
  it('is installed for every test file (vitest.config.ts setupFiles)', () => {
    expect(installedBySetup).toBe(true);
  });

  it('net.connect to a non-loopback address throws synchronously, naming the address', () => {
    expect(() => net.connect({ host: '192.0.2.1', port: 9 })).toThrow(refused('192.0.2.1:9'));
    expect(() => net.connect(9, '192.0.2.1')).toThrow(refused('192.0.2.1:9'));
    expect(() => net.createConnection({ host: '2001:db8::1', port: 443 })).toThrow(
      refused('2001:db8::1:443'),
    );
    // an IPv4-mapped IPv6 address is judged by its IPv4 address
    expect(() => net.connect({ host: '::ffff:192.0.2.1', port: 9 })).toThrow(refused('::ffff:192.0.2.1:9'));
  });

  it('throws before Node does anything: no socket handle, not connecting, no DNS lookup', () => {
    const socket = new net.Socket();
    expect(() => socket.connect(9, '192.0.2.1')).toThrow(refused('192.0.2.1:9'));
    // Socket#connect makes its TCP handle first thing; none means the real connect never ran.
    expect((socket as unknown as { _handle: unknown })._handle).toBeNull();
    expect(socket.connecting).toBe(false);
    socket.destroy();

    const lookup = vi.fn();
    expect(() => net.connect({ host: 'api.telegram.example', port: 443, lookup })).toThrow(
      refused('api.telegram.example:443'),
    );
    expect(lookup).not.toHaveBeenCalled();
  });

  it('tls, http and fetch go through the same check', async () => {
    expect(() => tls.connect({ host: '198.51.100.7', port: 443 })).toThrow(refused('198.51.100.7:443'));
    expect(() => http.get('http://192.0.2.1:8080/')).toThrow(refused('192.0.2.1:8080'));
    const failed = await fetch('http://192.0.2.1:8080/').then(
      () => null,
      (error: unknown) => error as Error & { cause?: Error },
    );
    expect(failed?.cause?.message).toMatch(refused('192.0.2.1:8080'));
  });

  it('loopback (by address and as localhost) and unix sockets still connect', async () => {
    const server = net.createServer((s) => s.end());
    await listening(server, 0, '127.0.0.1');
    const { port } = server.address() as net.AddressInfo;
    await connected(net.connect(port, '127.0.0.1'));
    await connected(net.connect({ port, host: 'localhost', family: 4 }));

    const dir = mkdtempSync(join(tmpdir(), 'stagger-guard-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const unix = net.createServer((s) => s.end());
    const path = join(dir, 'guard.sock');
    await listening(unix, path);
    await connected(net.connect({ path }));
    await connected(net.connect(path));
  });

  it('what counts as loopback', () => {
    for (const host of [
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      'localhost',
      'LOCALHOST.',
    ]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of [
      '0.0.0.0',
      '10.0.0.1',
      '128.0.0.1',
      '192.0.2.1',
      '::',
      '::ffff:10.0.0.1',
      'localhost.example',
      'example.com',
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});
