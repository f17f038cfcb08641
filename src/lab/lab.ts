/**
 * The lab: the whole SAG model on one host. start() builds the namespaces, runs
 * `sag controller`, provisions through its API, runs `sag ap run` twice and
 * `sag agent` three times (real command lines), and waits for every branch's
 * handshake. checks() proves reach, isolation and the bandwidth limit; stop()
 * removes everything. Reused by test/e2e/lab.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessPointStatus } from '../ap/index.js';
import { ip, netnsList } from '../ap/sys.js';
import { encodeJoin } from '../contract/join.js';
import { encodeKey, generatePrivateKey, publicKeyFromPrivate } from '../wg/crypto.js';
import { Daemon, runIn, SAG_JS } from './processes.js';
import type { Provisioned } from './provision.js';
import {
  APS,
  AP_PORT,
  BRANCHES,
  CONTROLLER_PORT,
  CONTROLLER_WAN,
  Topology,
  type BranchSpec,
} from './topology.js';

export interface LabOptions {
  /** Runs once the namespaces exist, before any daemon starts (a test's packet capture, say). */
  afterTopology?: (lab: Lab) => Promise<void>;
  /** Name tag of this run's namespaces and interfaces, [a-z][a-z0-9]{0,3}; default from the pid. */
  tag?: string;
  logger?: (line: string) => void;
}

export class Lab {
  readonly topology: Topology;
  readonly dir: string;
  readonly apiKey = `sagk_${randomBytes(24).toString('base64url')}`;
  readonly controllerUrl = `https://${CONTROLLER_WAN}:${CONTROLLER_PORT}`;
  /** The CA fingerprint the controller printed; every client of the lab pins it. */
  #caFingerprint = '';
  readonly #log: (line: string) => void;
  readonly #afterTopology: LabOptions['afterTopology'];
  readonly daemons = new Map<string, Daemon>();
  #provisioned: Provisioned | undefined;

  constructor(options: LabOptions = {}) {
    const tag = options.tag ?? `l${(process.pid % 1296).toString(36)}`;
    if (!/^[a-z][a-z0-9]{0,3}$/.test(tag))
      throw new RangeError(`lab tag ${tag}: 1 to 4 of a-z0-9, starting with a letter`);
    this.topology = new Topology(tag);
    this.dir = mkdtempSync(join(tmpdir(), `sag-lab-${tag}-`));
    this.#log = options.logger ?? (() => {});
    this.#afterTopology = options.afterTopology;
  }

