/**
 * The server side of Telegram's SRP 2FA check (auth.checkPassword), for offline tests: a wrong password is really
 * wrong, and the right one really passes mtcute's client-side computation.
 */
import { Long, type tl } from '@mtcute/core';
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const toBig = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
const toBytes = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(512, '0'), 'hex');
function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return result;
}

export class SrpServer {
  readonly salt1 = randomBytes(16);
  readonly salt2 = randomBytes(16);
  readonly pBytes: Buffer;
  readonly g = 3n;
  private readonly p: bigint;
  private readonly v: bigint;
  private readonly b = toBig(randomBytes(256));
  readonly B: Buffer;

  constructor(password: string) {
    const p = randomBytes(256);
    p[0]! |= 0x80;
    p[255]! |= 1;
    this.pBytes = p;
    this.p = toBig(p);
    const sh = (data: Uint8Array, salt: Uint8Array) => sha256(salt, data, salt);
    const ph1 = sh(sh(Buffer.from(password), this.salt1), this.salt2);
    const x = toBig(sh(pbkdf2Sync(ph1, this.salt1, 100_000, 64, 'sha512'), this.salt2));
    this.v = modPow(this.g, x, this.p);
    const k = toBig(sha256(this.pBytes, toBytes(this.g)));
    this.B = toBytes((k * this.v + modPow(this.g, this.b, this.p)) % this.p);
  }

  passwordInfo(hint: string): tl.account.RawPassword {
    return {
      _: 'account.password',
      hasPassword: true,
      hint,
      currentAlgo: {
        _: 'passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow',
        salt1: this.salt1,
        salt2: this.salt2,
        g: Number(this.g),
        p: this.pBytes,
      },
      srpB: this.B,
      srpId: Long.fromInt(77),
      newAlgo: { _: 'passwordKdfAlgoUnknown' },
      newSecureAlgo: { _: 'securePasswordKdfAlgoUnknown' },
      secureRandom: randomBytes(32),
    };
  }

  check(srp: tl.TypeInputCheckPasswordSRP): boolean {
    if (srp._ !== 'inputCheckPasswordSRP') return false;
    const A = toBig(srp.A);
    const u = toBig(sha256(srp.A, this.B));
    const S = modPow((A * modPow(this.v, u, this.p)) % this.p, this.b, this.p);
    const K = sha256(toBytes(S));
    const hp = sha256(this.pBytes);
    const hg = sha256(toBytes(this.g));
    const xor = Buffer.from(hp.map((byte, i) => byte ^ hg[i]!));
    const M1 = sha256(xor, sha256(this.salt1), sha256(this.salt2), srp.A, this.B, K);
    return M1.equals(Buffer.from(srp.M1));
  }
}
