/**
 * Interop topology: sag in namespace A, a peer in namespace B (Debian's wireguard-go or sag-wg,
 * both configured with `wg`), joined by veth.
 *
 *   ns <tag>a: sag (`sag up FILE` or `wg-quick up FILE` with sag-wg)     ns <tag>b: wireguard-go | sag-wg
 *     tun ia<tag> 10.82.0.1/24                                             tun ib<tag> 10.82.0.2/24
 *     va<tag> 10.81.0.1/29  ───────────────── veth ─────────────────────  vb<tag> 10.81.0.2/29
 *                   udp 51820                                                udp 51820
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Namespaces, sh, uniqueTag } from './netns.js';
import { SAG_WG, startSagUp, wgGenkey, wgPubkey } from './sag-process.js';

export const IP_A = '10.82.0.1';
export const IP_B = '10.82.0.2';
export const UNDER_A = '10.81.0.1';
export const UNDER_B = '10.81.0.2';

export type AMode = 'sag-up' | 'wg-quick';
export type BImpl = 'wireguard-go' | 'sag-wg';

export interface InteropOptions {
  aMode: AMode;
  bImpl: BImpl;
  /** Pre-shared keys: none, the same on both sides, or different ones. */
  psk?: 'none' | 'same' | 'mismatch';
  /** B expects a different public key for A than A has. */
  wrongKey?: boolean;
  /** sag's own rekey interval, shortened for the rekey-under-traffic test. */
  rekeyAfterMs?: number;
}

export interface Interop {
  nsA: string;
  nsB: string;
  ifA: string;
  ifB: string;
  vethA: string;
  /** What sag (A) printed on stderr so far (sag up mode). */
  logA(): string;
  wgB(...args: string[]): string;
  wgA(...args: string[]): string;
  cleanup(): Promise<void>;
  namespaces: Namespaces;
}

export async function buildInterop(opts: InteropOptions): Promise<Interop> {
  const tag = uniqueTag();
  const ns = new Namespaces();
  const dir = mkdtempSync(join(tmpdir(), 'sag-interop-'));
  let logA = () => '';
  const ifA = `ia${tag}`;
  const ifB = `ib${tag}`;
  const cleanup = async () => {
    await ns.cleanup();
    for (const i of [ifA, ifB]) rmSync(`/var/run/wireguard/${i}.sock`, { force: true });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const nsA = ns.add(`sagi${tag}a`);
    const nsB = ns.add(`sagi${tag}b`);
    const vethA = `va${tag}`;
    ns.link(
      { ns: nsA, dev: vethA, addr: `${UNDER_A}/29` },
      { ns: nsB, dev: `vb${tag}`, addr: `${UNDER_B}/29` },
    );
    const [ka, kb] = [wgGenkey(), wgGenkey()];
    const pskA = opts.psk === 'same' || opts.psk === 'mismatch' ? wgGenkey() : undefined;
    const pskB = opts.psk === 'same' ? pskA : opts.psk === 'mismatch' ? wgGenkey() : undefined;
    const aPubAsSeenByB = opts.wrongKey ? wgPubkey(wgGenkey()) : wgPubkey(ka);
    const env = {
      ...process.env,
      ...(opts.rekeyAfterMs ? { SAG_TEST_REKEY_AFTER_MS: String(opts.rekeyAfterMs) } : {}),
    };

    // B: the peer under test, configured with stock wg(8).
    const bBinary = opts.bImpl === 'wireguard-go' ? 'wireguard-go' : SAG_WG;
    execFileSync('ip', ['netns', 'exec', nsB, bBinary, ifB], {
      env: { ...process.env, LOG_LEVEL: 'error' },
      stdio: 'ignore',
    });
    const keyFileB = join(dir, 'b.key');
    writeFileSync(keyFileB, kb, { mode: 0o600 });
    const setB = [
      'set',
      ifB,
      'private-key',
      keyFileB,
      'listen-port',
      '51820',
      'peer',
      aPubAsSeenByB,
      'allowed-ips',
      `${IP_A}/32`,
      'endpoint',
      `${UNDER_A}:51820`,
    ];
    if (pskB) {
      writeFileSync(join(dir, 'b.psk'), pskB, { mode: 0o600 });
      setB.push('preshared-key', join(dir, 'b.psk'));
    }
    sh('wg', setB, { ns: nsB });
    sh('ip', ['addr', 'add', `${IP_B}/24`, 'dev', ifB], { ns: nsB });
    sh('ip', ['link', 'set', ifB, 'up'], { ns: nsB });

    // A: sag, from a wg-quick style file.
    const conf = join(dir, `${ifA}.conf`);
    writeFileSync(
      conf,
      [
        '[Interface]',
        `PrivateKey = ${ka}`,
        'ListenPort = 51820',
        `Address = ${IP_A}/24`,
        '',
        '[Peer]',
        `PublicKey = ${wgPubkey(kb)}`,
        ...(pskA ? [`PresharedKey = ${pskA}`] : []),
        `AllowedIPs = ${IP_B}/32`,
        `Endpoint = ${UNDER_B}:51820`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    if (opts.aMode === 'sag-up') {
      const sagEnv = Object.entries(env).filter(
        (e): e is [string, string] => e[0].startsWith('SAG_') && !!e[1],
      );
      logA = (await startSagUp(ns, nsA, conf, { env: Object.fromEntries(sagEnv) })).log;
    } else {
      chmodSync(SAG_WG, 0o755);
      execFileSync('ip', ['netns', 'exec', nsA, 'wg-quick', 'up', conf], {
        env: { ...env, WG_QUICK_USERSPACE_IMPLEMENTATION: SAG_WG },
        stdio: 'pipe',
      });
    }
    return {
      nsA,
      nsB,
      ifA,
      ifB,
      vethA,
      namespaces: ns,
      logA: () => logA(),
      wgA: (...args) => sh('wg', args, { ns: nsA }),
      wgB: (...args) => sh('wg', args, { ns: nsB }),
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Unix seconds of the peer's latest handshake as `wg show IFACE latest-handshakes` reports it. */
export function latestHandshake(wgOutput: string): number {
  const m = /\t(\d+)\s*$/m.exec(wgOutput);
  return m ? Number(m[1]) : 0;
}
