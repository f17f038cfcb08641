import test from 'ava';
import { PeerTimers, type TimerAction } from '../../src/wg/timers.js';

// A monotonic clock that does not start at zero, so no rule can lean on "0 means unset".
const T0 = 1_000_000;

const types = (actions: TimerAction[]): string[] => actions.map((a) => a.type);
const initiations = (actions: TimerAction[]) => actions.filter((a) => a.type === 'send-initiation');

/** A machine with a fresh session whose keypair (index 1) was derived at T0. */
function session(isInitiator: boolean, random: () => number = () => 0): PeerTimers {
  const m = new PeerTimers({ random });
  m.onHandshakeComplete(T0, { isInitiator, localIndex: 1 });
  if (!isInitiator) m.onKeypairConfirmed(T0, 1);
  return m;
}

/** Ticks at each deadline up to `until` (as the Gateway's single timer would), returning [time, action] pairs. */
function run(m: PeerTimers, until: number): Array<[number, TimerAction]> {
  const log: Array<[number, TimerAction]> = [];
  for (let d = m.nextDeadline(); d !== undefined && d <= until; d = m.nextDeadline()) {
    for (const a of m.tick(d)) log.push([d, a]);
    if (m.nextDeadline() === d) throw new Error(`deadline ${d} still pending after tick`);
  }
  m.tick(until);
  return log;
}

// ---- Key rotation by age ----

for (const [isInitiator, age, rekeys] of [
  [true, 120_000, false],
  [true, 120_001, true],
  [false, 120_001, false],
  [false, 179_999, false],
] as const) {
  test(`send on a ${isInitiator ? 'initiator' : 'responder'} keypair aged ${age} ms ${rekeys ? 'rekeys' : 'does not rekey'}`, (t) => {
    const m = session(isInitiator);
    const out = m.onDataSent(T0 + age);
    t.deepEqual(
      initiations(out),
      rekeys ? [{ type: 'send-initiation', reason: 'rekey-after-time', attempt: 1 }] : [],
    );
  });
}

test('our own keepalives on an old initiator keypair also rekey (the rule is about sending)', (t) => {
  const m = session(true);
  m.setPersistentKeepalive(T0 + 100_000, 25);
  const log = run(m, T0 + 125_000);
  t.deepEqual(
    log.map(([at, a]) => [at - T0, a.type]),
    [
      [125_000, 'send-keepalive'],
      [125_000, 'send-initiation'],
    ],
  );
});

test('receive-side rekey at REJECT - KEEPALIVE - REKEY_TIMEOUT (165 s), once per session, initiator only', (t) => {
  const m = session(true);
  t.deepEqual(m.onAuthenticatedReceived(T0 + 165_000), []);
  t.deepEqual(initiations(m.onAuthenticatedReceived(T0 + 165_001)), [
    { type: 'send-initiation', reason: 'rekey-on-receive', attempt: 1 },
  ]);
  // Long past the rate limit, still no second "last minute" handshake for this session.
  const lastMinute = (out: TimerAction[]) => initiations(out).filter((a) => a.reason === 'rekey-on-receive');
  t.deepEqual(lastMinute(m.onDataReceived(T0 + 175_000)), []);
  // A new session re-arms the rule.
  m.onHandshakeComplete(T0 + 176_000, { isInitiator: true, localIndex: 2 });
  t.deepEqual(initiations(m.onAuthenticatedReceived(T0 + 176_000 + 165_000)), []);
  t.is(initiations(m.onAuthenticatedReceived(T0 + 176_000 + 165_001)).length, 1);

  const responder = session(false);
  t.deepEqual(initiations(responder.onDataReceived(T0 + 170_000)), []);
});

// ---- Handshake retransmission ----

for (const [random, delay] of [
  [0, 5_000],
  [0.5, 5_167],
  [0.999_999, 5_333],
  [1, 5_333], // a broken source is clamped to the jitter bound
  [-3, 5_000],
  [Number.NaN, 5_000],
] as const) {
  test(`retransmit after REKEY_TIMEOUT + jitter: random ${random} -> ${delay} ms`, (t) => {
    const m = new PeerTimers({ random: () => random });
    t.deepEqual(m.requestHandshake(T0), [{ type: 'send-initiation', reason: 'requested', attempt: 1 }]);
    t.is(m.nextDeadline(), T0 + delay);
    t.deepEqual(m.tick(T0 + delay - 1), []);
    t.deepEqual(m.tick(T0 + delay), [{ type: 'send-initiation', reason: 'retransmit', attempt: 2 }]);
    t.is(m.handshakeAttempts, 1);
  });
}

