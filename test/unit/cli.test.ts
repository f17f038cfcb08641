/** The sag command line, run as a real process: keys interoperate with `wg` when it is installed. */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hasCommand } from '../support/netns.js';

const cli = fileURLToPath(new URL('../../src/cli/sag.ts', import.meta.url));
const sag = (args: string[], input?: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { input, encoding: 'utf8' });

test('1 genkey then pubkey gives a 32-byte key pair, and wg agrees on the public key', (t) => {
  const priv = sag(['genkey']);
  t.is(priv.status, 0);
  t.regex(priv.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
  const pub = sag(['pubkey'], priv.stdout);
  t.is(pub.status, 0);
  t.regex(pub.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
  if (hasCommand('wg'))
    t.is(execFileSync('wg', ['pubkey'], { input: priv.stdout, encoding: 'utf8' }), pub.stdout);
});

test('2 errors are one clear line and a non-zero status', (t) => {
  const bad = sag(['pubkey'], 'not a key\n');
  t.is(bad.status, 2);
  t.regex(bad.stderr, /^sag: stdin is not a base64 private key/);
  const unknown = sag(['frobnicate']);
  t.is(unknown.status, 2);
  t.regex(unknown.stderr, /unknown command 'frobnicate'/);
  t.notRegex(unknown.stderr, /at .*\.ts:/, 'no stack trace');
});

test('3 sag agent refuses incomplete arguments with usage (exit 2) before touching anything', (t) => {
  const missing = sag(['agent', '--controller', 'http://127.0.0.1:1']);
  t.is(missing.status, 2);
  t.regex(missing.stderr, /--state-dir is required/);
  t.regex(missing.stderr, /see 'sag agent --help'/);
  const base = [
    'agent',
    '--controller',
    'http://127.0.0.1:1',
    '--state-dir',
    '/nonexistent',
    '--serial',
    'S1',
  ];
  const half = sag(base);
  t.is(half.status, 2);
  t.regex(half.stderr, /--serial and --code-file go together/);
  const argv = sag([...base, '--code', 'c0de']);
  t.is(argv.status, 2, 'the code itself on the command line is refused');
  t.regex(argv.stderr, /--code would put a secret on the command line.*; use --code-file FILE\n/);
  const unreadable = sag([...base, '--code-file', '/nonexistent/code']);
  t.is(unreadable.status, 2);
  t.regex(unreadable.stderr, /cannot read code file \/nonexistent\/code: ENOENT/);
});
