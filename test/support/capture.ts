/**
 * tcpdump inside a test namespace: started and waited for until it listens, stopped with SIGINT.
 * `--immediate-mode` (the default) matters for short captures, which can otherwise end before
 * anything is written; a long bulk capture turns it off so tcpdump keeps up with the traffic.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Namespaces } from './netns.js';
import { stopChild } from './processes.js';
import { sleep, waitFor } from './time.js';

export interface CaptureResult {
  /** The pcap file (file mode), for test/support/pcap.ts. */
  pcap: Buffer | undefined;
  /** Printed packet lines (text mode: TUN devices, which pcap.ts does not read). */
  lines: string[];
}

export async function startCapture(
  ns: Namespaces,
  nsName: string,
  dev: string,
  opts: { filter?: string; text?: boolean; immediate?: boolean } = {},
): Promise<{ stop(): Promise<CaptureResult> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sag-capture-'));
  const file = join(dir, 'cap.pcap');
  const output = opts.text ? ['-l'] : ['-U', '-s', '0', '-w', file];
  const child = ns.spawn(nsName, 'tcpdump', [
    '-i',
    dev,
    '-n',
    ...(opts.immediate === false ? [] : ['--immediate-mode']),
    ...output,
    ...(opts.filter ? [opts.filter] : []),
  ]);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (err += String(d)));
  if (
    !(await waitFor(() => /listening on/.test(err) || child.exitCode !== null, 10000)) ||
    child.exitCode !== null
  ) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`tcpdump did not start: ${err}`);
  }
  return {
    async stop() {
      await sleep(200); // let the last packets be written
      await stopChild(child, 'SIGINT');
      const pcap = opts.text ? undefined : readFileSync(file);
      rmSync(dir, { recursive: true, force: true });
      return { pcap, lines: out.split('\n').filter(Boolean) };
    },
  };
}
