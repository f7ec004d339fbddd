import { describe, expect, it } from 'vitest';
import { CryptoRandom } from './random.js';

describe('random_ids from the OS', () => {
  it('draws thousands (across refills of its pool) that are distinct, non-zero and signed 64-bit', () => {
    const random = new CryptoRandom();
    const ids = new Set<bigint>();
    // Floats between ids put the pool's offset off the 8-byte grid: a refill must still give whole ids.
    for (let i = 0; i < 3000; i++) {
      const id = random.nextRandomId();
      expect(id).not.toBe(0n);
      expect(id).toBeGreaterThanOrEqual(-(2n ** 63n));
      expect(id).toBeLessThan(2n ** 63n);
      ids.add(id);
      const f = random.nextFloat();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
    }
    expect(ids.size).toBe(3000);
  });
});
