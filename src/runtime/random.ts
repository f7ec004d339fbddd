/**
 * Randomness for the runtime, injected like the clock: random_ids in production come from the OS; `stagger
 * simulate` and the tests use a seeded generator so a run can be repeated exactly.
 */
import { randomBytes } from 'node:crypto';

export interface RandomSource {
  /** A float in [0, 1). */
  nextFloat(): number;
  /** A non-zero signed 64-bit integer: a Telegram random_id. */
  nextRandomId(): bigint;
}

function toRandomId(hi: number, lo: number): bigint {
  const value = BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  return value === 0n ? 1n : value;
}

/** Bytes drawn from the OS at a time: one call for 512 random_ids instead of one each (a plan has thousands). */
const POOL_BYTES = 4096;

export class CryptoRandom implements RandomSource {
  private pool = Buffer.alloc(0);
  private offset = 0;

  private take(bytes: number): number {
    if (this.offset + bytes > this.pool.length) {
      this.pool = randomBytes(POOL_BYTES);
      this.offset = 0;
    }
    const at = this.offset;
    this.offset += bytes;
    return at;
  }

  nextFloat(): number {
    const at = this.take(4);
    return this.pool.readUInt32BE(at) / 2 ** 32;
  }
  nextRandomId(): bigint {
    const at = this.take(8);
    return toRandomId(this.pool.readUInt32BE(at), this.pool.readUInt32BE(at + 4));
  }
}

/** sfc32 (Chris Doty-Humphrey's small fast counter): tiny, fast, good statistical quality; seeded by a number. */
export class SeededRandom implements RandomSource {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = seed >>> 0;
    this.d = (Math.floor(seed / 2 ** 32) ^ 0xb7e15162) >>> 0;
    for (let i = 0; i < 15; i++) this.next32();
  }

  private next32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  nextFloat(): number {
    return this.next32() / 2 ** 32;
  }

  nextRandomId(): bigint {
    return toRandomId(this.next32(), this.next32());
  }
}
