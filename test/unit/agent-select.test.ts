/** Hub selection policy (select.ts), table-driven: forced, RTT, margin, rank. */
import test from 'ava';
import { chooseHub } from '../../src/agent/index.js';
import type { DevicePeer } from '../../src/contract/index.js';

const hub = (id: string, rank: number): DevicePeer => ({
  accessPointId: id,
  publicKey: `key-${id}`,
  endpoints: ['203.0.113.1:51820'],
  persistentKeepaliveSec: 25,
  rank,
});
const HUBS = [hub('ap-a', 0), hub('ap-b', 1), hub('ap-c', 2)];
const MARGIN = { ratio: 0.2, ms: 5 };

// [case, rule, active, forced, rtts by hub (null: unanswered), expected]
const CASES: [number, string, string | null, string | null, Record<string, number | null>, string | null][] =
  [
    [1, 'nothing measured: rank 0', null, null, {}, 'ap-a'],
    [2, 'nothing measured: the active hub stays', 'ap-c', null, {}, 'ap-c'],
    [3, 'lowest RTT wins over rank', null, null, { 'ap-a': 80, 'ap-b': 10, 'ap-c': 30 }, 'ap-b'],
    [4, 'unanswered hubs are not candidates', null, null, { 'ap-a': null, 'ap-b': 40, 'ap-c': null }, 'ap-b'],
    [5, 'equal RTTs: the better rank', null, null, { 'ap-a': 20, 'ap-b': 10, 'ap-c': 10 }, 'ap-b'],
    [6, 'the active hub stays within the margin', 'ap-a', null, { 'ap-a': 16, 'ap-b': 10 }, 'ap-a'],
    [7, 'and moves beyond it', 'ap-a', null, { 'ap-a': 18, 'ap-b': 10 }, 'ap-b'],
    [8, 'an unanswered active hub is left', 'ap-a', null, { 'ap-a': null, 'ap-b': 50 }, 'ap-b'],
    [9, 'forced beats RTT', 'ap-b', 'ap-c', { 'ap-a': 1, 'ap-b': 2, 'ap-c': 500 }, 'ap-c'],
    [10, 'a forced hub no longer configured is ignored', null, 'ap-x', { 'ap-b': 5 }, 'ap-b'],
    [11, 'an active hub no longer configured is ignored', 'ap-x', null, {}, 'ap-a'],
  ];

for (const [n, rule, active, forced, rtts, expected] of CASES) {
  test(`chooseHub #${n}: ${rule}`, (t) => {
    const probes = new Map(
      Object.entries(rtts).map(([id, rttMs]) => [
        id,
        { accessPointId: id, endpoint: '203.0.113.1:51820', rttMs, atUnixMs: 0 },
      ]),
    );
    t.is(chooseHub({ hubs: HUBS, active, forced, probes, margin: MARGIN }), expected);
  });
}

test('chooseHub: no hubs, no choice', (t) => {
  t.is(chooseHub({ hubs: [], active: 'ap-a', forced: 'ap-a', probes: new Map(), margin: MARGIN }), null);
});
