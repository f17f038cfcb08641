/**
 * Agent lifecycle against a scripted controller client (no HTTP): what activation
 * writes and uploads, refusals that must not damage an earlier identity, retry with
 * backoff while the controller is down, configurations that are not for this device.
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type AgentEvents } from '../../src/agent/index.js';
import {
  ControllerRefusedError,
  ControllerUnreachableError,
  contentVersion,
  type ConfigAnswer,
  type ControllerClient,
  type DeviceConfig,
  type DeviceStatusReport,
} from '../../src/contract/index.js';
import { Gateway } from '../../src/gateway/index.js';
import { decodeKey, encodeKey, publicKeyFromPrivate } from '../../src/wg/crypto.js';
import { memoryTun } from '../../src/testing/index.js';
import { waitFor } from '../support/time.js';

class ScriptedController implements ControllerClient {
  activations: { serial: string; code: string; publicKey: string }[] = [];
  reports: DeviceStatusReport[] = [];
  /** What getConfig does next. */
  mode: 'down' | 'refuse' | 'serve' = 'down';
  config: DeviceConfig | undefined;

  async activate(input: { serial: string; code: string; publicKey: string }) {
    this.activations.push(input);
    if (input.code !== 'GOOD')
      throw new ControllerRefusedError(401, 'ERR_ACTIVATION_INVALID', 'serial number and code do not match');
    return { token: `sagd_token${this.activations.length}` };
  }

  async getConfig(
    _serial: string,
    _token: string,
    query: { after?: string; signal?: AbortSignal } = {},
  ): Promise<ConfigAnswer> {
    if (this.mode === 'down') throw new ControllerUnreachableError('connect ECONNREFUSED');
    if (this.mode === 'refuse')
      throw new ControllerRefusedError(
        409,
        'ERR_COMPILER_DEVICE_NOT_BOUND',
        'device is bound to no instance',
      );
    if (this.config && this.config.version !== query.after) return { kind: 'config', config: this.config };
    await new Promise((r) => setTimeout(r, 50));
    return { kind: 'unchanged', version: query.after ?? '' };
  }

  async reportStatus(_serial: string, _token: string, report: DeviceStatusReport) {
    if (this.mode === 'down') throw new ControllerUnreachableError('connect ECONNREFUSED');
    this.reports.push(report);
  }
}

