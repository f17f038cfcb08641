/**
 * The operator CLI against a real controller (SQLite in a temp dir, HTTP on
 * 127.0.0.1, port 0), called in-process through runOperatorCommand with
 * captured output. Ids are chosen per test so tests can run concurrently.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOperatorCommand } from '../../src/cli/operator/index.js';
import { parseJoin } from '../../src/contract/join.js';
import { startController, type RunningController } from '../../src/controller/server.js';
import { encodeKey, generatePrivateKey, publicKeyFromPrivate } from '../../src/wg/crypto.js';

const KEY = 'sagk_test_operator_key_0123456789abcdef';
let controller: RunningController;
let dir: string;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sag-cli-operator-'));
  controller = await startController({
    dbPath: join(dir, 'controller.db'),
    listen: { host: '127.0.0.1', port: 0 },
    bootstrapApiKey: KEY,
    logger: false,
    print: () => {},
  });
});

test.after.always(async () => {
  await controller?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | undefined;
  stdout: string;
  stderr: string;
}

async function sag(argv: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runOperatorCommand(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {
      SAG_CONTROLLER: controller.url,
      SAG_API_KEY: KEY,
      SAG_CA_FINGERPRINT: controller.caFingerprint,
      ...env,
    },
  });
  return { code, stdout, stderr };
}

/** Runs a command that must succeed; on failure the assertion shows its stderr. */
async function ok(
  t: { is: (a: unknown, b: unknown, m?: string) => void },
  ...argv: string[]
): Promise<string> {
  const r = await sag(argv);
  t.is(r.code, 0, `sag ${argv.join(' ')}: ${r.stderr}`);
  t.is(r.stderr, '');
  return r.stdout;
}

const json = <T>(text: string) => JSON.parse(text) as T;
const publicKey = () => encodeKey(publicKeyFromPrivate(generatePrivateKey()));

test('1 commands that are not operator commands are left to the caller', async (t) => {
  t.is((await sag(['genkey'])).code, undefined);
  t.is((await sag([])).code, undefined);
  t.is((await sag(['up', 'wg0.conf'])).code, undefined);
});

test('2 access points and instances: create, list and show as tables and JSON', async (t) => {
  const ap = await ok(
    t,
    'ap',
    'create',
    '--id',
    'ap-t2',
    '--area',
    'mainland',
    '--endpoint',
    '198.51.100.1:51820',
    '--endpoint',
    '198.51.100.2:51820',
    '--max-instances',
    '10',
  );
  t.regex(ap, /^id: +ap-t2$/m);
  t.regex(ap, /^endpoints: +198\.51\.100\.1:51820,198\.51\.100\.2:51820$/m);

  const apList = json<{ items: { id: string; maxInstances: number }[] }>(await ok(t, 'ap', 'list', '--json'));
  t.is(apList.items.find((i) => i.id === 'ap-t2')?.maxInstances, 10);

  const created = json<{ id: string; uplinks: unknown[]; lanCidrs: string[] }>(
    await ok(
      t,
      'instance',
      'create',
      '--json',
      '--id',
      'sag-t2',
      '--name',
      'hz branch',
      '--area',
      'mainland',
      '--model',
      'vcpe',
      '--bandwidth',
      '100',
      '--cidr',
      '192.168.2.0/24',
      '--uplink',
      'wan1:wired',
      '--uplink',
      'lte:lte:2:10',
    ),
  );
  t.is(created.id, 'sag-t2');
  t.deepEqual(created.lanCidrs, ['192.168.2.0/24']);
  t.deepEqual(created.uplinks, [
    { name: 'wan1', kind: 'wired', priority: 1, weight: 50 },
    { name: 'lte', kind: 'lte', priority: 2, weight: 10 },
  ]);

  const list = await ok(t, 'instance', 'list');
  const lines = list.trimEnd().split('\n');
  t.regex(lines[0]!, /^ID +NAME +AREA +MODEL +BANDWIDTH +STATE +CCN +LAN CIDRS$/);
  const row = lines.find((l) => l.startsWith('sag-t2 '));
  t.truthy(row);
  // Aligned: every column of the row starts where its header does.
  t.is(row!.indexOf('mainland'), lines[0]!.indexOf('AREA'));
  t.is(row!.indexOf('100 Mbit/s'), lines[0]!.indexOf('BANDWIDTH'));
  t.false(
    lines.some((l) => / $/.test(l)),
    'no trailing spaces',
  );

  const show = await ok(t, 'instance', 'show', 'sag-t2');
  t.regex(show, /^state: +unbound$/m);
  t.regex(show, /^lte +lte +2 +10$/m);

  const updated = json<{ name: string; bandwidthMbps: number; uplinks: unknown[] }>(
    await ok(t, 'instance', 'update', 'sag-t2', '--bandwidth', '200', '--uplink', 'wan2:wired:-1', '--json'),
  );
  t.is(updated.bandwidthMbps, 200);
  t.is(updated.name, 'hz branch');
  t.deepEqual(updated.uplinks, [{ name: 'wan2', kind: 'wired', priority: -1, weight: 50 }]);

  t.is(await ok(t, 'ap', 'delete', 'ap-t2', '--json'), '', '--json prints nothing for a 204');
  t.regex(await ok(t, 'instance', 'delete', 'sag-t2'), /^deleted SAG instance sag-t2$/m);
});

