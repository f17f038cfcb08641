/**
 * The controller cannot be worn down by one client: a request trickled byte by
 * byte is cut off after requestTimeout while others are served, one source cannot
 * open more than its share of connections, and X-Forwarded-For is believed only
 * from a trusted proxy, with IPv6 clients counted per /64.
 *
 * Real sockets over loopback (127.0.0.0/8 gives each simulated client its own
 * source address), controller in process.
 */
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type StartControllerOptions } from '../../src/controller/server.js';

const KEY = 'sagk_limits_test_key_0123456789abcdef';

async function controller(t: ExecutionContext, extra: Partial<StartControllerOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sag-limits-'));
  const running = await startController({
    dbPath: join(dir, 'c.db'),
    listen: { host: '127.0.0.1', port: 0 },
    bootstrapApiKey: KEY,
    logger: false,
    print: () => {},
    // Plain HTTP on loopback: the limits are per connection and source; TLS is controller-tls.test.ts's.
    insecureHttp: true,
    ...extra,
  });
  t.teardown(async () => {
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { ...running, port: Number(new URL(running.url).port) };
}

/** One HTTP request from a chosen loopback address; resolves with status and body. */
function call(
  port: number,
  options: { method?: string; path: string; body?: unknown; from?: string; headers?: Record<string, string> },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        agent: false,
        ...(options.from ? { localAddress: options.from } : {}),
        headers: {
          authorization: `Bearer ${KEY}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw connection from `from`; resolves once connected. */
function rawSocket(port: number, from: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from }, () => resolve(socket));
    socket.on('error', reject);
  });
}

const closed = (socket: Socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()));

test('a client trickling its body is cut off after requestTimeout; others are served meanwhile', async (t) => {
  const c = await controller(t, { limits: { requestTimeoutMs: 600 } });
  const slow = await rawSocket(c.port, '127.0.0.2');
  const started = Date.now();
  const gone = closed(slow);
  let answer = '';
  slow.on('data', (d: Buffer) => (answer += d.toString()));
  slow.on('error', () => {});
  slow.write(
    'POST /v1/activate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{',
  );
  const trickle = setInterval(() => slow.writable && slow.write(' '), 50);
  t.teardown(() => clearInterval(trickle));

  // While it trickles, another client is served as usual, several times over.
  for (let i = 0; i < 3; i++) {
    const health = await call(c.port, { path: '/v1/health', from: '127.0.0.3' });
    t.is(health.status, 200);
  }
  await gone;
  const heldMs = Date.now() - started;
  t.true(heldMs >= 550, `closed after ${heldMs} ms, not before the timeout`);
  t.true(heldMs < 3000, `closed after ${heldMs} ms, soon after the 600 ms timeout`);
  t.regex(answer, /^HTTP\/1\.1 408/, 'told why: 408 Request Timeout');
});

test('one source cannot hold more than its share of connections; other sources still get in', async (t) => {
  const c = await controller(t, { limits: { maxConnectionsPerSource: 3 } });
  const held = await Promise.all([1, 2, 3].map(() => rawSocket(c.port, '127.0.0.4')));
  t.teardown(() => held.forEach((s) => s.destroy()));
  const extra = await rawSocket(c.port, '127.0.0.4');
  extra.on('error', () => {});
  let got = '';
  extra.on('data', (d: Buffer) => (got += d.toString()));
  extra.write('GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
  await closed(extra);
  t.is(got, '', 'the fourth connection from 127.0.0.4 is closed unanswered');
  t.is(
    (await call(c.port, { path: '/v1/health', from: '127.0.0.5' })).status,
    200,
    'another source is served',
  );
  // A slot freed is a slot usable again.
  held[0]!.destroy();
  await closed(held[0]!);
  await new Promise((r) => setTimeout(r, 50));
  t.is((await call(c.port, { path: '/v1/health', from: '127.0.0.4' })).status, 200);
});

let serials = 0;
/** A fresh serial each time, so only the per-source limit can refuse it. */
const activation = (n: number) => ({
  serial: `SN-${++serials}`,
  code: 'AAAAA-AAAAA-AAAAA-AAAAA',
  publicKey: Buffer.alloc(32, n).toString('base64'),
});

/** Activation attempts through `from` for the given X-Forwarded-For; true for each refused with 429. */
async function attempts(port: number, from: string, forwardedFor: string[]): Promise<boolean[]> {
  const out: boolean[] = [];
  for (const [i, xff] of forwardedFor.entries()) {
    const r = await call(port, {
      method: 'POST',
      path: '/v1/activate',
      body: activation(i + 1),
      from,
      headers: { 'x-forwarded-for': xff },
    });
    out.push(r.status === 429);
  }
  return out;
}

test('X-Forwarded-For counts only from a trusted proxy; IPv6 clients behind it count per /64', async (t) => {
  const c = await controller(t, { trustedProxies: ['127.0.0.8/30'] });
  // The default activation limit per source is 30 per 15 minutes; spend one client's budget.
  const spend = Array.from({ length: 30 }, () => '198.51.100.1');
  t.false((await attempts(c.port, '127.0.0.9', spend)).includes(true));
  t.deepEqual(await attempts(c.port, '127.0.0.9', ['198.51.100.1']), [true], 'that client is now limited');
  t.deepEqual(
    await attempts(c.port, '127.0.0.10', ['198.51.100.2']),
    [false],
    'another client behind the proxy is not',
  );
  // An untrusted peer's header is ignored: it is limited by its own address, not the one it claims.
  const untrusted = await attempts(c.port, '127.0.0.20', [
    ...spend.map(() => '198.51.100.99'),
    '198.51.100.3',
  ]);
  t.is(untrusted.at(-1), true, 'a fresh X-Forwarded-For does not buy an untrusted peer a fresh budget');

  const v6 = Array.from({ length: 30 }, (_, i) => `2001:db8:1:2::${(i + 1).toString(16)}`);
  t.false((await attempts(c.port, '127.0.0.9', v6)).includes(true));
  t.deepEqual(
    await attempts(c.port, '127.0.0.9', ['2001:db8:1:2:ffff::1', '2001:db8:1:3::1']),
    [true, false],
    'a new address in the same /64 shares the budget; the next /64 has its own',
  );
});

const report = (softwareVersion: string, rxBytes: number) => ({
  softwareVersion,
  configVersion: null,
  accessPointId: null,
  peers: [
    {
      accessPointId: 'ap-hz',
      publicKey: Buffer.alloc(32, 7).toString('base64'),
      endpoint: '203.0.113.1:51820',
      lastHandshakeUnixMs: 1,
      rxBytes,
      txBytes: rxBytes,
      rxPackets: 1,
      txPackets: 1,
    },
  ],
  probes: [],
});

test('a status flood from one device gets 429s, leaves others served and writes little', async (t) => {
  const c = await controller(t);
  const api = async (method: string, path: string, body?: unknown, token = KEY) => {
    const res = await fetch(`${c.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: text && JSON.parse(text) };
  };
  const register = async (serial: string) =>
    (await api('POST', '/v1/devices', { serial, model: 'app', softwareVersion: '1.0' })).body.token as string;
  const flooder = await register('SN-FLOOD');
  const quiet = await register('SN-QUIET');
  // Count the store's writes: the database's growth is what a flood must not drive.
  let statusWrites = 0;
  const put = c.store.putDeviceStatus.bind(c.store);
  c.store.putDeviceStatus = async (...args) => {
    statusWrites++;
    return put(...args);
  };
  const auditBefore = (await c.store.audit({ limit: 1000 })).length;

  // 300 reports as fast as they go, alternating the software version (each one "news").
  const flood = (async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 300; i++) {
      const r = await api('POST', '/v1/devices/SN-FLOOD/status', report(i % 2 ? '1.1' : '1.0', i), flooder);
      statuses.push(r.status);
      if (r.status === 429) t.regex(r.retryAfter ?? '', /^[1-9][0-9]*$/);
    }
    return statuses;
  })();
  // Meanwhile another device reports as an agent does; its counters move, nothing else.
  const served: number[] = [];
  for (let i = 0; i < 10; i++) {
    served.push((await api('POST', '/v1/devices/SN-QUIET/status', report('1.0', i), quiet)).status);
    await new Promise((r) => setTimeout(r, 20));
  }
  const flooded = await flood;

  t.deepEqual(served, new Array(10).fill(204), 'the other device is served throughout');
  const admitted = flooded.filter((s) => s === 204).length;
  t.is(admitted, 30, 'the flooder gets its 30 reports a minute');
  t.is(flooded.filter((s) => s === 429).length, 270, 'and 429 for the rest');
  t.true(
    statusWrites <= admitted + 1,
    `${statusWrites} status writes: the flooder's admitted ones and one of the other`,
  );
  const audit = (await c.store.audit({ limit: 1000 })).slice(auditBefore);
  t.deepEqual(
    audit.map((e) => `${e.command.kind} ${(e.command as { serial?: string }).serial}`).sort(),
    ['device.heartbeat SN-FLOOD', 'device.heartbeat SN-QUIET'],
    'one heartbeat each: an alternating software version does not write a heartbeat per report',
  );
  const stored = await api('GET', '/v1/devices/SN-QUIET/status');
  t.is(stored.body.report.peers[0].rxBytes, 0, 'reports with nothing new within 15 s are not stored');
});

