/**
 * `sag controller` as a real process (node --import tsx) on a free port:
 * it says where it listens, serves the API, logs requests on stderr, keeps its
 * database across restarts and stops cleanly on SIGTERM and SIGINT.
 *
 * The child runs runOperatorCommand from src/cli/operator directly, so the test
 * does not depend on how sag.ts dispatches to it.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOperatorCommand } from '../../src/cli/operator/index.js';
import { HttpControllerClient } from '../../src/contract/client.js';
import {
  killAtTeardown as cleanup,
  startControllerChild as startChild,
} from '../support/controller-process.js';

const KEY = 'sagk_child_controller_key_0123456789abcdef';

/** A key file in `dir`, 0600. */
function keyFile(dir: string, key = KEY): string {
  const file = join(dir, `key-${key.length}`);
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return file;
}

async function sag(argv: string[], to: { url: string; caFingerprint: string | undefined }, key = KEY) {
  let stdout = '';
  let stderr = '';
  const code = await runOperatorCommand(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { SAG_CONTROLLER: to.url, SAG_API_KEY: key, SAG_CA_FINGERPRINT: to.caFingerprint },
  });
  return { code, stdout, stderr };
}

test('1 runs in the foreground, serves the API, keeps its data, stops on SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sag-controller-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'nested', 'controller.db');

  const first = await startChild(['--db', db, '--listen', '127.0.0.1:0'], { SAG_API_KEY: KEY });
  cleanup(t, first);
  t.regex(first.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  t.regex(first.stdout(), /^CA fingerprint: sha256:[0-9a-f]{64}$/m);
  t.regex(first.stdout(), /Installed the given bootstrap API key/);
  t.regex(
    first.stdout(),
    new RegExp(`listening on ${first.url} \\(database ${db.replace(/[.]/g, '\\.')}\\)`),
  );

  const health = new HttpControllerClient({ url: first.url, trust: { caFingerprint: first.caFingerprint! } });
  t.is((await health.request<{ status: string }>('GET', '/v1/health')).status, 'ok');
  const created = await sag(
    ['ccn', 'create', '--id', 'ccn-kept', '--name', 'kept', '--area', 'mainland'],
    first,
  );
  t.is(created.code, 0, created.stderr);
  t.regex(
    first.stderr(),
    /INFO +req-\S+ GET \/v1\/health 200 [\d.]+ ms/,
    'one log line per request, on stderr',
  );

  // Same port taken: the second controller fails at once with a clear reason.
  const port = new URL(first.url).port;
  const clash = await sag(
    ['controller', '--db', join(dir, 'other.db'), '--listen', `127.0.0.1:${port}`],
    first,
  );
  t.is(clash.code, 1);
  t.regex(
    clash.stderr,
    /^sag: cannot start the controller on 127\.0\.0\.1:\d+ .*EADDRINUSE.* \(ERR_CONTROLLER_START\)\n$/,
  );

  first.proc.kill('SIGTERM');
  t.is(await first.exit, 0);
  t.regex(first.stdout(), /SIGTERM, stopping\n.*stopped\n$/s);
  const gone = await sag(['ccn', 'list'], first);
  t.is(gone.code, 1);
  t.regex(gone.stderr, /cannot reach the controller/);

  // Restarted on the same database: no new key, the old one and the data are still there.
  const second = await startChild(['--db', db, '--listen', '127.0.0.1:0', '--quiet']);
  cleanup(t, second);
  t.notRegex(second.stdout(), /API key/);
  t.is(second.caFingerprint, first.caFingerprint, 'the CA is kept in the database');
  const shown = await sag(['ccn', 'show', 'ccn-kept', '--json'], second);
  t.is(shown.code, 0, shown.stderr);
  t.is((JSON.parse(shown.stdout) as { name: string }).name, 'kept');
  t.notRegex(second.stderr(), /GET \/v1\/ccns/, '--quiet logs no requests');
  second.proc.kill('SIGINT');
  t.is(await second.exit, 0);
});

test('2 a new database without a chosen key: one is generated and printed once, and works', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sag-controller-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const child = await startChild(['--db', join(dir, 'c.db'), '--listen', '127.0.0.1:0']);
  cleanup(t, child);
  const token = /^ {2}(sagk_\S+)$/m.exec(child.stdout())?.[1];
  t.truthy(token, child.stdout());
  const list = await sag(['area', 'list'], child, token);
  t.is(list.code, 0, list.stderr);
  t.regex(list.stdout, /^international +15 /m);
  child.proc.kill('SIGTERM');
  t.is(await child.exit, 0);
});

test('3 SAG_API_KEY bootstraps the controller when no key file is given; a short key is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sag-controller-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const child = await startChild(['--db', join(dir, 'c.db'), '--listen', '127.0.0.1:0'], {
    SAG_API_KEY: KEY,
  });
  cleanup(t, child);
  t.is((await sag(['vpc', 'list'], child)).code, 0);
  child.proc.kill('SIGTERM');
  t.is(await child.exit, 0);

  const short = await sag(
    [
      'controller',
      '--db',
      join(dir, 'short.db'),
      '--listen',
      '127.0.0.1:0',
      '--api-key-file',
      keyFile(dir, 'short'),
    ],
    child,
  );
  t.is(short.code, 1);
  t.regex(short.stderr, /^sag: a chosen API key must be 32 to 256 characters.* \(ERR_STORE_INVALID\)\n$/);
});

test('4 the key never on the command line: --api-key is refused, an unreadable key file too', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sag-controller-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const argv = ['controller', '--db', join(dir, 'c.db'), '--listen', '127.0.0.1:0'];
  const refused = await sag([...argv, '--api-key', KEY], {
    url: 'http://127.0.0.1:1',
    caFingerprint: undefined,
  });
  t.is(refused.code, 2);
  t.regex(
    refused.stderr,
    /^sag: --api-key would put a secret on the command line.*use --api-key-file FILE or \$SAG_API_KEY\n/,
  );
  t.notRegex(
    (await sag(['controller', '--help'], { url: '', caFingerprint: undefined })).stdout,
    /--api-key /,
    'not offered in the help',
  );
  const missing = await sag([...argv, '--api-key-file', join(dir, 'nope')], {
    url: '',
    caFingerprint: undefined,
  });
  t.is(missing.code, 2);
  t.regex(missing.stderr, /cannot read API key file .*nope: ENOENT/);
});