test('3 CCN, CEN and VPC: join, attach, grant, then show and list', async (t) => {
  await ok(
    t,
    'instance',
    'create',
    '--id',
    'sag-t3a',
    '--name',
    'a',
    '--area',
    'mainland',
    '--model',
    'app',
    '--bandwidth',
    '10',
    '--cidr',
    '192.168.30.0/24',
  );
  await ok(
    t,
    'instance',
    'create',
    '--id',
    'sag-t3b',
    '--name',
    'b',
    '--area',
    'international',
    '--model',
    'app',
    '--bandwidth',
    '10',
  );
  await ok(
    t,
    'ccn',
    'create',
    '--id',
    'ccn-t3m',
    '--name',
    'main',
    '--area',
    'mainland',
    '--cidr',
    '10.30.0.0/16',
  );
  await ok(t, 'ccn', 'create', '--id', 'ccn-t3i', '--name', 'intl', '--area', 'international');
  t.regex(
    await ok(t, 'ccn', 'join', 'ccn-t3m', '--instance', 'sag-t3a'),
    /instance sag-t3a joined ccn ccn-t3m/,
  );
  t.is(
    json<{ ccnId: string }>(await ok(t, 'ccn', 'join', 'ccn-t3i', '--instance', 'sag-t3b', '--json')).ccnId,
    'ccn-t3i',
  );

  const ccnShow = await ok(t, 'ccn', 'show', 'ccn-t3m');
  t.regex(ccnShow, /^cidrs: +10\.30\.0\.0\/16$/m);
  t.regex(ccnShow, /^sag-t3a +a +mainland /m, 'members listed');

  await ok(
    t,
    'vpc',
    'create',
    '--id',
    'vpc-t3',
    '--name',
    'hz vpc',
    '--region',
    'cn-hangzhou',
    '--cidr',
    '172.30.0.0/16',
  );
  await ok(t, 'cen', 'create', '--id', 'cen-t3', '--name', 'corp');
  t.regex(await ok(t, 'cen', 'attach', 'cen-t3', '--ccn', 'ccn-t3m'), /attached ccn ccn-t3m to cen cen-t3/);
  await ok(t, 'cen', 'attach', 'cen-t3', '--ccn', 'ccn-t3i');
  t.is(
    json<{ cenId: string }>(await ok(t, 'cen', 'attach', 'cen-t3', '--vpc', 'vpc-t3', '--json')).cenId,
    'cen-t3',
  );
  const granted = await ok(
    t,
    'cen',
    'grant',
    'cen-t3',
    '--area',
    'mainland',
    '--area',
    'international',
    '--bandwidth',
    '20',
  );
  t.regex(granted, /^international +mainland +20 Mbit\/s$/m, 'grants are stored with the areas sorted');

  const cenShow = await ok(t, 'cen', 'show', 'cen-t3');
  t.regex(cenShow, /^ccn-t3i +intl +international +cen-t3 +-$/m);
  t.regex(cenShow, /^vpc-t3 +hz vpc +cn-hangzhou +cen-t3 +172\.30\.0\.0\/16$/m);
  t.regex(await ok(t, 'cen', 'list'), /^cen-t3 +corp +international<->mainland 20 Mbit\/s$/m);

  const cen = json<{ grants: { areas: string[]; mbps: number }[] }>(
    await ok(t, 'cen', 'show', 'cen-t3', '--json'),
  );
  t.deepEqual(cen.grants, [{ areas: ['international', 'mainland'], mbps: 20 }]);
  const vpcs = json<{ version: number; items: { id: string; cenId: string }[] }>(
    await ok(t, 'vpc', 'list', '--json'),
  );
  t.true(Number.isInteger(vpcs.version));
  t.is(vpcs.items.find((v) => v.id === 'vpc-t3')?.cenId, 'cen-t3');
  t.is(json<{ ccnId: string }>(await ok(t, 'instance', 'show', 'sag-t3a', '--json')).ccnId, 'ccn-t3m');

  // Taking it apart again, in the order the model demands.
  t.is((await sag(['ccn', 'delete', 'ccn-t3m'])).code, 1);
  await ok(t, 'cen', 'revoke', 'cen-t3', '--area', 'international', '--area', 'mainland');
  await ok(t, 'cen', 'detach', 'cen-t3', '--ccn', 'ccn-t3m');
  await ok(t, 'ccn', 'leave', 'ccn-t3m', '--instance', 'sag-t3a');
  await ok(t, 'ccn', 'delete', 'ccn-t3m');
  t.regex(await ok(t, 'area', 'list'), /^mainland +13 +cn-hangzhou /m);
});

