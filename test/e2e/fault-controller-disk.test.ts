/**
 * The controller's database on a real filesystem that fails (root: a small tmpfs mounted for the
 * test and unmounted after): a full disk and a read-only mount give API 503s with a stable code
 * and a message saying what to do, a read-only database gives a clear startup error, and in every
 * case `PRAGMA integrity_check` is clean and the controller works again once the fault is gone.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  failedControllerStart,
  killAtTeardown,
  pinnedCall,
  startControllerChild,
  type ControllerChild,
} from '../support/controller-process.js';
import { e2eSkipReason } from '../support/netns.js';

const skip = e2eSkipReason(['mount', 'umount']);
if (skip) console.log(`[skip] controller disk fault tests: ${skip}`);
const e2e = skip ? test.skip : test.serial;
const KEY = 'sagk_fault_disk_key_0123456789abcdefghijk';

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** A tmpfs of `size` mounted on a fresh directory, unmounted at teardown. */
function smallDisk(t: import('ava').ExecutionContext, size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hd-disk-'));
  run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'hdtmpfs', dir]);
  t.teardown(() => {
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

async function call(
  c: ControllerChild,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await pinnedCall(
    c,
    method,
    path,
    { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body ? JSON.stringify(body) : undefined,
  );
  let json: unknown;
  try {
    json = JSON.parse(res.text);
  } catch {
    json = undefined;
  }
  return { status: res.status, body: json };
}

function integrity(path: string): string {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

const start = (db: string) =>
  startControllerChild(['--db', db, '--listen', '127.0.0.1:0', '--quiet'], { SAG_API_KEY: KEY });

e2e(
  '1 a full disk: writes answer 503 ERR_STORE_FULL, reads still work, nothing is corrupted, writes resume once there is space',
  async (t) => {
    const disk = smallDisk(t, '4m');
    const db = join(disk, 'controller.db');
    const c = await start(db);
    killAtTeardown(t, c);
    t.is((await call(c, 'POST', '/v1/cens', { name: 'before' })).status, 201);
    // Fill the rest of the filesystem.
    spawnSync('dd', ['if=/dev/zero', `of=${join(disk, 'filler')}`, 'bs=64k'], { stdio: 'ignore' });
    let res = { status: 0, body: undefined as any };
    let acked = 1;
    for (let n = 0; n < 2000; n++) {
      res = await call(c, 'POST', '/v1/cens', { name: `fill-${n}-${'x'.repeat(100)}` });
      if (res.status !== 201) break;
      acked++;
    }
    t.is(res.status, 503, JSON.stringify(res.body));
    t.is(res.body?.error?.code, 'ERR_STORE_FULL');
    t.regex(res.body.error.message, /disk is full/);
    const list = await call(c, 'GET', '/v1/cens');
    t.is(list.status, 200, 'reads keep working');
    t.is(list.body.items.length, acked, 'every acknowledged write and nothing else');
    t.is((await call(c, 'GET', '/v1/health')).status, 200);

    rmSync(join(disk, 'filler'));
    t.is(
      (await call(c, 'POST', '/v1/cens', { name: 'after' })).status,
      201,
      'writes resume once there is space',
    );
    c.proc.kill('SIGTERM');
    t.is(await c.exit, 0);
    t.is(integrity(db), 'ok');
  },
);

e2e(
  '2 a read-only mount: a clear startup error naming the file, no corruption, and a clean start once writable',
  async (t) => {
    const disk = smallDisk(t, '8m');
    const db = join(disk, 'controller.db');
    const c = await start(db);
    killAtTeardown(t, c);
    t.is((await call(c, 'POST', '/v1/cens', { name: 'before' })).status, 201);
    c.proc.kill('SIGTERM');
    t.is(await c.exit, 0, c.stderr());
    run('mount', ['-o', 'remount,ro', disk]);

    const refused = await failedControllerStart(['--db', db, '--listen', '127.0.0.1:0'], {
      SAG_API_KEY: KEY,
    });
    t.is(refused.code, 1);
    t.regex(refused.stderr, /^sag: .*read-only.*controller\.db.*\(ERR_STORE_READ_ONLY\)\n$/m, refused.stderr);
    t.notRegex(refused.stderr, /\n\s+at /, 'no stack trace');

    run('mount', ['-o', 'remount,rw', disk]);
    t.is(integrity(db), 'ok');
    const back = await start(db);
    killAtTeardown(t, back);
    t.deepEqual(
      (await call(back, 'GET', '/v1/cens')).body.items.map((x: { name: string }) => x.name),
      ['before'],
    );
    t.is((await call(back, 'POST', '/v1/cens', { name: 'after' })).status, 201);
    back.proc.kill('SIGTERM');
    t.is(await back.exit, 0);
  },
);

e2e('3 a file that is not a database: a clear startup error, and the file is left as it was', async (t) => {
  const disk = smallDisk(t, '1m');
  const db = join(disk, 'controller.db');
  const text = 'this is not a sqlite database, it is text that someone put here by mistake\n'.repeat(10);
  writeFileSync(db, text);
  const r = await failedControllerStart(['--db', db, '--listen', '127.0.0.1:0'], { SAG_API_KEY: KEY });
  t.is(r.code, 1);
  t.regex(r.stderr, /^sag: .*controller\.db.*\(ERR_STORE_CORRUPT\)\n$/m, r.stderr);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  t.is(readFileSync(db, 'utf8'), text, 'the file is untouched');
});