test('gives up after MAX_TIMER_HANDSHAKES retries (20 initiations, 100 s without jitter), then drops staged packets', (t) => {
  const m = new PeerTimers({ random: () => 0 });
  const first = m.onStagedPackets(T0);
  const log = run(m, T0 + 100_000 + 540_000);
  const sends = [
    ...initiations(first),
    ...log.filter(([, a]) => a.type === 'send-initiation').map(([, a]) => a),
  ];
  t.is(sends.length, 20);
  t.deepEqual(sends.at(-1), { type: 'send-initiation', reason: 'retransmit', attempt: 20 });
  const last = log.filter(([, a]) => a.type === 'send-initiation').at(-1)!;
  t.is(last[0], T0 + 95_000);
  const rest = log.filter(([, a]) => a.type !== 'send-initiation').map(([at, a]) => [at - T0, a]);
  t.deepEqual(rest, [
    [100_000, { type: 'flush-staged' }],
    [100_000, { type: 'handshake-failed', attempts: 20 }],
    // the residue of the partial exchange is erased 3 × REJECT_AFTER_TIME later
    [640_000, { type: 'zero-keys', localIndices: [] }],
  ]);
  t.is(m.nextDeadline(), undefined);
});

test('a new staged packet restarts the attempt count, so a busy peer keeps trying', (t) => {
  const m = new PeerTimers({ random: () => 0 });
  m.onStagedPackets(T0);
  run(m, T0 + 50_000); // ten retransmissions
  t.is(m.handshakeAttempts, 10);
  t.deepEqual(m.onStagedPackets(T0 + 50_001), []); // rate limited, yet the count restarts
  t.is(m.handshakeAttempts, 0);
  // 19 more retransmissions from the in-flight timer at +55 s, then giving up at +150 s instead of +100 s.
  t.false(types(run(m, T0 + 149_999).map(([, a]) => a)).includes('handshake-failed'));
  t.deepEqual(
    run(m, T0 + 150_000).map(([at, a]) => [at - T0, a.type]),
    [
      [150_000, 'flush-staged'],
      [150_000, 'handshake-failed'],
    ],
  );
});

test('a completed handshake stops retransmission', (t) => {
  const m = new PeerTimers({ random: () => 0 });
  m.requestHandshake(T0);
  const out = m.onHandshakeComplete(T0 + 40, { isInitiator: true, localIndex: 7 });
  t.deepEqual(out, [{ type: 'send-keepalive', reason: 'handshake-confirm' }]);
  t.deepEqual(initiations(run(m, T0 + 60_000).map(([, a]) => a)), []);
  // With packets staged, their flush confirms the keypair, so no extra keepalive.
  const n = new PeerTimers();
  t.deepEqual(n.onHandshakeComplete(T0, { isInitiator: true, localIndex: 7, hasStagedPackets: true }), []);
});

// ---- Keepalives ----

for (const { name, events, expect } of [
  { name: 'data received, nothing sent: keepalive at 10 s', events: [['data-rx', 1_000]], expect: [11_000] },
  {
    name: 'data sent meanwhile: no keepalive',
    events: [
      ['data-rx', 1_000],
      ['data-tx', 5_000],
    ],
    expect: [],
  },
  { name: 'keepalive-only receipt needs no answer', events: [['auth-rx', 1_000]], expect: [] },
  {
    name: 'armed once: later data does not push it',
    events: [
      ['data-rx', 1_000],
      ['data-rx', 9_000],
    ],
    expect: [11_000],
  },
  {
    name: 're-armed by data after the keepalive',
    events: [
      ['data-rx', 1_000],
      ['data-rx', 12_000],
    ],
    expect: [11_000, 22_000],
  },
] as const) {
  test(`passive keepalive: ${name}`, (t) => {
    const m = session(true);
    const sent: number[] = [];
    for (const [kind, at] of events) {
      for (const [when, a] of run(m, T0 + at)) if (a.type === 'send-keepalive') sent.push(when - T0);
      if (kind === 'data-rx') m.onDataReceived(T0 + at);
      else if (kind === 'auth-rx') m.onAuthenticatedReceived(T0 + at);
      else m.onDataSent(T0 + at);
    }
    for (const [when, a] of run(m, T0 + 60_000)) if (a.type === 'send-keepalive') sent.push(when - T0);
    t.deepEqual(sent, [...expect]);
  });
}

test('passive keepalive fires at exactly 10 s, not a microsecond earlier', (t) => {
  const m = session(true);
  m.onDataReceived(T0 + 1_000);
  t.deepEqual(m.tick(T0 + 10_999.999), []);
  t.deepEqual(m.tick(T0 + 11_000), [{ type: 'send-keepalive', reason: 'passive' }]);
});

