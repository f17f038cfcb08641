/**
 * The addon keeps no global state: it loads in worker threads, twice in one process, and a
 * worker that exits with a running dataplane is cleaned up without crashing the process.
 */
import test from 'ava';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Dataplane } from '../../src/dataplane/index.js';
import { packageRoot } from '../../src/native/binding.js';
import type { NativeAddon } from '../../src/native/types.js';
import { memoryTun } from '../../src/testing/index.js';

const fixture = new URL('../fixtures/worker-dataplane.ts', import.meta.url);

function runWorker(
  leaveRunning: boolean,
): Promise<{ message: { port: number; running: boolean }; exitCode: number }> {
  return new Promise((resolve, reject) => {
    // Workers do not inherit tsx's loader on Node 20: register it, then import the fixture.
    const boot = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(fixture.href)}); })`;
    const worker = new Worker(boot, { eval: true, workerData: { leaveRunning } });
    let message: { port: number; running: boolean } | undefined;
    worker.on('message', (m) => {
      message = m;
      if (leaveRunning) void worker.terminate();
    });
    worker.on('error', reject);
    worker.on('exit', (exitCode) =>
      message
        ? resolve({ message, exitCode })
        : reject(new Error(`worker exited ${exitCode} without reporting`)),
    );
  });
}

test('1 loads and runs in worker threads while the main thread has its own dataplane', async (t) => {
  const main = new Dataplane();
  t.teardown(() => main.close());
  main.openTun(memoryTun);
  main.start();
  const results = await Promise.all([runWorker(false), runWorker(false)]);
  for (const r of results) {
    t.true(r.message.running);
    t.true(r.message.port > 0);
  }
  t.true(main.running);
});

test('2 a worker terminated with a running dataplane is cleaned up by the env hook', async (t) => {
  const r = await runWorker(true);
  t.true(r.message.running);
  t.is(r.exitCode, 1); // terminate() reports 1
  // The port it held was released: we can bind it again.
  const dp = new Dataplane();
  t.teardown(() => dp.close());
  t.notThrows(() => dp.addUplink({ address: '127.0.0.1', port: r.message.port }));
});

test('3 two copies of the addon load in one process and run side by side', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sag-addon-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const require = createRequire(import.meta.url);
  const src = join(packageRoot, 'build', 'Release', 'sag.node');
  const copies = ['one.node', 'two.node'].map((name) => {
    copyFileSync(src, join(dir, name));
    return require(join(dir, name)) as NativeAddon;
  });
  t.not(copies[0], copies[1]);
  const handles = copies.map((addon) => {
    const raw = new addon.NativeDataplane({});
    addon.testing.openMemoryTun(raw);
    raw.addUplink('127.0.0.1', 0, '', 0);
    raw.start();
    return raw;
  });
  for (const h of handles) h.close();
  t.pass();
});
