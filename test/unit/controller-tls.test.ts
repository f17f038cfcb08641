/**
 * TLS for the control plane: the controller's own CA (kept across restarts),
 * its fingerprint as openssl shows it, pinned trust (a wrong pin sends nothing),
 * the system-CA failure, plain http:// off loopback, --insecure-http, join strings.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpControllerClient } from '../../src/contract/client.js';
import { encodeJoin, parseJoin, JOIN_PREFIX } from '../../src/contract/join.js';
import { parseFingerprint } from '../../src/contract/trust.js';
import { startController, type RunningController } from '../../src/controller/server.js';
import { identityFromFiles, storedIdentity } from '../../src/controller/tls.js';
import { MemoryStore } from '../../src/controller/store/index.js';

const KEY = 'sagk_tls_test_operator_key_0123456789abcdef';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sag-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function controller(t: { teardown(fn: () => void): void }, dbPath: string): Promise<RunningController> {
  let printed = '';
  const running = await startController({
    dbPath,
    listen: { host: '127.0.0.1', port: 0 },
    bootstrapApiKey: KEY,
    logger: false,
    print: (text) => (printed += text),
  });
  t.teardown(() => running.stop());
  (running as { printed?: string }).printed = printed;
  return running;
}

test('the CA is created once, kept across restarts, and its fingerprint is what openssl shows', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'c.db');
  const first = await controller(t, db);
  const printed = (first as { printed?: string }).printed!;
  const fp = /^CA fingerprint: (sha256:[0-9a-f]{64})$/m.exec(printed)?.[1];
  t.is(fp, first.caFingerprint);
  t.regex(first.url, /^https:\/\/127\.0\.0\.1:\d+$/);

  writeFileSync(join(dir, 'ca.pem'), first.caPem!);
  const openssl = execFileSync(
    'openssl',
    ['x509', '-noout', '-fingerprint', '-sha256', '-in', join(dir, 'ca.pem')],
    {
      encoding: 'utf8',
    },
  );
  t.is(parseFingerprint(openssl.trim().replace(/^sha256 Fingerprint=/i, 'sha256:')), fp!);

  const ok = new HttpControllerClient({ url: first.url, token: KEY, trust: { caFingerprint: fp! } });
  t.truthy(await ok.request('GET', '/v1/areas'));
  const byFile = new HttpControllerClient({ url: first.url, token: KEY, trust: { caPem: first.caPem! } });
  t.truthy(await byFile.request('GET', '/v1/areas'));
  await first.stop();

  const second = await controller(t, db);
  t.is(second.caFingerprint, fp, 'a restart keeps the CA');
});

test('replicas on one store serve under one CA; --tls-cert fingerprints the last certificate', async (t) => {
  const store = new MemoryStore();
  const a = await storedIdentity(store, ['127.0.0.1', 'localhost'], Date.now());
  const b = await storedIdentity(store, ['ctl.example', '127.0.0.1'], Date.now());
  t.is(a.caFingerprint, b.caFingerprint);
  t.not(a.certPem, b.certPem, 'each set of names gets its own server certificate');
  const dir = tempDir(t);
  writeFileSync(join(dir, 'chain.pem'), b.certPem);
  writeFileSync(join(dir, 'key.pem'), b.keyPem);
  t.is(identityFromFiles(join(dir, 'chain.pem'), join(dir, 'key.pem')).caFingerprint, b.caFingerprint);
});

test('a wrong pin fails naming both fingerprints, and the server receives not one byte', async (t) => {
  const store = new MemoryStore();
  const id = await storedIdentity(store, ['127.0.0.1'], Date.now());
  let received = 0;
  let connections = 0;
  const server = createTlsServer({ key: id.keyPem, cert: id.certPem }, (socket) => {
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.on('error', () => {});
  });
  server.on('connection', () => connections++);
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  const wrong = `sha256:${'ab'.repeat(32)}`;
  const client = new HttpControllerClient({ url, token: KEY, trust: { caFingerprint: wrong } });
  const err = await t.throwsAsync(client.activate({ serial: 'SN1', code: 'CODE', publicKey: 'x' }));
  t.is((err as { code?: string }).code, 'ERR_CONTROLLER_UNTRUSTED');
  t.true(err!.message.includes(wrong), err!.message);
  t.true(err!.message.includes(id.caFingerprint), err!.message);
  await new Promise((r) => setTimeout(r, 100));
  t.is(connections, 1, 'one look at the chain, then nothing');
  t.is(received, 0, 'nothing is sent after the handshake');
});

test('without a pin the system CAs are used: a clear error with the fingerprint to pin', async (t) => {
  const dir = tempDir(t);
  const ctl = await controller(t, join(dir, 'c.db'));
  const client = new HttpControllerClient({ url: ctl.url, token: KEY });
  const err = await t.throwsAsync(client.request('GET', '/v1/areas'));
  t.is((err as { code?: string }).code, 'ERR_CONTROLLER_UNTRUSTED');
  t.regex(err!.message, /system CA/);
  t.true(err!.message.includes(`--ca-fingerprint ${ctl.caFingerprint}`), err!.message);
});

test('http:// to a non-loopback host is refused; --insecure-http only on loopback', async (t) => {
  for (const url of ['http://192.0.2.1:8080', 'http://ctl.example', 'http://[2001:db8::1]:80'])
    t.throws(() => new HttpControllerClient({ url }), { message: /refusing plain http:\/\// }, url);
  for (const url of ['http://127.0.0.1:8080', 'http://localhost:1', 'http://[::1]:8080'])
    t.notThrows(() => new HttpControllerClient({ url }), url);
  const dir = tempDir(t);
  await t.throwsAsync(
    startController({
      dbPath: join(dir, 'c.db'),
      listen: { host: '0.0.0.0', port: 0 },
      insecureHttp: true,
      logger: false,
      print: () => {},
    }),
    { message: /refusing plain HTTP on 0\.0\.0\.0/ },
  );
  const plain = await startController({
    dbPath: join(dir, 'p.db'),
    listen: { host: '127.0.0.1', port: 0 },
    insecureHttp: true,
    logger: false,
    print: () => {},
  });
  t.teardown(() => plain.stop());
  t.regex(plain.url, /^http:\/\//);
  t.is(plain.caFingerprint, undefined);
});

test('join strings: round trip, and malformed ones are refused with a clear error', (t) => {
  const fp = `sha256:${'0f'.repeat(32)}`;
  const device = {
    urls: ['https://ctl.example:8443', 'https://192.0.2.7:8443'],
    caFingerprint: fp,
    serial: 'SN-1',
    code: 'ABCDE-FGHIJ',
  };
  t.deepEqual(parseJoin(`  ${encodeJoin(device)}\n`), device);
  const ap = { urls: ['https://ctl.example'], caFingerprint: fp, id: 'ap-hz1', token: 'saga_x' };
  t.deepEqual(parseJoin(encodeJoin(ap)), ap);
  const b64 = (o: unknown) => JOIN_PREFIX + Buffer.from(JSON.stringify(o)).toString('base64url');
  for (const [text, why] of [
    ['', /does not start with sagjoin1:/],
    ['sagjoin2:abc', /does not start with/],
    [`${JOIN_PREFIX}!!!`, /not base64url/],
    [`${JOIN_PREFIX}${Buffer.from('{').toString('base64url')}`, /not JSON/],
    [b64([1]), /not an object/],
    [b64({ ...device, urls: [] }), /no controller URLs/],
    [b64({ ...device, urls: ['ftp://x'] }), /not http/],
    [b64({ ...device, urls: ['http://192.0.2.1'] }), /refusing plain http/],
    [b64({ ...device, caFingerprint: 'sha256:12' }), /fingerprint must be/],
    [b64({ urls: device.urls, caFingerprint: fp, serial: 'SN-1' }), /neither a serial and code/],
    [JOIN_PREFIX + 'A'.repeat(9000), /too long/],
  ] as const)
    t.throws(() => parseJoin(text), { message: why }, text.slice(0, 40));
});
