// Jest global setup/teardown: gives the suite a real PostgreSQL server.
// - EXALATE_TEST_DATABASE_URL set: use that server.
// - otherwise: start a throwaway cluster from Debian's postgresql package on a free loopback port
//   (as the `postgres` user when running as root, because the server refuses to run as root).
// - EXALATE_TEST_SKIP_POSTGRES=1: no server; the PostgreSQL half of the suite is skipped, loudly.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, chownSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const STATE = Symbol.for('exalate.test.postgres');

function pgBin() {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  return which.status === 0 ? join(which.stdout.trim(), '..') : null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export default async function setup() {
  if (process.env.EXALATE_TEST_DATABASE_URL || process.env.EXALATE_TEST_SKIP_POSTGRES === '1') return;
  const bin = pgBin();
  if (!bin) {
    throw new Error(
      'The test suite needs PostgreSQL: install Debian\'s "postgresql" package (bash .ci/run does), ' +
        'or set EXALATE_TEST_DATABASE_URL to a server, or set EXALATE_TEST_SKIP_POSTGRES=1 to skip those tests.',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'exalate-pg-'));
  const asRoot = process.getuid?.() === 0;
  const run = (cmd, args) => {
    const full = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    execFileSync(full[0], full[1], { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  run(join(bin, 'initdb'), ['-D', data, '-U', 'exalate', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  globalThis[STATE] = { bin, dir, data, run };
  process.env.EXALATE_TEST_DATABASE_URL = `postgres://exalate@127.0.0.1:${port}/postgres`;
}

export async function teardown() {
  const state = globalThis[STATE];
  if (!state) return;
  try {
    state.run(join(state.bin, 'pg_ctl'), ['-D', state.data, '-m', 'immediate', 'stop']);
  } finally {
    rmSync(state.dir, { recursive: true, force: true });
  }
}
