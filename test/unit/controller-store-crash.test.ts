/**
 * Durability under kill -9. A child process applies commands to a SQLite store
 * as fast as it can and prints each acknowledged change; we SIGKILL it mid-burst,
 * reopen the file and check that every acknowledged change is there, that at
 * most the one in-flight command went further, and that the file is sound.
 * Three rounds run against the same file, so recovery after a kill is also a
 * starting point for the next burst.
 *
 * (A process kill does not lose the OS page cache, so this cannot prove the
 * fsync part of synchronous=FULL; it proves commit-then-acknowledge and that
 * recovery from a torn WAL works.)
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openSqliteStore } from '../../src/controller/store/index.js';

const STORE_MODULE = pathToFileURL(resolve('src/controller/store/index.ts')).href;

/** Each line the child prints: {v: version acknowledged, ...what it changed}. */
interface Ack {
  v: number;
  cen?: string;
  name?: string;
  renamed?: string;
  serial?: string;
  token?: string;
}

const CHILD = `
import { openSqliteStore } from ${JSON.stringify(STORE_MODULE)};
const [path, round] = process.argv.slice(2);
const store = openSqliteStore({ path });
const ctx = (i) => ({ actor: 'crash-test', at: i });
const say = (ack) => process.stdout.write(JSON.stringify(ack) + '\\n');
for (let i = 0; ; i++) {
  const cen = 'cen-r' + round + '-' + i;
  say({ v: (await store.apply({ kind: 'cen.create', id: cen, name: 'n' + i }, ctx(i))).version, cen, name: 'n' + i });
  if (i % 3 === 2) {
    const prev = 'cen-r' + round + '-' + (i - 1);
    say({ v: (await store.apply({ kind: 'cen.update', id: prev, name: 'renamed' + i }, ctx(i))).version, cen: prev, renamed: 'renamed' + i });
  }
  if (i % 5 === 0) {
    const serial = 'SN-R' + round + '-' + i;
    const key = Buffer.alloc(32, 7);
    key.writeUInt32BE(Number(round) * 1000000 + i + 1);
    const out = await store.apply({ kind: 'device.register', serial, model: 'app', publicKey: key.toString('base64'), softwareVersion: '1' }, ctx(i));
    say({ v: out.version, serial, token: out.deviceToken });
  }
}
`;

interface Burst {
  acks: Ack[];
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the child until it has acknowledged `killAfter` changes, then SIGKILLs it. */
function burst(script: string, dbPath: string, round: number, killAfter: number): Promise<Burst> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, dbPath, String(round)], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acks: Ack[] = [];
    let pending = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) acks.push(JSON.parse(line) as Ack);
      if (acks.length >= killAfter && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('error', fail);
    // 'close' waits for stdout to drain, so every line written before the kill is counted.
    child.on('close', (_code, signal) => done({ acks, signal, stderr }));
  });
}

test('every acknowledged change survives SIGKILL mid-burst', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sag-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'child.mts');
  writeFileSync(script, CHILD);
  const dbPath = join(dir, 'controller.db');

  for (const [round, killAfter] of [
    [1, 150],
    [2, 400],
    [3, 250],
  ] as const) {
    const { acks, signal, stderr } = await burst(script, dbPath, round, killAfter);
    t.is(signal, 'SIGKILL', `round ${round}: the child should have been killed, not exit: ${stderr}`);
    t.true(acks.length >= killAfter, `round ${round}: ${acks.length} acks`);

    const store = openSqliteStore({ path: dbPath });
    try {
      const state = await store.load();
      const last = acks[acks.length - 1] as Ack;
      // The child applies one command at a time: at most one committed but not yet acknowledged.
      t.true(
        state.version === last.v || state.version === last.v + 1,
        `round ${round}: stored version ${state.version}, last ack ${last.v}`,
      );
      const renamed = new Map(
        acks.filter((a) => a.renamed).map((a) => [a.cen as string, a.renamed as string]),
      );
      let missing = 0;
      for (const ack of acks) {
        if (ack.name !== undefined) {
          const cen = state.cens[ack.cen as string];
          const acked = renamed.get(ack.cen as string);
          // An acknowledged rename must be there; the one unacknowledged in-flight rename may be too.
          const ok =
            acked !== undefined
              ? cen?.name === acked
              : cen?.name === ack.name || cen?.name.startsWith('renamed') === true;
          if (!ok) missing++;
        }
        if (ack.serial !== undefined) {
          if (
            !state.devices[ack.serial] ||
            (await store.authenticateDevice(ack.token as string)) !== ack.serial
          )
            missing++;
        }
      }
      t.log(`round ${round}: ${acks.length} acks, last ${last.v}, stored ${state.version}`);
      t.is(missing, 0, `round ${round}: acknowledged changes lost`);
      t.deepEqual(store.integrityCheck(), [], `round ${round}: integrity`);
      // Entity rows, version and audit entry commit together: one audit entry per version.
      let entries = 0;
      for (
        let page = await store.audit({ limit: 1000 });
        page.length > 0;
        page = await store.audit({ after: page[page.length - 1]!.seq, limit: 1000 })
      ) {
        entries += page.length;
      }
      t.is(entries, state.version, `round ${round}: audit entries`);
    } finally {
      await store.close();
    }
  }
});
