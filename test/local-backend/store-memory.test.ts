import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('memory of the SQLite store', () => {
  it('stays flat however many threads are stored: nothing is loaded or sorted in JavaScript', () => {
    const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'scripts/store-memory.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', STORE_THREADS: '3000' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const steps = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { threads: number; heapUsedMb: number; usedBytesMb: number });
    expect(steps).toHaveLength(10);
    const first = steps[0];
    const last = steps.at(-1);
    if (!first || !last) throw new Error('no steps');
    // Ten times the data stored (about 3.5 MB of JSON), the JavaScript heap the same within 2 MB.
    expect(last.usedBytesMb).toBeGreaterThan(first.usedBytesMb * 8);
    expect(last.heapUsedMb - first.heapUsedMb).toBeLessThan(2);
  }, 150_000);
});