test('dead path: data sent and nothing received for 15 s (+ jitter) starts a handshake', (t) => {
  const m = session(true, () => 0.999);
  m.onDataSent(T0 + 1_000);
  m.onDataSent(T0 + 9_000); // armed once, not pushed by later sends
  t.deepEqual(m.tick(T0 + 16_332), []);
  t.deepEqual(m.tick(T0 + 16_333), [{ type: 'send-initiation', reason: 'dead-path', attempt: 1 }]);

  const alive = session(true);
  alive.onDataSent(T0 + 1_000);
  alive.onAuthenticatedReceived(T0 + 15_999); // even a keepalive proves the path
  t.deepEqual(initiations(run(alive, T0 + 60_000).map(([, a]) => a)), []);
});

test('sag: every path dead starts the dead-path handshake at once, within the handshake rate limit', (t) => {
  const m = session(true);
  m.onDataSent(T0 + 10_000); // dead-path armed for T0 + 25 s
  t.deepEqual(m.onPathsDead(T0 + 10_300), [{ type: 'send-initiation', reason: 'dead-path', attempt: 1 }]);
  t.deepEqual(m.onPathsDead(T0 + 10_400), [], 'not while that initiation is being retransmitted');
  t.deepEqual(initiations(m.tick(T0 + 15_300)), [
    { type: 'send-initiation', reason: 'retransmit', attempt: 2 },
  ]);
  // Just after a handshake (our response at T0): held back to REKEY_TIMEOUT after it, not dropped.
  const fresh = session(false);
  t.deepEqual(fresh.onPathsDead(T0 + 1_000), []);
  t.deepEqual(initiations(run(fresh, T0 + 5_000).map(([, a]) => a)), [
    { type: 'send-initiation', reason: 'dead-path', attempt: 1 },
  ]);
});

test('persistent keepalive every N s of silence; traffic postpones it; 0 turns it off', (t) => {
  const m = session(true);
  t.deepEqual(m.setPersistentKeepalive(T0 + 100, 25), [{ type: 'send-keepalive', reason: 'persistent' }]);
  t.is(m.nextDeadline(), T0 + 25_100);
  t.deepEqual(
    run(m, T0 + 60_000).map(([at, a]) => [at - T0, a.type]),
    [
      [25_100, 'send-keepalive'],
      [50_100, 'send-keepalive'],
    ],
  );
  m.onAuthenticatedReceived(T0 + 60_000); // traffic in either direction counts
  t.deepEqual(m.tick(T0 + 75_100), []);
  t.deepEqual(m.tick(T0 + 85_000), [{ type: 'send-keepalive', reason: 'persistent' }]);
  t.deepEqual(m.setPersistentKeepalive(T0 + 90_000, 0), []);
  t.false(m.pendingDeadlines().some((d) => d.name === 'persistent-keepalive'));
  t.throws(() => m.setPersistentKeepalive(T0 + 90_000, 65_536), { code: 'ERR_SAG_INVALID_ARGUMENT' });
  t.throws(() => m.setPersistentKeepalive(T0 + 90_000, 1.5), { code: 'ERR_SAG_INVALID_ARGUMENT' });
});

test('a keepalive due without a session becomes a handshake', (t) => {
  const m = new PeerTimers({ random: () => 0 });
  t.deepEqual(m.setPersistentKeepalive(T0, 25), [
    { type: 'send-initiation', reason: 'keepalive-without-session', attempt: 1 },
  ]);
});

// ---- Expiry and zeroing ----

test('keypairs expire at REJECT_AFTER_TIME (180 s), each on its own clock', (t) => {
  const m = session(true);
  m.onHandshakeComplete(T0 + 100_000, { isInitiator: true, localIndex: 2 }); // 1 becomes previous
  t.deepEqual(m.tick(T0 + 179_999), []);
  t.deepEqual(m.tick(T0 + 180_000), [{ type: 'expire-keypair', localIndex: 1 }]);
  t.true(m.keypairs.previous?.expired);
  t.false(m.keypairs.current?.expired);
  t.deepEqual(m.tick(T0 + 280_000), [{ type: 'expire-keypair', localIndex: 2 }]);
  // An expired current keypair cannot carry a keepalive.
  t.deepEqual(types(m.setPersistentKeepalive(T0 + 280_001, 10)), ['send-initiation']);
});

