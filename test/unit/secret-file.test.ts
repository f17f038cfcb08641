/** Secret files: the wg-quick style warning, 0600 files written atomically, 0700 directories. */
import test from 'ava';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentStateDir } from '../../src/agent/state.js';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  ensurePrivateDir,
  exposure,
  readSecretFile,
  warnIfExposed,
  writeSecretFile,
} from '../../src/util/secret-file.js';

const dir = mkdtempSync(join(tmpdir(), 'sag-secret-file-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const mode = (path: string) => statSync(path).mode & 0o777;

function collect(): { warn: (m: string) => void; said: string[] } {
  const said: string[] = [];
  return { warn: (m) => void said.push(m), said };
}

test('a 0644 file is world accessible, 0640 group accessible, 0600 and 0400 neither', (t) => {
  t.is(exposure('/k', 0o100644), "'/k' is world accessible (mode 0644); chmod go= it");
  t.is(exposure('/k', 0o100640), "'/k' is group accessible (mode 0640); chmod go= it");
  t.is(exposure('/k', 0o100604), "'/k' is world accessible (mode 0604); chmod go= it");
  t.is(exposure('/k', 0o100600), undefined);
  t.is(exposure('/k', 0o100400), undefined);
});

test('readSecretFile: trimmed contents; warns for a 0644 file, not for a 0600 one; refuses missing and empty files', async (t) => {
  const open = join(dir, 'open');
  const closed = join(dir, 'closed');
  writeFileSync(open, ' saga_x \n', { mode: 0o644 });
  chmodSync(open, 0o644); // whatever the umask
  writeFileSync(closed, 'saga_y\n', { mode: 0o600 });
  const a = collect();
  t.is(readSecretFile(open, 'token file', a.warn), 'saga_x');
  t.deepEqual(a.said, [`'${open}' is world accessible (mode 0644); chmod go= it`]);
  const b = collect();
  t.is(readSecretFile(closed, 'token file', b.warn), 'saga_y');
  t.deepEqual(b.said, []);
  t.throws(() => readSecretFile(join(dir, 'nope'), 'token file', b.warn), {
    instanceOf: InvalidArgumentError,
    message: /^cannot read token file .*nope: ENOENT$/,
  });
  writeFileSync(join(dir, 'empty'), '\n', { mode: 0o600 });
  t.throws(() => readSecretFile(join(dir, 'empty'), 'code file', b.warn), {
    message: /code file .* is empty/,
  });
  const c = collect();
  await warnIfExposed(open, c.warn);
  await warnIfExposed(closed, c.warn);
  t.is(c.said.length, 1, 'warnIfExposed: the 0644 file only');
});

test('writeSecretFile: 0600 even over a 0644 file and a 0666 leftover temporary, under umask 0', async (t) => {
  const file = join(dir, 'written');
  writeFileSync(file, 'old\n', { mode: 0o644 });
  writeFileSync(`${file}.tmp`, 'leftover\n', { mode: 0o666 });
  const before = process.umask(0);
  try {
    await writeSecretFile(file, 'new\n');
  } finally {
    process.umask(before);
  }
  t.is(readFileSync(file, 'utf8'), 'new\n');
  t.is(mode(file), 0o600);
  t.throws(() => statSync(`${file}.tmp`), { code: 'ENOENT' });
});

test('the agent state: directory 0700, key and identity 0600; a wider existing directory is tightened and said so', async (t) => {
  const fresh = new AgentStateDir(join(dir, 'state', 'fresh'));
  await fresh.ensure();
  t.is(mode(fresh.dir), 0o700);
  await fresh.writePendingPrivateKey('a2V5');
  await fresh.commitPrivateKey();
  await fresh.writeIdentity({ serial: 'S1', token: 'sagd_x', publicKey: 'cHVi', activatedAt: 1 });
  t.is(mode(join(fresh.dir, 'private.key')), 0o600);
  t.is(mode(join(fresh.dir, 'identity.json')), 0o600);

  const wide = join(dir, 'state', 'wide');
  mkdirSync(wide);
  chmodSync(wide, 0o755);
  const { warn, said } = collect();
  await new AgentStateDir(wide).ensure(warn);
  t.is(mode(wide), 0o700);
  t.deepEqual(said, [`'${wide}' is world accessible (mode 0755): tightened to 0700`]);
  const again = collect();
  await ensurePrivateDir(wide, again.warn);
  t.deepEqual(again.said, [], 'nothing to say the second time');
});
