/**
 * Network-namespace test hosts: creation, veth links, commands inside them, and a cleanup that
 * always runs. Only for tests run as root; `e2eSkipReason()` says plainly why they cannot run.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { stopChild } from './processes.js';

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Why root-only tests must skip here, or undefined if they can run. */
export function e2eSkipReason(tools: string[] = ['ip']): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, TUN devices)';
  const missing = tools.filter((t) => !hasCommand(t));
  if (missing.length) return `missing tools: ${missing.join(', ')} (CI installs them in .ci/run)`;
  return undefined;
}

export function sh(cmd: string, args: string[], opts: { ns?: string; input?: string } = {}): string {
  const [file, argv] = opts.ns ? ['ip', ['netns', 'exec', opts.ns, cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { encoding: 'utf8', input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] });
}

let counter = 0;
/** A short unique suffix: names must fit IFNAMSIZ and must not clash between parallel test files. */
export function uniqueTag(): string {
  return `${(process.pid % 10000).toString(36)}${(counter++).toString(36)}`;
}

export class Namespaces {
  readonly names: string[] = [];
  readonly #children: ChildProcess[] = [];

  add(name: string): string {
    sh('ip', ['netns', 'add', name]);
    this.names.push(name);
    sh('ip', ['link', 'set', 'lo', 'up'], { ns: name });
    // No IPv6 autoconfiguration chatter on the links we capture.
    sh('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], {
      ns: name,
    });
    return name;
  }

  /** A veth pair between two namespaces with an IPv4 address on each end. */
  link(a: { ns: string; dev: string; addr: string }, b: { ns: string; dev: string; addr: string }): void {
    sh('ip', ['link', 'add', a.dev, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.dev, 'netns', b.ns]);
    for (const end of [a, b]) {
      sh('ip', ['addr', 'add', end.addr, 'dev', end.dev], { ns: end.ns });
      sh('ip', ['link', 'set', end.dev, 'up'], { ns: end.ns });
    }
  }

  /** Starts a long-running process inside a namespace; it is killed at cleanup. */
  spawn(ns: string, cmd: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#children.push(child);
    return child;
  }

  async cleanup(): Promise<void> {
    for (const c of this.#children) await stopChild(c, 'SIGTERM');
    for (const name of this.names.splice(0)) {
      // Anything still running inside (a daemonized wireguard-go, say) goes with its namespace.
      const pids =
        spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout?.split(/\s+/).filter(Boolean) ??
        [];
      for (const pid of pids) spawnSync('kill', ['-9', pid], { stdio: 'ignore' });
      spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    }
  }
}