test('all keys are zeroed 3 × REJECT_AFTER_TIME (540 s) after the last new session', (t) => {
  const m = session(true);
  const log = run(m, T0 + 300_000);
  m.onHandshakeComplete(T0 + 300_000, { isInitiator: true, localIndex: 2 });
  log.push(...run(m, T0 + 300_000 + 540_000));
  t.deepEqual(
    log.map(([at, a]) => [at - T0, a]),
    [
      [180_000, { type: 'expire-keypair', localIndex: 1 }],
      [480_000, { type: 'expire-keypair', localIndex: 2 }],
      [840_000, { type: 'zero-keys', localIndices: [1, 2] }],
    ],
  );
  t.deepEqual(m.keypairs, { previous: undefined, current: undefined, next: undefined });
});

// ---- Rate limit and triggers ----

for (const [at, sends] of [
  [4_999, false],
  [5_000, true],
] as const) {
  test(`initiation rate limit: a second request at +${at} ms ${sends ? 'sends' : 'is refused'}`, (t) => {
    const m = new PeerTimers({ random: () => 0.9 }); // retransmit at +5300, out of the way
    t.is(initiations(m.onStagedPackets(T0)).length, 1);
    t.deepEqual(
      initiations(m.onStagedPackets(T0 + at)),
      sends ? [{ type: 'send-initiation', reason: 'staged-packets', attempt: 1 }] : [],
    );
  });
}

test('a response we sent rate-limits initiations; the refused request is sent when allowed', (t) => {
  const m = new PeerTimers({ random: () => 0 });
  t.deepEqual(m.onHandshakeComplete(T0, { isInitiator: false, localIndex: 3 }), []);
  t.deepEqual(m.onStagedPackets(T0 + 1_000), []);
  t.is(m.nextDeadline(), T0 + 5_000);
  t.deepEqual(m.tick(T0 + 5_000), [{ type: 'send-initiation', reason: 'staged-packets', attempt: 1 }]);

  // Confirmation in the meantime makes the deferred request moot.
  const c = new PeerTimers({ random: () => 0 });
  c.onHandshakeComplete(T0, { isInitiator: false, localIndex: 3 });
  c.onStagedPackets(T0 + 1_000);
  c.onKeypairConfirmed(T0 + 1_200, 3);
  t.deepEqual(initiations(run(c, T0 + 20_000).map(([, a]) => a)), []);
});

test('staged packets with no session trigger a handshake', (t) => {
  const m = new PeerTimers({ random: () => 0 });
  t.deepEqual(m.onStagedPackets(T0), [{ type: 'send-initiation', reason: 'staged-packets', attempt: 1 }]);
});

test('REKEY_AFTER_MESSAGES rekeys on any current keypair, ignoring stale signals', (t) => {
  const m = session(false); // even a responder's keypair
  t.deepEqual(m.onRekeyAfterMessages(T0 + 10_000, 99), []);
  t.deepEqual(m.onRekeyAfterMessages(T0 + 10_000, 1), [
    { type: 'send-initiation', reason: 'rekey-after-messages', attempt: 1 },
  ]);
  const n = session(true);
  t.is(initiations(n.onRekeyAfterMessages(T0 + 10_000)).length, 1);
});

// ---- Keypair slots ----

test('slots: initiator keypairs are current at once, responder keypairs wait as next until confirmed', (t) => {
  const m = new PeerTimers();
  const idx = () => {
    const k = m.keypairs;
    return [k.previous?.localIndex, k.current?.localIndex, k.next?.localIndex];
  };
  m.onHandshakeComplete(T0, { isInitiator: true, localIndex: 1, hasStagedPackets: true });
  m.onHandshakeComplete(T0 + 1, { isInitiator: true, localIndex: 2, hasStagedPackets: true });
  t.deepEqual(idx(), [1, 2, undefined]);
  t.deepEqual(m.onHandshakeComplete(T0 + 2, { isInitiator: false, localIndex: 3 }), [
    { type: 'retire-keypair', localIndex: 1 },
  ]);
  t.deepEqual(idx(), [undefined, 2, 3]);
  t.false(m.keypairs.next!.isInitiator);
  t.deepEqual(m.onKeypairConfirmed(T0 + 3, 4), []); // not ours: ignored
  t.deepEqual(m.onKeypairConfirmed(T0 + 3, 3), []);
  t.deepEqual(idx(), [2, 3, undefined]);
  // A responder keypair displaced by an initiator keypair before confirmation becomes previous.
  m.onHandshakeComplete(T0 + 4, { isInitiator: false, localIndex: 5 });
  t.deepEqual(idx(), [undefined, 3, 5]);
  t.deepEqual(m.onHandshakeComplete(T0 + 5, { isInitiator: true, localIndex: 6, hasStagedPackets: true }), [
    { type: 'retire-keypair', localIndex: 3 },
  ]);
  t.deepEqual(idx(), [5, 6, undefined]);
  t.throws(() => m.onHandshakeComplete(T0 + 6, { isInitiator: true, localIndex: 6 }), {
    code: 'ERR_SAG_INVALID_STATE',
  });
});

