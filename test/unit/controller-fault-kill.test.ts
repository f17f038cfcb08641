/**
 * The controller process (`sag controller`, a real child on SQLite) killed with SIGKILL in the
 * middle of a burst of concurrent API writes: after a restart on the same database every change
 * that was answered 2xx is there, a change in flight may or may not be, nothing else is, and
 * `PRAGMA integrity_check` is clean. Several rounds on the same file, so recovery after one kill is
 * the start of the next burst. SAG_FAULT_KILL_ROUNDS sets the number of rounds (default 3).
 *
 * The store-level crash test (controller-store-crash.test.ts) covers the store alone; this one
 * covers the HTTP layer acknowledging only what the store committed.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAtTeardown, startControllerChild } from '../support/controller-process.js';

const KEY = 'sagk_fault_kill_key_0123456789abcdefghij';
const ROUNDS = Number(process.env.SAG_FAULT_KILL_ROUNDS ?? 3);
const WRITERS = 12;

interface Cen {
  id: string;
  name: string;
}

async function call(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * One writer: creates CENs and renames the ones it created, recording each acknowledged change.
 * A rename is only attempted on a CEN whose creation was acknowledged; each is renamed at most
 * once, so after the crash its name is the new one if the rename was acknowledged.
 */
async function writer(
  url: string,
  tag: string,
  acked: Map<string, string>,
  inFlight: Map<string, string>,
  stop: () => boolean,
): Promise<void> {
  const mine: string[] = [];
  for (let n = 0; !stop(); n++) {
    try {
      if (n % 3 === 2 && mine.length > 0) {
        const id = mine.shift()!;
        const name = `${tag}-${n}-renamed`;
        inFlight.set(id, name);
        const res = await call(url, 'PATCH', `/v1/cens/${id}`, { name });
        if (res.status === 200) acked.set(id, name);
      } else {
        const name = `${tag}-${n}`;
        const res = await call(url, 'POST', '/v1/cens', { name });
        if (res.status === 201) {
          acked.set((res.body as Cen).id, name);
          mine.push((res.body as Cen).id);
        }
      }
    } catch {
      return; // the connection died with the process
    }
  }
}

test('kill -9 during a burst of concurrent API writes loses no acknowledged change', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hd-ctl-kill-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'controller.db');
  const acked = new Map<string, string>(); // CEN id -> name, as last acknowledged
  const inFlight = new Map<string, string>(); // CEN id -> a rename sent, perhaps not answered
  for (let round = 0; round < ROUNDS; round++) {
    // --insecure-http: the crash, not TLS, is under test; fetch is the plainest client
    const child = await startControllerChild(
      ['--db', db, '--listen', '127.0.0.1:0', '--quiet', '--insecure-http'],
      { SAG_API_KEY: KEY },
    );
    killAtTeardown(t, child);
    const before = acked.size;
    let killed = false;
    const writers = Array.from({ length: WRITERS }, (_, w) =>
      writer(child.url, `r${round}w${w}`, acked, inFlight, () => killed),
    );
    // Kill once this round has acknowledged a good number of writes, at an unpredictable moment.
    const target = before + 60 + Math.floor(Math.random() * 60);
    const start = Date.now();
    while (acked.size < target && Date.now() - start < 15_000) await new Promise((r) => setTimeout(r, 2));
    child.proc.kill('SIGKILL');
    killed = true;
    await child.exit;
    await Promise.all(writers);
    t.true(
      acked.size >= target,
      `round ${round}: only ${acked.size - before} writes acknowledged before the kill`,
    );

    const db3 = new Database(db, { readonly: true });
    const integrity = db3.pragma('integrity_check', { simple: true });
    db3.close();
    t.is(integrity, 'ok', `round ${round}: integrity_check after kill -9`);
  }

  const last = await startControllerChild(
    ['--db', db, '--listen', '127.0.0.1:0', '--quiet', '--insecure-http'],
    { SAG_API_KEY: KEY },
  );
  killAtTeardown(t, last);
  const list = await call(last.url, 'GET', '/v1/cens');
  t.is(list.status, 200);
  const stored = new Map((list.body.items as Cen[]).map((c) => [c.id, c.name]));
  const lost: string[] = [];
  for (const [id, name] of acked) {
    const got = stored.get(id);
    // The acknowledged name, or a later rename that was in flight when the process died.
    if (got !== name && got !== inFlight.get(id)) lost.push(`${id}: acknowledged ${name}, stored ${got}`);
  }
  t.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged changes lost`);
  // At most one in-flight create per writer per round can exist beyond what was acknowledged.
  t.true(stored.size - acked.size <= WRITERS * ROUNDS, `${stored.size} stored, ${acked.size} acknowledged`);
  t.true(acked.size >= ROUNDS * 60);
  last.proc.kill('SIGTERM');
  t.is(await last.exit, 0);
});
