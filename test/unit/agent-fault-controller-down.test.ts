/**
 * Fault: the controller is down for a long time (20 s in CI; SAG_FAULT_DOWN_MS=300000 for five
 * minutes by hand). The agent keeps retrying with capped backoff, keeps its tunnel up on its last
 * good configuration through several rekeys (checked every second, both ways), and once the
 * controller is back converges on the changes the operator made meanwhile.
 */
import test from 'ava';
import type { Gateway } from '../../src/gateway/index.js';
import { CTX, delivered, next, provisionTwoHubs, world } from '../support/agent-world.js';
import { waitFor } from '../support/time.js';

const DOWN_MS = Number(process.env.SAG_FAULT_DOWN_MS ?? 20_000);
const REKEY_MS = 6_000;

test(`the agent rides out a controller outage of ${DOWN_MS / 1000} s with its tunnel up and converges after`, async (t) => {
  t.timeout(DOWN_MS + 60_000);
  const w = await world(t, { rekeyAfterTimeMs: REKEY_MS });
  const code = await provisionTwoHubs(w);
  const agent = w.newAgent();
  await agent.activate('SN-1', code);
  await w.syncHubs();
  const applied = next(agent, 'config:applied');
  await agent.start();
  await applied;
  t.true(await waitFor(() => agent.activeAccessPoint !== null, 10_000, 20), 'an access point is chosen');
  const gw = agent.gateway as Gateway;
  const hubOf = (id: string) => (id === 'ap-a' ? w.hubs.a : w.hubs.b);
  const me = (agent.config?.address as string).split('/')[0] as string;
  const hub = () => hubOf(agent.activeAccessPoint as string);
  t.true(await delivered(gw, hub(), me, '192.168.2.5'));

  // ---- the controller goes away for DOWN_MS
  const outages: number[] = [];
  agent.on('controller:unreachable', (e) => outages.push(e.retryInMs));
  let handshakes = 0;
  gw.on('peer:handshake', () => handshakes++);
  await w.controller.app?.close();
  const startedAt = Date.now();
  const failures: string[] = [];
  let checks = 0;
  let changed = false;
  while (Date.now() - startedAt < DOWN_MS) {
    await new Promise((r) => setTimeout(r, 1000));
    checks++;
    const at = `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
    if (!(await delivered(gw, hub(), me, '192.168.2.7'))) failures.push(`branch -> hub at ${at}`);
    if (!(await delivered(hub(), gw, '192.168.2.7', me))) failures.push(`hub -> branch at ${at}`);
    if (!changed && Date.now() - startedAt > DOWN_MS / 2) {
      // The model moves on meanwhile (another controller process, say).
      await w.store.apply(
        { kind: 'instance.update', id: 'sag-2', lanCidrs: ['192.168.2.0/24', '192.168.4.0/24'] },
        CTX,
      );
      changed = true;
    }
  }
  t.deepEqual(failures, [], `${failures.length} of ${checks * 2} checks failed during the outage`);
  t.false(agent.controllerReachable);
  t.true(outages.length >= 3, `the agent kept retrying (${outages.length} attempts)`);
  t.true(
    outages.every((ms) => ms <= 400 * 1.25),
    `retry waits stay capped: ${outages.join(', ')}`,
  );
  t.true(
    handshakes >= Math.floor(DOWN_MS / REKEY_MS) - 1,
    `sessions rotated without the controller (${handshakes} handshakes)`,
  );
  t.false(agent.config?.allowedIps.includes('192.168.4.0/24'), 'still on the last good configuration');

  // ---- the controller returns: the agent converges on what changed meanwhile
  const back = next(agent, 'controller:reachable');
  const converged = next(
    agent,
    'config:applied',
    (e) => e.config.allowedIps.includes('192.168.4.0/24'),
    15_000,
  );
  await w.startController();
  // The agent counts its outage from its first failed request, which can come a while after the
  // close (a long poll in flight ends when the server drops it): most of DOWN_MS, not all of it.
  const { downMs } = await back;
  t.true(downMs >= DOWN_MS / 2, `the agent saw an outage of ${downMs} ms`);
  await converged;
  await w.syncHubs();
  t.true(await delivered(gw, hub(), me, '192.168.4.1'), 'the prefix added during the outage is routed');
  t.true(await delivered(gw, hub(), me, '192.168.2.9'));
});
