/**
 * Tests never reach the network: a TCP connection to anything but this machine (127.0.0.0/8, ::1, `localhost`)
 * throws. Telegram is stubbed at mtcute's network layer and PostgreSQL runs locally, so a connection elsewhere is
 * a bug — most likely a real mtcute client (its default transport dials Telegram's data centres) built where a
 * test expected the offline harness. Without this guard such a test could connect to Telegram with a test's
 * session key, or just hang until a timeout; with it, it fails at once and names the address.
 *
 * Every TCP client of Node — `net.connect`, `tls.connect`, `http`/`https`, `fetch` — ends in
 * `net.Socket.prototype.connect`, so that is the one place patched. It checks before calling the original: no DNS
 * lookup and no socket is made for a refused address. A hostname other than `localhost` is refused without being
 * resolved. Unix sockets (`path`) are allowed. Child processes a test spawns do not load this file.
 */
import net from 'node:net';

const PATCHED = Symbol.for('stagger.test.network-guard');

const loopback = new net.BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** Whether a connection to `host` stays on this machine. IPv4-mapped IPv6 (`::ffff:127.0.0.1`) counts. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost') return true;
  const family = net.isIP(name);
  return family !== 0 && loopback.check(name, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The host and port of `socket.connect(...)`'s arguments, or null for a unix socket. The forms are Node's:
 * `(options[, cb])`, `(path[, cb])`, `(port[, host][, cb])`, and the array `net.connect` passes on internally.
 */
function targetOf(args: unknown[]): { host: string; port: unknown } | null {
  const [first, second] = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  if (typeof first === 'object' && first !== null) {
    const options = first as { path?: unknown; host?: unknown; port?: unknown };
    if (options.path !== undefined && options.path !== null) return null;
    return {
      host: typeof options.host === 'string' && options.host ? options.host : 'localhost',
      port: options.port,
    };
  }
  // A string that is not a number is a pipe path (Node's own rule).
  if (typeof first === 'string' && Number.isNaN(Number(first))) return null;
  return { host: typeof second === 'string' && second ? second : 'localhost', port: first };
}

const sockets = net.Socket.prototype as net.Socket & { [PATCHED]?: true };
if (!sockets[PATCHED]) {
  const connect = sockets.connect;
  sockets.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const target = targetOf(args);
    if (target && !isLoopbackHost(target.host)) {
      throw new Error(
        `network guard: tests may not connect to ${target.host}:${String(target.port)} — only loopback ` +
          '(127.0.0.0/8, ::1, localhost) and unix sockets are allowed (test/support/network-guard.ts)',
      );
    }
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof sockets.connect;
  sockets[PATCHED] = true;
}
