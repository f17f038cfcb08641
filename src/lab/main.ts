#!/usr/bin/env node
/**
 * `npm start`: runs the lab until Ctrl-C, printing its status; `npm start -- --check`
 * runs the checks once and exits 0 only if all pass. Needs root (namespaces, TUN
 * devices) and ip, nft, ping and iperf3; says so plainly otherwise.
 */
import { spawnSync } from 'node:child_process';
import { parseCommand, usageExit, type CommandSpec } from '../cli/args.js';
import { formatChecks, runChecks } from './checks.js';
import { Lab, sleep } from './lab.js';
import { statusTable } from './status.js';

const TOOLS = ['ip', 'nft', 'ping', 'iperf3', 'nsenter'];

function preflight(): string | undefined {
  if (process.platform !== 'linux') return 'the lab needs Linux (network namespaces, TUN devices)';
  if (process.getuid?.() !== 0)
    return 'the lab needs root: it creates network namespaces, veth links and TUN devices (run: sudo npm start)';
  const missing = TOOLS.filter(
    (t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0,
  );
  if (missing.length)
    return `the lab needs ${missing.join(', ')} (apt-get install iproute2 nftables iputils-ping iperf3)`;
  if (spawnSync('test', ['-c', '/dev/net/tun']).status !== 0) return 'the lab needs /dev/net/tun';
  return undefined;
}

const SPEC: CommandSpec = {
  command: 'npm start --',
  summary: 'run the lab until Ctrl-C, printing its status every 10 s',
  flags: [{ name: 'check', kind: 'bool', help: 'run the checks once; exit 0 only if all pass' }],
};

async function main(argv: string[]): Promise<number> {
  let check: boolean;
  try {
    const args = parseCommand(argv, SPEC);
    if (!args) return 0;
    check = args.bool('check');
  } catch (err) {
    const usage = usageExit('lab', err);
    if (usage === undefined) throw err;
    return usage;
  }
  const why = preflight();
  if (why) {
    process.stderr.write(`lab: ${why}\n`);
    return 1;
  }
  const lab = new Lab({ logger: (line) => process.stdout.write(`lab: ${line}\n`) });
  let keepLogs = false;
  const stop = async () => {
    await lab.stop({ keepLogs });
    process.stdout.write(`lab: everything removed${keepLogs ? `; logs kept in ${lab.dir}` : ''}\n`);
  };
  const interrupted = new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
  });
  try {
    await Promise.race([lab.start(), interrupted.then(() => Promise.reject(new Error('interrupted')))]);
    await sleep(1500); // one status file round
    process.stdout.write(`\n${statusTable(lab)}\n`);
    const results = await runChecks(lab);
    process.stdout.write(`\nchecks:\n${formatChecks(results)}\n\n`);
    const failed = results.filter((r) => !r.ok).length;
    if (check) {
      if (failed) process.stdout.write(`lab: ${failed} check(s) failed\n`);
      keepLogs = failed > 0;
      return failed ? 1 : 0;
    }
    process.stdout.write('lab: running; status every 10 s; Ctrl-C removes everything\n');
    for (;;) {
      const tick = await Promise.race([sleep(10_000).then(() => true), interrupted.then(() => false)]);
      if (!tick) break;
      process.stdout.write(`\n${new Date().toISOString()}\n${statusTable(lab)}\n`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`lab: ${(err as Error).message}\n`);
    keepLogs = true;
    return 1;
  } finally {
    await stop();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