test('4 a refusal by the model: exit 1, the message and its code on stderr, nothing on stdout', async (t) => {
  await ok(
    t,
    'instance',
    'create',
    '--id',
    'sag-t4',
    '--name',
    'sg',
    '--area',
    'international',
    '--model',
    'app',
    '--bandwidth',
    '10',
  );
  await ok(t, 'ccn', 'create', '--id', 'ccn-t4', '--name', 'main', '--area', 'mainland');
  const mismatch = await sag(['ccn', 'join', 'ccn-t4', '--instance', 'sag-t4']);
  t.is(mismatch.code, 1);
  t.is(mismatch.stdout, '');
  t.regex(mismatch.stderr, /^sag: .*international.* \(ERR_MODEL_AREA_MISMATCH\)\n$/);

  const missing = await sag(['ccn', 'show', 'ccn-nothere']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /^sag: .*ccn-nothere.* \(ERR_MODEL_NOT_FOUND\)\n$/);

  await ok(t, 'ccn', 'create', '--id', 'ccn-t4i', '--name', 'intl', '--area', 'international');
  await ok(t, 'ccn', 'join', 'ccn-t4i', '--instance', 'sag-t4');
  const inUse = await sag(['instance', 'delete', 'sag-t4']);
  t.is(inUse.code, 1);
  t.regex(inUse.stderr, /still a member of .*remove it from the CCN first \(ERR_MODEL_IN_USE\)\n$/);
  const schema = await sag([
    'instance',
    'create',
    '--name',
    'x',
    '--area',
    'mainland',
    '--model',
    'router',
    '--bandwidth',
    '10',
  ]);
  t.is(schema.code, 1);
  t.regex(schema.stderr, /model must be one of .* \(ERR_VALIDATION\)\n$/);
});