  get tag(): string {
    return this.topology.tag;
  }
  /** The `--prefix` of access point i (1-based): its namespaces are `<prefix>-<ccn-id>`. */
  apPrefix(i: number): string {
    return `${this.tag}${i}`;
  }
  apStatusFile(apId: string): string {
    return join(this.dir, `${apId}.status.json`);
  }
  get provisioned(): Provisioned {
    if (!this.#provisioned) throw new Error('the lab is not provisioned');
    return this.#provisioned;
  }

  async start(): Promise<void> {
    try {
      await this.#start();
    } catch (err) {
      await this.stop({ keepLogs: true });
      throw err;
    }
  }

  async #start(): Promise<void> {
    this.#log(`building namespaces (tag ${this.tag}) in ${this.dir}`);
    await this.topology.build();
    await this.#afterTopology?.(this);
    const ctl = this.#daemon('controller', 'ctl', [
      'controller',
      '--db',
      join(this.dir, 'controller.db'),
      '--listen',
      `${CONTROLLER_WAN}:${CONTROLLER_PORT}`,
      '--api-key-file',
      this.#secretFile('api.key', this.apiKey),
      '--quiet',
    ]);
    const printed = await ctl.waitFor(/^CA fingerprint: sha256:[0-9a-f]{64}$/, 20_000);
    this.#caFingerprint = printed.slice('CA fingerprint: '.length);
    await ctl.waitFor(/listening on/, 20_000);
    this.#log(`controller up at ${this.controllerUrl}, CA ${this.#caFingerprint}`);

    const keys: Record<string, string> = {};
    for (const ap of APS) {
      const priv = generatePrivateKey();
      this.#secretFile(`${ap.id}.key`, encodeKey(priv));
      keys[ap.id] = encodeKey(publicKeyFromPrivate(priv));
    }
    const prov = await runIn(
      this.topology.ns('ctl'),
      process.execPath,
      [SAG_JS.replace(/cli[/\\]sag\.js$/, 'lab/provision.js')],
      60_000,
      {
        SAG_CONTROLLER: this.controllerUrl,
        SAG_API_KEY: this.apiKey,
        SAG_CA_FINGERPRINT: this.#caFingerprint,
        LAB_AP_KEYS: JSON.stringify(keys),
      },
    );
    if (prov.code !== 0) throw new Error(`provisioning failed: ${prov.stderr.trim() || prov.stdout.trim()}`);
    this.#provisioned = JSON.parse(prov.stdout.trim().split('\n').pop() as string) as Provisioned;
    this.#log(
      'provisioned: 2 access points, 3 instances and devices, 2 CCNs, 1 CEN with ccn-a and vpc-lab, grant mainland-international',
    );

    // Each daemon gets one secret, its join string: where the controller is, how to trust it, who it is.
    const joinFile = (
      name: string,
      credential: { serial: string; code: string } | { id: string; token: string },
    ) =>
      this.#secretFile(
        `${name}.join`,
        encodeJoin({ urls: [this.controllerUrl], caFingerprint: this.#caFingerprint, ...credential }),
      );
    for (const ap of APS) joinFile(ap.id, { id: ap.id, token: this.provisioned.apTokens[ap.id]! });
    for (const b of BRANCHES) joinFile(b.name, { serial: b.serial, code: this.provisioned.codes[b.serial]! });
    for (const ap of APS) this.#startAp(ap.id);
    for (const ap of APS) await this.daemons.get(ap.id)!.waitFor(/listening on UDP/, 20_000);
    this.#log('access points up');
    for (const b of BRANCHES) {
      this.#daemon(b.name, b.name, [
        'agent',
        '--join-file',
        join(this.dir, `${b.name}.join`),
        '--state-dir',
        join(this.dir, b.name),
        '--tun',
        `${this.tag}${b.name}`,
        // The configuration's wired uplink, bound to the router's WAN: paths to the access point
        // are probed, so a restarted access point is noticed in a fraction of a second.
        '--uplink',
        `wan0=${b.wan}`,
      ]);
    }
    await this.waitForHandshakes(45_000);
    this.#log('every branch has a session with its access point');
  }

  /** Resolves when ap-m1 reports a completed handshake with every branch. */
  async waitForHandshakes(ms: number): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      const status = this.apStatus('ap-m1');
      const up = status?.peers.filter((p) => p.lastHandshakeUnixMs > 0).length ?? 0;
      if (up === BRANCHES.length) return;
      for (const d of this.daemons.values())
        if (!d.running) throw new Error(`${d.name} exited; its last output:\n${d.tail()}`);
      if (Date.now() > until)
        throw new Error(
          `only ${up} of ${BRANCHES.length} branches completed a handshake with ap-m1 in ${ms} ms; see the logs in ${this.dir}`,
        );
      await sleep(300);
    }
  }

  /** The access point's last status file, or undefined before its first. */
  apStatus(apId: string): AccessPointStatus | undefined {
    try {
      return JSON.parse(readFileSync(this.apStatusFile(apId), 'utf8')) as AccessPointStatus;
    } catch {
      return undefined;
    }
  }

  /** Runs the operator CLI inside the controller's namespace (how checks change the model). */
  async operator(args: string[]): Promise<string> {
    const out = await runIn(this.topology.ns('ctl'), process.execPath, [SAG_JS, ...args], 30_000, {
      SAG_CONTROLLER: this.controllerUrl,
      SAG_API_KEY: this.apiKey,
      SAG_CA_FINGERPRINT: this.#caFingerprint,
    });
    if (out.code !== 0) throw new Error(`sag ${args.join(' ')}: ${out.stderr.trim()}`);
    return out.stdout;
  }

  /** ping from a branch's LAN host; true if any of `count` echoes came back. */
  async ping(from: BranchSpec, to: string, count = 3): Promise<boolean> {
    const r = await runIn(
      this.topology.ns(`${from.name}l`),
      'ping',
      ['-n', '-q', '-c', String(count), '-i', '0.2', '-W', '1', to],
      15_000,
    );
    return r.code === 0;
  }

  /** Stops every daemon (SIGTERM, so each cleans up after itself), then removes the namespaces. */
  async stop(options: { keepLogs?: boolean } = {}): Promise<void> {
    const order = [...BRANCHES.map((b) => b.name), ...APS.map((a) => a.id), 'controller'];
    for (const name of order) await this.daemons.get(name)?.stop();
    this.daemons.clear();
    // What a killed access point left: its CCN namespaces carry its prefix.
    for (const ns of await netnsList().catch(() => [] as string[])) {
      if (APS.some((_, i) => ns.startsWith(`${this.apPrefix(i + 1)}-`)))
        await ip(null, ['netns', 'del', ns]).catch(() => {});
    }
    await this.topology.teardown();
    if (!options.keepLogs) rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Ends an access point with `signal` (SIGKILL: nothing of its own cleanup runs) and
   * starts it again with the same arguments; resolves once it listens.
   */
  async restartAp(apId: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.daemons.get(apId)?.stop(8000, signal);
    rmSync(this.apStatusFile(apId), { force: true });
    await this.#startAp(apId).waitFor(/listening on UDP/, 20_000);
  }

  #startAp(apId: string): Daemon {
    const i = APS.findIndex((a) => a.id === apId);
    const ap = APS[i]!;
    return this.#daemon(
      ap.id,
      `ap${i + 1}`,
      [
        'ap',
        'run',
        '--join-file',
        join(this.dir, `${ap.id}.join`),
        '--key-file',
        join(this.dir, `${ap.id}.key`),
        '--listen-port',
        String(AP_PORT),
        '--prefix',
        this.apPrefix(i + 1),
        '--link-octet',
        String(ap.linkOctet),
        '--vpc',
        `vpc-lab=${this.topology.ns('vpc')}`,
        '--status-file',
        this.apStatusFile(ap.id),
      ],
      true,
    );
  }

  /**
   * A secret for a daemon, as a file in the lab's directory created 0600: secrets never go on a
   * command line, where every user of the host can read them.
   */
  #secretFile(name: string, secret: string): string {
    const file = join(this.dir, name);
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return file;
  }

  #daemon(name: string, role: string, args: string[], netOnly = false): Daemon {
    const d = new Daemon(
      name,
      this.topology.ns(role),
      [SAG_JS, ...args],
      this.dir,
      { LOG_LEVEL: 'info' },
      netOnly,
    );
    this.daemons.set(name, d);
    return d;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