test('rejects a clock that goes backwards and malformed inputs', (t) => {
  const m = new PeerTimers();
  m.tick(T0);
  t.throws(() => m.tick(T0 - 1), { code: 'ERR_SAG_INVALID_ARGUMENT' });
  t.throws(() => m.tick(Number.NaN), { code: 'ERR_SAG_INVALID_ARGUMENT' });
  t.throws(() => m.onHandshakeComplete(T0, { isInitiator: true, localIndex: 0 }), {
    code: 'ERR_SAG_INVALID_ARGUMENT',
  });
  t.throws(() => m.onKeypairConfirmed(T0, 2 ** 32), { code: 'ERR_SAG_INVALID_ARGUMENT' });
});

// ---- nextDeadline under random driving ----

/** mulberry32: a small seeded PRNG so failures replay. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

test('nextDeadline is always the earliest pending deadline, nothing fires before it, and initiations stay 5 s apart', (t) => {
  for (let seed = 1; seed <= 40; seed++) {
    const rnd = prng(seed);
    const m = new PeerTimers({ random: rnd });
    let now = T0;
    let index = 1;
    const sentAt: number[] = [];
    const record = (at: number, actions: TimerAction[]) => {
      for (const a of actions) if (a.type === 'send-initiation') sentAt.push(at);
    };
    const check = () => {
      const pending = m.pendingDeadlines().map((d) => d.at);
      const d = m.nextDeadline();
      t.is(d, pending.length ? Math.min(...pending) : undefined, `seed ${seed}`);
      if (d !== undefined) t.true(d > now, `seed ${seed}: deadline ${d} not after now ${now}`);
    };
    for (let step = 0; step < 400; step++) {
      const target = now + Math.floor(rnd() * 30_000);
      for (let d = m.nextDeadline(); d !== undefined && d <= target; d = m.nextDeadline()) {
        if (d - 1 > now) t.deepEqual(m.tick(d - 1), [], `seed ${seed}: early action before ${d}`);
        record(d, m.tick(d));
        now = d;
        const after = m.nextDeadline();
        if (after !== undefined && after <= d)
          throw new Error(`seed ${seed}: deadline ${d} still pending after tick`);
        check();
      }
      now = target;
      const r = rnd();
      let out: TimerAction[];
      if (r < 0.2) out = m.onDataSent(now);
      else if (r < 0.35) out = m.onDataReceived(now);
      else if (r < 0.45) out = m.onAuthenticatedReceived(now);
      else if (r < 0.55) out = m.onStagedPackets(now);
      else if (r < 0.65) out = m.onHandshakeComplete(now, { isInitiator: rnd() < 0.5, localIndex: index++ });
      else if (r < 0.7) out = m.onKeypairConfirmed(now, m.keypairs.next?.localIndex ?? 1);
      else if (r < 0.75) out = m.onRekeyAfterMessages(now);
      else if (r < 0.8) out = m.setPersistentKeepalive(now, Math.floor(rnd() * 3) * 15);
      else out = m.tick(now);
      record(now, out);
      check();
    }
    for (let i = 1; i < sentAt.length; i++)
      t.true(
        sentAt[i]! - sentAt[i - 1]! >= 5_000,
        `seed ${seed}: initiations ${sentAt[i - 1]} and ${sentAt[i]}`,
      );
  }
});

test('rekeyAfterTimeMs (lab option) shortens only the send-side rekey, never below REKEY_TIMEOUT', (t) => {
  const fast = new PeerTimers({ random: () => 0, rekeyAfterTimeMs: 8_000 });
  fast.onHandshakeComplete(T0, { isInitiator: true, localIndex: 1 });
  t.deepEqual(initiations(fast.onDataSent(T0 + 8_000)), []);
  t.deepEqual(initiations(fast.onDataSent(T0 + 8_001)), [
    { type: 'send-initiation', reason: 'rekey-after-time', attempt: 1 },
  ]);
  const clamped = new PeerTimers({ random: () => 0, rekeyAfterTimeMs: 10 });
  clamped.onHandshakeComplete(T0, { isInitiator: true, localIndex: 1 });
  t.deepEqual(initiations(clamped.onDataSent(T0 + 4_000)), []);
  t.is(initiations(clamped.onDataSent(T0 + 5_001)).length, 1);
});