test('5 devices: register prints the token once, bind needs the same model, unbind, delete', async (t) => {
  await ok(
    t,
    'instance',
    'create',
    '--id',
    'sag-t5',
    '--name',
    'hw',
    '--area',
    'mainland',
    '--model',
    'hardware',
    '--bandwidth',
    '10',
  );
  await ok(
    t,
    'instance',
    'create',
    '--id',
    'sag-t5v',
    '--name',
    'v',
    '--area',
    'mainland',
    '--model',
    'vcpe',
    '--bandwidth',
    '10',
  );
  const reg = await ok(
    t,
    'device',
    'register',
    'SN-T5',
    '--model',
    'hardware',
    '--public-key',
    publicKey(),
    '--software-version',
    '2.1.0',
  );
  t.regex(reg, /shown only this once/);
  t.regex(reg, /^ {2}sagd_[A-Za-z0-9_-]+$/m);

  const wrong = await sag(['device', 'bind', 'SN-T5', '--instance', 'sag-t5v']);
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, /\(ERR_MODEL_DEVICE_MODEL_MISMATCH\)\n$/);

  const bound = json<{ device: { instanceId: string }; instance: { state: string } }>(
    await ok(t, 'device', 'bind', 'SN-T5', '--instance', 'sag-t5', '--json'),
  );
  t.is(bound.device.instanceId, 'sag-t5');
  t.is(bound.instance.state, 'bound');
  t.regex(await ok(t, 'device', 'list'), /^SN-T5 +hardware +sag-t5 +2\.1\.0 +never$/m);
  t.is((await sag(['device', 'delete', 'SN-T5'])).code, 1, 'a bound device cannot be deleted');
  t.regex(await ok(t, 'device', 'unbind', 'SN-T5'), /unbound device SN-T5 from instance sag-t5/);
  t.regex(await ok(t, 'device', 'token', 'SN-T5'), /sagd_/);
  await ok(t, 'device', 'delete', 'SN-T5');
});

// [case, argv, stderr pattern]
const USAGE: [number, string[], RegExp][] = [
  [1, ['ccn', 'create', '--name', 'x'], /^sag: --area is required\nsee 'sag ccn create --help'\n$/],
  [2, ['ccn', 'join', 'ccn-x'], /--instance is required/],
  [3, ['ccn', 'show'], /missing CCN_ID/],
  [4, ['ccn', 'show', 'a', 'b'], /unexpected argument "b"/],
  [5, ['ccn', 'list', '--frob'], /unknown option --frob/],
  [6, ['ccn', 'frob'], /unknown command 'frob' for 'sag ccn'/],
  [
    7,
    ['instance', 'create', '--name', 'x', '--area', 'a', '--model', 'app', '--bandwidth', 'ten'],
    /--bandwidth must be an integer, got "ten"/,
  ],
  [
    8,
    [
      'instance',
      'create',
      '--name',
      'x',
      '--area',
      'a',
      '--model',
      'app',
      '--bandwidth',
      '1',
      '--uplink',
      'wan1:fibre',
    ],
    /--uplink "wan1:fibre" must be NAME:KIND/,
  ],
  [9, ['instance', 'update', 'sag-x'], /nothing to change/],
  [
    10,
    ['cen', 'grant', 'cen-x', '--area', 'mainland', '--bandwidth', '5'],
    /give --area exactly twice \(got 1\)/,
  ],
  [11, ['cen', 'attach', 'cen-x', '--ccn', 'a', '--vpc', 'b'], /exactly one of --ccn and --vpc/],
  [12, ['cen', 'detach', 'cen-x'], /exactly one of --ccn and --vpc/],
  [
    13,
    ['vpc', 'create', '--name', 'n', '--name', 'm', '--region', 'r', '--cidr', '10.0.0.0/8'],
    /--name given twice/,
  ],
  [14, ['ap', 'list', '--json=yes'], /--json takes no value/],
  [15, ['ap', 'list', '--controller', 'not a url'], /controller URL "not a url" is not a URL/],
  [16, ['controller', '--listen', 'localhost'], /--listen "localhost" must be HOST:PORT/],
  [17, ['ccn'], /^usage: sag ccn <command>/],
];

for (const [n, argv, pattern] of USAGE) {
  test(`usage #${n}: sag ${argv.join(' ')} exits 2`, async (t) => {
    const r = await sag(argv);
    t.is(r.code, 2);
    t.regex(r.stderr, pattern);
    t.is(r.stdout, '');
  });
}

