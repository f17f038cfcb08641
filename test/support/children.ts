/**
 * Typed handles on harness child processes (udp-relay-cli.ts, probe-cli.ts), on this host or in a
 * network namespace. In a namespace, pass `nsSpawner(namespaces, ns)` so the Namespaces helper
 * kills the child at cleanup even if the test failed before close().
 */
import type { Namespaces } from './netns.js';
import { HarnessChild, harnessCommand, localSpawner, type Json, type Spawner } from './json-lines.js';
import type {
  ProbeReceiverOptions,
  ProbeReport,
  ProbeSenderOptions,
  ReportOptions,
  SenderStats,
} from './probe-traffic.js';
import type { Direction, Impairment, RelayCounters, UdpRelayOptions } from './udp-relay.js';

export type { Spawner } from './json-lines.js';
export { localSpawner } from './json-lines.js';

export function nsSpawner(namespaces: Namespaces, ns: string): Spawner {
  return (cmd, args) => namespaces.spawn(ns, cmd, args);
}

function start(script: string, args: string[], spawner: Spawner): HarnessChild {
  const c = harnessCommand(script, args);
  return new HarnessChild(spawner(c.cmd, c.args));
}

export interface RelayAck {
  /** wallNow() in the relay when the change took effect. */
  at: number;
  impairment: { leftToRight: Impairment; rightToLeft: Impairment };
  counters: RelayCounters;
}

export class RelayChild {
  readonly proc: HarnessChild;
  listenPort = 0;
  outPort = 0;

  private constructor(proc: HarnessChild) {
    this.proc = proc;
  }

  static async spawn(opts: UdpRelayOptions, spawner: Spawner = localSpawner): Promise<RelayChild> {
    const r = new RelayChild(start('udp-relay-cli.ts', [JSON.stringify(opts)], spawner));
    const ready = await r.proc.ready;
    r.listenPort = ready.listenPort as number;
    r.outPort = ready.outPort as number;
    return r;
  }

  set(impairment: Partial<Impairment>, dir: Direction = 'both'): Promise<RelayAck> {
    return this.#req({ op: 'set', dir, impairment });
  }
  cut(opts: { dir?: Direction; flush?: boolean } = {}): Promise<RelayAck> {
    return this.#req({ op: 'cut', ...opts });
  }
  restore(dir: Direction = 'both'): Promise<RelayAck> {
    return this.#req({ op: 'restore', dir });
  }
  clear(dir: Direction = 'both'): Promise<RelayAck> {
    return this.#req({ op: 'clear', dir });
  }
  counters(): Promise<RelayAck> {
    return this.#req({ op: 'counters' });
  }
  close(): Promise<void> {
    return this.proc.close();
  }

  async #req(req: Json): Promise<RelayAck> {
    return (await this.proc.request(req)) as unknown as RelayAck;
  }
}

export class ProbeReceiverChild {
  readonly proc: HarnessChild;
  port = 0;

  private constructor(proc: HarnessChild) {
    this.proc = proc;
  }

  static async spawn(
    opts: ProbeReceiverOptions = {},
    spawner: Spawner = localSpawner,
  ): Promise<ProbeReceiverChild> {
    const r = new ProbeReceiverChild(start('probe-cli.ts', ['recv', JSON.stringify(opts)], spawner));
    r.port = (await r.proc.ready).port as number;
    return r;
  }

  async report(opts: ReportOptions = {}): Promise<ProbeReport> {
    return (await this.proc.request({ op: 'report', ...opts })).report as ProbeReport;
  }
  async reset(): Promise<void> {
    await this.proc.request({ op: 'reset' });
  }
  close(): Promise<void> {
    return this.proc.close();
  }
}

export class ProbeSenderChild {
  readonly proc: HarnessChild;
  port = 0;

  private constructor(proc: HarnessChild) {
    this.proc = proc;
  }

  static async spawn(opts: ProbeSenderOptions, spawner: Spawner = localSpawner): Promise<ProbeSenderChild> {
    const s = new ProbeSenderChild(start('probe-cli.ts', ['send', JSON.stringify(opts)], spawner));
    s.port = (await s.proc.ready).port as number;
    return s;
  }

  /** Resolves when the sender reached its duration or count. */
  async done(timeoutMs = 120000): Promise<SenderStats> {
    return (await this.proc.event('done', timeoutMs)) as unknown as SenderStats;
  }
  async stop(): Promise<SenderStats> {
    return (await this.proc.request({ op: 'stop' })).stats as SenderStats;
  }
  close(): Promise<void> {
    return this.proc.close();
  }
}
