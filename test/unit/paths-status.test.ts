import test from 'ava';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PathsStatusServer,
  queryPaths,
  renderPaths,
  withPaths,
  type PeerPaths,
} from '../../src/cli/paths-status.js';
import type { Gateway } from '../../src/gateway/gateway.js';

const peer: PeerPaths = {
  publicKey: 'KEY=',
  multipath: true,
  paths: [
    {
      id: 1,
      uplink: 'wan1',
      endpoint: { address: '192.0.2.1', port: 51820 },
      state: 'up',
      active: true,
      classes: ['voice', 'default'],
      rttMs: 12.34,
      jitterMs: 0.5,
      lossPct: 0,
    },
    {
      id: 2,
      uplink: 'lte',
      endpoint: { address: '2001:db8::1', port: 51820 },
      state: 'down',
      active: false,
      classes: [],
      rttMs: null,
      jitterMs: null,
      lossPct: 100,
    },
  ],
};

test('paths render per path: state, active with its classes, RTT, jitter, loss', (t) => {
  t.deepEqual(renderPaths(peer), [
    '  multipath: yes',
    '  path 1 wan1 -> 192.0.2.1:51820: up, active (voice, default); rtt 12.3 ms, jitter 0.5 ms, loss 0.0%',
    '  path 2 lte -> [2001:db8::1]:51820: down; rtt -, jitter -, loss 100.0%',
  ]);
  t.deepEqual(renderPaths(undefined), []);
  t.deepEqual(renderPaths({ ...peer, paths: [] }), []);
});

test('path lines go at the end of their peer block in sag show', (t) => {
  const text =
    'interface: wg0\n  listening port: 1\n\npeer: OTHER=\n  allowed ips: (none)\n\npeer: KEY=\n  allowed ips: 10.0.0.2/32\n';
  const out = withPaths(text, [peer]).split('\n');
  t.is(out[7], '  allowed ips: 10.0.0.2/32');
  t.is(out[8], '  multipath: yes');
  t.regex(out[9]!, /^ {2}path 1 wan1/);
  t.is(withPaths(text, []), text);
  const middle = withPaths('peer: KEY=\n  a\n\npeer: OTHER=\n  b\n', [peer]).split('\n');
  t.deepEqual(middle.slice(0, 3), ['peer: KEY=', '  a', '  multipath: yes']);
  t.is(middle[5], '');
});

test('the paths socket is for its owner only and outlives clients that hang up before the answer', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sag-paths-'));
  // Megabytes of answer, so the server is still writing when each client has gone (EPIPE/ECONNRESET).
  const peers = Array.from({ length: 3000 }, (_, i) => ({ ...peer, publicKey: `KEY${i}=` }));
  const server = new PathsStatusServer(join(dir, 'wgt0.paths.sock'), {
    peers: () => peers,
  } as unknown as Gateway);
  await server.start();
  t.teardown(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  t.is(statSync(server.path).mode & 0o077, 0, 'no group or other bits');
  await Promise.all(
    Array.from(
      { length: 5 },
      () =>
        new Promise<void>((resolve) => {
          const sock = connect(server.path, () => sock.destroy());
          sock.on('close', () => resolve());
          sock.on('error', () => {});
        }),
    ),
  );
  const answer = await queryPaths('wgt0', dir);
  t.is(answer.length, peers.length, 'still serving');
});