test('6 help: for a group, for a command, --help wins over missing flags', async (t) => {
  const group = await sag(['ccn', '--help']);
  t.is(group.code, 0);
  for (const action of ['create', 'list', 'show', 'join', 'leave', 'delete'])
    t.regex(group.stdout, new RegExp(`^  ${action} +\\S`, 'm'));
  const create = await sag(['ccn', 'create', '--help']);
  t.is(create.code, 0);
  t.regex(create.stdout, /^usage: sag ccn create --name NAME --area AREA \[options\]$/m);
  t.regex(create.stdout, /^ {2}--cidr CIDR +private CIDR of the CCN, at most 5 \(repeatable\)$/m);
  t.regex(create.stdout, /^ {2}--json +/m);
  t.is((await sag(['cen', 'grant', '-h'])).code, 0);
  const ctl = await sag(['controller', '--help']);
  t.is(ctl.code, 0);
  t.regex(ctl.stdout, /--listen HOST:PORT/);
});

test('7 a wrong or missing API key: exit 1 with the 401 message', async (t) => {
  const wrong = await sag(['ccn', 'list'], { SAG_API_KEY: 'sagk_wrong' });
  t.is(wrong.code, 1);
  t.regex(
    wrong.stderr,
    /^sag: the bearer token is not a valid API key or device token \(ERR_UNAUTHENTICATED\)\n$/,
  );
  const wrongFile = join(dir, 'wrong.key');
  writeFileSync(wrongFile, 'sagk_wrong\n', { mode: 0o600 });
  const flag = await sag(['ccn', 'list', '--api-key-file', wrongFile], { SAG_API_KEY: KEY });
  t.is(flag.code, 1, '--api-key-file wins over SAG_API_KEY');
  const none = await sag(['ccn', 'list'], { SAG_API_KEY: '' });
  t.is(none.code, 1);
  t.regex(none.stderr, /give one with --api-key-file FILE or \$SAG_API_KEY \(ERR_UNAUTHENTICATED\)\n$/);
  const argv = await sag(['ccn', 'list', '--api-key', KEY]);
  t.is(argv.code, 2, 'a key on the command line is refused');
  t.regex(argv.stderr, /--api-key would put a secret on the command line/);
});

test('8 an unreachable controller: exit 1, a message naming the URL, no stack trace', async (t) => {
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  const url = `http://127.0.0.1:${port}`;
  const r = await sag(['ccn', 'list', '--controller', url]);
  t.is(r.code, 1);
  t.is(
    r.stderr,
    `sag: cannot reach the controller at ${url} (ECONNREFUSED); is it running? Set --controller or SAG_CONTROLLER to its URL (ERR_CONTROLLER_UNREACHABLE)\n`,
  );
  const viaEnv = await sag(['instance', 'list'], { SAG_CONTROLLER: `${url}/` });
  t.regex(viaEnv.stderr, new RegExp(`at ${url} \\(`), 'a trailing slash is dropped');
});

