/**
 * The agent's world for tests without root: an in-process controller (Fastify on 127.0.0.1,
 * in-memory store, restartable on the same port), two hub Gateways with memory TUNs playing
 * access points behind UDP relays (settable delay), and a factory for agents.
 */
import type { ExecutionContext } from 'ava';
import { once } from 'node:events';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Agent, type AgentEvents, type AgentOptions } from '../../src/agent/index.js';
import { HttpControllerClient } from '../../src/contract/index.js';
import { buildControllerApp } from '../../src/controller/api/index.js';
import { compileAccessPointConfig } from '../../src/controller/compiler/index.js';
import { MemoryStore } from '../../src/controller/store/index.js';
import { Gateway, type GatewayOptions } from '../../src/gateway/index.js';
import { encodeKey, generatePrivateKey, publicKeyFromPrivate } from '../../src/wg/crypto.js';
import { memoryTun, tunInject, tunTake } from '../../src/testing/index.js';
import { ipv4Packet } from './packets.js';
import { waitFor } from './time.js';

export const CTX = { actor: 'test', at: Date.now() };

/** A UDP forwarder with a settable one-way delay; replies go to whoever sent last (WireGuard roams). */
export class Relay {
  readonly left: Socket = createSocket('udp4');
  readonly right: Socket = createSocket('udp4');
  delayMs = 0;
  #client: RemoteInfo | undefined;

  async start(target: number): Promise<string> {
    this.left.on('message', (msg, from) => {
      this.#client = from;
      this.#later(() => this.right.send(msg, target, '127.0.0.1'));
    });
    this.right.on('message', (msg) => {
      const client = this.#client;
      if (client) this.#later(() => this.left.send(msg, client.port, client.address));
    });
    this.left.bind(0, '127.0.0.1');
    this.right.bind(0, '127.0.0.1');
    await Promise.all([once(this.left, 'listening'), once(this.right, 'listening')]);
    return `127.0.0.1:${this.left.address().port}`;
  }

  #closed = false;

  #later(fn: () => void): void {
    const send = () => {
      if (!this.#closed) fn();
    };
    if (this.delayMs > 0) setTimeout(send, this.delayMs);
    else send();
  }

  close(): void {
    this.#closed = true;
    this.left.close();
    this.right.close();
  }
}

export function keypair() {
  const priv = generatePrivateKey();
  return { priv: encodeKey(priv), pub: encodeKey(publicKeyFromPrivate(priv)) };
}

export const gatewayOptions = { tun: memoryTun, listenAddress: '127.0.0.1', pollIntervalMs: 20 } as const;

/** Resolves with the next `event` whose payload passes `when`. */
export function next<E extends keyof AgentEvents>(
  agent: Agent,
  event: E,
  when: (...args: AgentEvents[E]) => boolean = () => true,
  ms = 15_000,
): Promise<AgentEvents[E][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      agent.off(event, listener as never);
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    const listener = (...args: AgentEvents[E]) => {
      if (!when(...args)) return;
      clearTimeout(timer);
      agent.off(event, listener as never);
      resolve(args[0]);
    };
    agent.on(event, listener as never);
  });
}

/** Injects an IPv4 packet at `from` and waits for it to come out of `to`'s TUN. */
export async function delivered(from: Gateway, to: Gateway, src: string, dst: string): Promise<boolean> {
  while (tunTake(to.dataplane) !== null);
  tunInject(from.dataplane, ipv4Packet(src, dst, 80));
  let got: Buffer | null = null;
  const ok = await waitFor(() => {
    got = tunTake(to.dataplane);
    return got !== null && got.subarray(16, 20).join('.') === dst;
  }, 5000);
  return ok;
}