test('long polls per principal are capped: the one over the cap gets 429, a freed slot is usable', async (t) => {
  const c = await controller(t, { limits: { longPollsPerPrincipal: 2 } });
  const auth = { authorization: `Bearer ${KEY}` };
  const created = await fetch(`${c.url}/v1/access-points`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({
      id: 'ap-hz',
      area: 'mainland',
      endpoints: ['203.0.113.1:51820'],
      maxInstances: 10,
      publicKey: Buffer.alloc(32, 1).toString('base64'),
    }),
  });
  t.is(created.status, 201);
  const config = (await (
    await fetch(`${c.url}/v1/access-points/ap-hz/config`, { headers: auth })
  ).json()) as {
    version: string;
  };
  const poll = (wait: number, signal?: AbortSignal) =>
    fetch(`${c.url}/v1/access-points/ap-hz/config?after=${config.version}&wait=${wait}`, {
      headers: auth,
      ...(signal ? { signal } : {}),
    });
  const first = new AbortController();
  const waiting = [
    poll(30, first.signal).catch(() => undefined),
    poll(30, first.signal).catch(() => undefined),
  ];
  // A one-second poll: 429 once both of those are waiting (on a busy machine they may take a moment).
  let third = await poll(1);
  for (let i = 0; i < 20 && third.status !== 429; i++) third = await poll(1);
  t.is(third.status, 429);
  t.is(third.headers.get('retry-after'), '5');
  t.is(((await third.json()) as { error: { code: string } }).error.code, 'ERR_RATE_LIMITED');
  first.abort();
  await Promise.all(waiting);
  // The slots come back as the server sees the clients go.
  let fourth = await poll(1);
  for (let i = 0; i < 20 && fourth.status === 429; i++) {
    await new Promise((r) => setTimeout(r, 50));
    fourth = await poll(1);
  }
  t.is(fourth.status, 200, 'with the slots freed a new poll is served');
  t.true(((await fourth.json()) as { unchanged?: boolean }).unchanged, '... after waiting its second');
});