test('9 something that is not the controller answering: exit 1 with a clear message', async (t) => {
  const server: Server = createServer((_req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html>bad gateway</html>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const r = await sag(['vpc', 'list', '--controller', url]);
    t.is(r.code, 1);
    t.is(
      r.stderr,
      `sag: ${url} answered GET /v1/vpcs with HTTP 502 and a body that is not JSON; is it a sag controller? (ERR_HTTP_502)\n`,
    );
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('10 access point key and token, device activation code: create --public-key, update, token, activation', async (t) => {
  const pub = encodeKey(publicKeyFromPrivate(generatePrivateKey()));
  const created = json<{ publicKey: string | null }>(
    await ok(
      t,
      'ap',
      'create',
      '--id',
      'ap-key1',
      '--area',
      'mainland',
      '--endpoint',
      '198.51.100.9:51820',
      '--max-instances',
      '5',
      '--public-key',
      pub,
      '--json',
    ),
  );
  t.is(created.publicKey, pub);
  const other = encodeKey(publicKeyFromPrivate(generatePrivateKey()));
  t.is(
    json<{ publicKey: string; maxInstances: number }>(
      await ok(t, 'ap', 'update', 'ap-key1', '--public-key', other, '--max-instances', '7', '--json'),
    ).publicKey,
    other,
  );
  const token = await ok(t, 'ap', 'token', 'ap-key1');
  t.regex(token, /shown only this once[\s\S]*saga_/);
  const apJoin = parseJoin(/^ {2}(sagjoin1:\S+)$/m.exec(token)![1]!);
  t.like(apJoin, { urls: [controller.url], caFingerprint: controller.caFingerprint, id: 'ap-key1' });
  t.true(token.includes((apJoin as { token: string }).token), 'the join string carries the token shown');
  const bad = await sag(['ap', 'update', 'ap-key1', '--public-key', 'nope']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /ERR_/);

  await ok(t, 'device', 'register', 'SN-ACT1', '--model', 'app', '--software-version', '1.0');
  const code = await ok(t, 'device', 'activation', 'SN-ACT1', '--ttl', '600');
  t.regex(code, /Activation code for SN-ACT1[\s\S]*sag agent --join-file FILE --state-dir DIR/);
  const shownCode = /^ {2}([A-Z0-9-]+)$/m.exec(code)![1]!;
  t.deepEqual(parseJoin(/^ {2}(sagjoin1:\S+)$/m.exec(code)![1]!), {
    urls: [controller.url],
    caFingerprint: controller.caFingerprint,
    serial: 'SN-ACT1',
    code: shownCode,
  });
  const asJson = json<{ serial: string; code: string; expiresAt: number; join: string }>(
    await ok(t, 'device', 'activation', 'SN-ACT1', '--json'),
  );
  t.is(asJson.serial, 'SN-ACT1');
  t.true(asJson.code.length > 8);
  t.is((parseJoin(asJson.join) as { code: string }).code, asJson.code);
  t.is((await sag(['device', 'activation', 'SN-NOPE'])).code, 1);
});

test('11 --output FILE: a secret shown once goes to a 0600 file, never to stdout or --json', async (t) => {
  await ok(
    t,
    ...['ap', 'create', '--id', 'ap-out1', '--area', 'mainland', '--max-instances', '1'],
    ...['--endpoint', '198.51.100.10:51820'],
  );
  await ok(t, 'device', 'register', 'SN-OUT1', '--model', 'app', '--software-version', '1.0');
  const cases: [string[], RegExp, RegExp][] = [
    [['ap', 'token', 'ap-out1'], /^sagjoin1:/, /give it to sag ap run --join-file \//],
    [['device', 'activation', 'SN-OUT1'], /^sagjoin1:/, /sag agent --join-file \//],
    [['device', 'token', 'SN-OUT1'], /^sagd_/, /The device token is in \//],
    [
      ['device', 'register', 'SN-OUT2', '--model', 'app', '--software-version', '1.0'],
      /^sagd_/,
      /SN-OUT2[\s\S]*The device token is in \//,
    ],
  ];
  for (const [argv, secret, said] of cases) {
    const file = join(dir, `${argv.join('-')}.secret`);
    writeFileSync(file, 'an older secret\n', { mode: 0o644 }); // replaced whole, mode and all
    const human = await ok(t, ...argv, '--output', file);
    const written = readFileSync(file, 'utf8').trim();
    t.regex(written, secret, argv.join(' '));
    t.is(statSync(file).mode & 0o777, 0o600, argv.join(' '));
    t.regex(human, said);
    t.false(human.includes(written), 'the secret is not printed');
  }
  const file = join(dir, 'json.secret');
  const asJson = JSON.parse(await ok(t, 'ap', 'token', 'ap-out1', '--output', file, '--json')) as object;
  t.deepEqual(asJson, { file }, 'nor put in --json');
  const written = parseJoin(readFileSync(file, 'utf8').trim());
  t.true('token' in written && written.token.startsWith('saga_'), 'the join string carries the token');
  const nowhere = await sag(['ap', 'token', 'ap-out1', '--output', join(dir, 'no', 'such', 'dir', 'f')]);
  t.is(nowhere.code, 1);
  t.regex(nowhere.stderr, /cannot write .*no\/such\/dir\/f: .*ENOENT/);
});