function setup(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'sag-agent-life-'));
  const controller = new ScriptedController();
  const agents: Agent[] = [];
  t.teardown(async () => {
    for (const a of agents) await a.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const make = () => {
    const agent = new Agent({
      stateDir: join(dir, 'state'),
      controller,
      gatewayFactory: ({ privateKey }) =>
        new Gateway({ privateKey, tun: memoryTun, listenAddress: '127.0.0.1' }),
      retry: { initialMs: 20, maxMs: 80 },
      statusIntervalMs: 60_000,
      reprobeIntervalMs: 0,
    });
    agents.push(agent);
    return agent;
  };
  return { dir: join(dir, 'state'), controller, make };
}

function collect<E extends keyof AgentEvents>(agent: Agent, event: E): AgentEvents[E][0][] {
  const seen: AgentEvents[E][0][] = [];
  agent.on(event, ((e: AgentEvents[E][0]) => seen.push(e)) as never);
  return seen;
}

function deviceConfig(publicKey: string, serial = 'SN-1'): DeviceConfig {
  const body = {
    kind: 'device' as const,
    serial,
    publicKey,
    instance: { id: 'sag-1', area: 'mainland', model: 'app' as const, bandwidthMbps: 10 },
    ccnId: null,
    address: '100.96.0.9/32',
    uplinks: [],
    allowedIps: [],
    routes: [],
    peers: [],
  };
  return { ...body, version: contentVersion(body), modelVersion: 1 };
}

test('activation generates the key here, uploads only the public key and stores the secrets 0600', async (t) => {
  const { dir, controller, make } = setup(t);
  const agent = make();
  const { publicKey } = await agent.activate('SN-1', 'GOOD');
  t.deepEqual(Object.keys(controller.activations[0]!).sort(), ['code', 'publicKey', 'serial']);
  t.is(controller.activations[0]?.publicKey, publicKey);
  const privateKey = readFileSync(join(dir, 'private.key'), 'utf8').trim();
  t.is(encodeKey(publicKeyFromPrivate(decodeKey(privateKey))), publicKey);
  t.false(JSON.stringify(controller.activations).includes(privateKey));
  t.is(statSync(dir).mode & 0o777, 0o700);
  for (const file of ['private.key', 'identity.json'])
    t.is(statSync(join(dir, file)).mode & 0o777, 0o600, file);
  t.is(JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')).token, 'sagd_token1');
});

test('a refused re-activation leaves the earlier identity and key in place', async (t) => {
  const { dir, make } = setup(t);
  const agent = make();
  await agent.activate('SN-1', 'GOOD');
  const key = readFileSync(join(dir, 'private.key'), 'utf8');
  const identity = readFileSync(join(dir, 'identity.json'), 'utf8');
  const err = await t.throwsAsync(agent.activate('SN-1', 'BAD'), { instanceOf: ControllerRefusedError });
  t.is(err?.apiCode, 'ERR_ACTIVATION_INVALID');
  t.is(readFileSync(join(dir, 'private.key'), 'utf8'), key);
  t.is(readFileSync(join(dir, 'identity.json'), 'utf8'), identity);
  t.false(existsSync(join(dir, 'private.key.new')));
});

test('with the controller down and nothing on disk the agent runs, retries with backoff and catches up', async (t) => {
  const { controller, make } = setup(t);
  const agent = make();
  const { publicKey } = await agent.activate('SN-1', 'GOOD');
  const down = collect(agent, 'controller:unreachable');
  const applied = collect(agent, 'config:applied');
  const back = collect(agent, 'controller:reachable');
  await agent.start();
  t.true(await waitFor(() => down.length >= 4, 3000));
  t.deepEqual(
    down.slice(0, 4).map((e) => e.attempt),
    [1, 2, 3, 4],
  );
  t.true(down[3]!.retryInMs > down[0]!.retryInMs, 'the wait grows');
  t.true(
    down.every((e) => e.retryInMs <= 80 * 1.2),
    'up to the cap',
  );
  t.false(agent.controllerReachable);
  t.is(agent.config, null);
  await t.throwsAsync(agent.reportNow(), { instanceOf: ControllerUnreachableError });

  controller.config = deviceConfig(publicKey);
  controller.mode = 'serve';
  t.true(await waitFor(() => applied.length === 1, 3000));
  t.is(back.length, 1);
  t.is(applied[0]?.source, 'controller');
  t.is(agent.config?.version, controller.config.version);
  await t.throwsAsync(agent.start(), { message: /already running/ });
  await agent.stop();
  await agent.stop();
});

test('a configuration for another key or device is rejected and not saved; refusals are reported', async (t) => {
  const { dir, controller, make } = setup(t);
  const agent = make();
  const { publicKey } = await agent.activate('SN-1', 'GOOD');
  const rejected = collect(agent, 'config:rejected');
  const refused = collect(agent, 'controller:refused');
  controller.mode = 'refuse';
  await agent.start();
  t.true(await waitFor(() => refused.length >= 2, 3000));
  t.is(refused[0]?.error.apiCode, 'ERR_COMPILER_DEVICE_NOT_BOUND');
  t.true(agent.controllerReachable, 'a refusal is an answer');

  controller.config = deviceConfig(encodeKey(Buffer.alloc(32, 9)));
  controller.mode = 'serve';
  t.true(await waitFor(() => rejected.length >= 2, 3000));
  t.regex(rejected[0]!.error.message, /another public key/);
  t.is(agent.config, null);
  t.false(existsSync(join(dir, 'config.json')));
  controller.config = deviceConfig(publicKey, 'SN-2');
  t.true(await waitFor(() => rejected.some((r) => /for device SN-2/.test(r.error.message)), 3000));

  controller.config = deviceConfig(publicKey);
  t.true(await waitFor(() => agent.config !== null, 3000));
  t.true(await waitFor(() => existsSync(join(dir, 'config.json')), 3000), 'the good one is saved');
});
