import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

/**
 * A throwaway PostgreSQL cluster in a temporary directory, on a free port, that a test may stop
 * and start at will without touching the machine's shared server. Runs the Debian binaries of
 * /usr/lib/postgresql/<version>/bin; as root, through `runuser -u postgres` (PostgreSQL refuses
 * to run as root).
 */
export interface PgCluster {
  readonly url: string;
  start(): void;
  stop(): void;
  /**
   * `pg_ctl restart`, without blocking the test's event loop (its load goes on): `fast` rolls back
   * open transactions and disconnects every client, `immediate` aborts without a checkpoint.
   */
  restart(mode: 'fast' | 'immediate'): Promise<void>;
  /** SIGKILL to the postmaster, as a crash or an OOM kill would; `startAgain()` brings it back. */
  killPostmaster(): void;
  /** `start()` without blocking, tried again while a killed postmaster's backends still hold the data. */
  startAgain(): Promise<void>;
  destroy(): void;
}

function binDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const dir = join(base, version, 'bin');
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return undefined;
}

const isRoot = process.getuid?.() === 0;

/** Why a throwaway cluster cannot run here, or undefined when it can. */
export function throwawayClusterUnavailable(): string | undefined {
  if (!binDir()) return 'no PostgreSQL binaries in /usr/lib/postgresql/*/bin';
  if (isRoot && !existsSync('/usr/sbin/runuser') && !existsSync('/usr/bin/runuser')) return 'root without runuser';
  if (isRoot) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    } catch {
      return 'root, and no postgres user to run the cluster as';
    }
  }
  return undefined;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function startThrowawayCluster(): Promise<PgCluster> {
  const bin = binDir();
  if (!bin) throw new Error('no PostgreSQL binaries');
  const dir = mkdtempSync(join(tmpdir(), 'pg-cluster-'));
  const data = join(dir, 'data');
  const port = await freePort();
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const argv = (tool: string, args: string[]): [string, string[]] =>
    isRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
  const run = (tool: string, args: string[]) => {
    const [command, rest] = argv(tool, args);
    execFileSync(command, rest, { stdio: 'pipe', timeout: 60_000 });
  };
  const runAsync = async (tool: string, args: string[]) => {
    const [command, rest] = argv(tool, args);
    await promisify(execFile)(command, rest, { timeout: 60_000 });
  };
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const startArgs = ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start'];
  const cluster: PgCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () => run('pg_ctl', startArgs),
    stop: () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    restart: (mode) =>
      runAsync('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-m', mode, '-w', 'restart']),
    async startAgain() {
      // After a SIGKILL of the postmaster, its orphaned backends hold the shared memory until they
      // notice and exit (a few ms): a start before that fails, and is tried again.
      for (let attempt = 1; ; attempt++) {
        try {
          await runAsync('pg_ctl', startArgs);
          return;
        } catch (error) {
          if (attempt >= 20) throw error;
          await sleep(100);
        }
      }
    },
    killPostmaster: () => {
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGKILL');
    },
    destroy: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already stopped.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  cluster.start();
  return cluster;
}
