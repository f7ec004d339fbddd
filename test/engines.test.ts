/**
 * The Node versions package.json's `engines` names are the ones every installed package supports: a dependency
 * that wants a newer Node (npm ci's EBADENGINE warning) fails here, naming the package and what it wants, instead
 * of surfacing as a warning on a user's first install. Read from the lock file, so it covers what `npm ci` installs
 * on every platform (optional per-platform builds included), not only what this machine has.
 */
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

interface LockEntry {
  version?: string;
  engines?: { node?: string } | string[];
}

const root = new URL('../', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  engines: { node: string };
};
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, LockEntry>;
};
const ours = manifest.engines.node;

/** Each installed package with the Node range it declares (old packages may declare `engines` as a list). */
function declaredNodeRanges(): { name: string; range: string }[] {
  return Object.entries(lock.packages).flatMap(([path, entry]) => {
    const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
    if (path === '' || range === undefined) return [];
    return [{ name: `${path.replace(/^.*node_modules\//, '')}@${entry.version ?? '?'}`, range }];
  });
}

describe('the Node versions engines names', () => {
  it('is a valid range, and the lock file was written from this package.json', () => {
    expect(semver.validRange(ours)).not.toBeNull();
    expect((lock.packages['']?.engines as { node?: string } | undefined)?.node).toBe(ours);
  });

  it('are supported by every installed package that declares engines.node', () => {
    const ranges = declaredNodeRanges();
    // The lock file of this project declares hundreds of packages; an empty list means the reading broke.
    expect(ranges.length).toBeGreaterThan(50);
    // Every Node version in our range must be in theirs. Our range is one comparator set per release line, which
    // is the shape semver.subset compares exactly (a set of ours must fit in one set of theirs).
    const unsupported = ranges
      .filter(({ range }) => !semver.subset(ours, range))
      .map(({ name, range }) => `${name} wants node ${range}`);
    expect(unsupported).toEqual([]);
  });

  it('starts at a version every installed package admits (the oldest Node a user may run)', () => {
    const lowest = semver.minVersion(ours)!.version;
    const refusing = declaredNodeRanges()
      .filter(({ range }) => !semver.satisfies(lowest, range))
      .map(({ name, range }) => `${name} wants node ${range}`);
    expect(refusing).toEqual([]);
  });
});