export async function world(t: ExecutionContext, gatewayExtra: Partial<GatewayOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sag-agent-'));
  const store = new MemoryStore();
  const { token: apiKey } = await store.createApiKey({ name: 'test' }, CTX);
  const controller = { app: undefined as FastifyInstance | undefined, port: 0 };
  const startController = async () => {
    const app = buildControllerApp({
      store,
      clock: Date.now,
      storeCheckMs: 100,
      // The agents here report every 300 ms, 100 times the production rate, and tests
      // read counters right after a report: store every report, and do not limit them.
      limits: { statusReportsPerMinute: 100_000, statusStoreEveryMs: 1 },
    });
    await app.listen({ host: '127.0.0.1', port: controller.port });
    controller.port = (app.server.address() as { port: number }).port;
    controller.app = app;
  };
  await startController();
  const url = `http://127.0.0.1:${controller.port}`;
  const keys = { a: keypair(), b: keypair() };
  const hubs = {
    a: new Gateway({ ...gatewayOptions, privateKey: keys.a.priv }),
    b: new Gateway({ ...gatewayOptions, privateKey: keys.b.priv }),
  };
  const relays = { a: new Relay(), b: new Relay() };
  const endpoints = {
    a: await relays.a.start(hubs.a.listenPort),
    b: await relays.b.start(hubs.b.listenPort),
  };
  await hubs.a.start();
  await hubs.b.start();
  const agents: Agent[] = [];
  t.teardown(async () => {
    for (const agent of agents) await agent.stop();
    await controller.app?.close();
    await hubs.a.stop();
    await hubs.b.stop();
    relays.a.close();
    relays.b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const operator = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${controller.port}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text === '' ? undefined : JSON.parse(text);
  };

  /** What a hub agent would do: run the access point's compiled peers on its Gateway. */
  const syncHubs = async () => {
    const state = await store.load();
    for (const [id, hub] of [
      ['ap-a', hubs.a],
      ['ap-b', hubs.b],
    ] as const) {
      for (const peer of compileAccessPointConfig(state, id).peers) {
        if (hub.peers().some((p) => p.publicKey === peer.publicKey))
          hub.updatePeer(peer.publicKey, { allowedIps: peer.allowedIps });
        else hub.addPeer({ publicKey: peer.publicKey, allowedIps: peer.allowedIps });
      }
    }
  };

  const newAgent = (extra: Partial<AgentOptions> = {}) => {
    const agent = new Agent({
      stateDir: join(dir, 'agent'),
      controller: new HttpControllerClient({ url, requestTimeoutMs: 3000 }),
      gatewayFactory: ({ privateKey }) => new Gateway({ ...gatewayOptions, ...gatewayExtra, privateKey }),
      softwareVersion: '1.2.3',
      longPollSec: 5,
      statusIntervalMs: 300,
      probeTimeoutMs: 2000,
      reprobeIntervalMs: 0,
      retry: { initialMs: 100, maxMs: 400 },
      ...extra,
    });
    agents.push(agent);
    return agent;
  };

  return {
    dir,
    store,
    controller,
    startController,
    keys,
    hubs,
    relays,
    endpoints,
    operator,
    syncHubs,
    newAgent,
  };
}

/** The operator's side: two hubs with known keys, two branches in one CCN, device SN-1 bound to sag-1 awaiting activation; returns its activation code. */
export async function provisionTwoHubs(w: World): Promise<string> {
  await w.operator('POST', '/v1/access-points', {
    id: 'ap-a',
    area: 'mainland',
    endpoints: [w.endpoints.a],
    maxInstances: 10,
    publicKey: w.keys.a.pub,
  });
  await w.operator('POST', '/v1/access-points', {
    id: 'ap-b',
    area: 'mainland',
    endpoints: [w.endpoints.b],
    maxInstances: 10,
    publicKey: w.keys.b.pub,
  });
  const wan = [{ name: 'wan1', kind: 'wired', priority: 1, weight: 100 }];
  await w.operator('POST', '/v1/instances', {
    id: 'sag-1',
    name: 'One',
    area: 'mainland',
    model: 'app',
    bandwidthMbps: 50,
    lanCidrs: ['192.168.1.0/24'],
    uplinks: wan,
  });
  await w.operator('POST', '/v1/instances', {
    id: 'sag-2',
    name: 'Two',
    area: 'mainland',
    model: 'app',
    bandwidthMbps: 50,
    lanCidrs: ['192.168.2.0/24'],
    uplinks: wan,
  });
  await w.operator('POST', '/v1/ccns', {
    id: 'ccn-main',
    name: 'Main',
    area: 'mainland',
    cidrs: ['10.10.0.0/16'],
  });
  await w.operator('PUT', '/v1/ccns/ccn-main/members/sag-1');
  await w.operator('PUT', '/v1/ccns/ccn-main/members/sag-2');
  await w.operator('POST', '/v1/devices', { serial: 'SN-1', model: 'app', softwareVersion: '1.0' });
  await w.operator('POST', '/v1/devices/SN-1/bind', { instanceId: 'sag-1' });
  const { code } = await w.operator('POST', '/v1/devices/SN-1/activation', { ttlSeconds: 600 });
  return code as string;
}

export type World = Awaited<ReturnType<typeof world>>;
