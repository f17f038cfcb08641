#!/usr/bin/env node
/**
 * `sag`: the command line. Subcommands land here as their issues do; each reports errors as one
 * line on stderr and a non-zero exit status, never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { decodeKey, encodeKey, generatePrivateKey, publicKeyFromPrivate } from '../wg/crypto.js';
import { UsageError, parseCommand, usageExit, type CommandSpec, type ParsedArgs } from './args.js';
import { OPERATOR_SUMMARIES, runOperatorCommand } from './operator/index.js';
import { AGENT_SUMMARY, agentMain } from './agent.js';
import { AP_RUN_SUMMARY, apMain } from './ap.js';
import { table } from './operator/table.js';
import { listInterfaces, queryInterface, toJson, toText } from './show.js';
import { queryPaths, withPaths } from './paths-status.js';
import { dropsText, queryDrops, withDrops } from './show-drops.js';
import { up } from './up.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface Simple extends Omit<CommandSpec, 'command'> {
  run(args: ParsedArgs): Promise<void>;
}

/** The data-plane commands and the small ones; each parses its argv with the one parser. */
const SIMPLE: Record<string, Simple> = {
  up: {
    summary: 'bring up a tunnel from a wg-quick style file in the foreground; SIGINT/SIGTERM removes it',
    positionals: [{ name: 'CONFIG', help: 'the file, named INTERFACE.conf (e.g. wg0.conf)' }],
    run: (args) => up(args.positionals[0]!),
  },
  show: {
    summary: 'the state of running sag (and wireguard-go) interfaces, read through their API sockets',
    positionals: [{ name: 'IFACE', help: 'one interface (default: all)', optional: true }],
    flags: [{ name: 'json', kind: 'bool', help: 'print JSON instead of text' }],
    run: (args) => show(args.positionals[0], args.bool('json')),
  },
  genkey: {
    summary: 'print a new private key (base64), as `wg genkey`',
    run: async () => void process.stdout.write(`${encodeKey(generatePrivateKey())}\n`),
  },
  pubkey: {
    summary: 'read a private key on stdin, print its public key, as `wg pubkey`',
    run: pubkey,
  },
  version: {
    summary: 'print the version',
    run: async () => void process.stdout.write(`sag ${version()}\n`),
  },
};

async function show(iface: string | undefined, json: boolean): Promise<void> {
  const ifaces = iface === undefined ? listInterfaces() : [iface];
  const states = await Promise.all(
    ifaces.map(async (i) => [i, await queryInterface(i), await queryDrops(i), await queryPaths(i)] as const),
  );
  if (json)
    process.stdout.write(
      `${JSON.stringify(
        states.map(([i, s, d, p]) => ({
          ...withDrops(toJson(i, s), d),
          ...(p.length ? { multipath: p } : {}),
        })),
        null,
        2,
      )}\n`,
    );
  else
    process.stdout.write(states.map(([i, s, d, p]) => withPaths(toText(i, s), p) + dropsText(d)).join('\n'));
}

async function pubkey(): Promise<void> {
  const text = (await readStdin()).trim();
  let key: Uint8Array;
  try {
    key = decodeKey(text);
  } catch (cause) {
    throw new UsageError(`stdin is not a base64 private key: ${(cause as Error).message}`);
  }
  process.stdout.write(`${encodeKey(publicKeyFromPrivate(key))}\n`);
}

function usage(): string {
  const commands = table([
    ...Object.entries(SIMPLE).map(([name, c]) => [`  ${name}`, c.summary]),
    ['  help', 'this text'],
  ]);
  const controlPlane = table(
    [['agent', AGENT_SUMMARY] as const, ['ap run', AP_RUN_SUMMARY] as const, ...OPERATOR_SUMMARIES].map(
      ([name, summary]) => [`  ${name}`, summary],
    ),
  );
  return `usage: sag <command>\n\ncommands (see \`sag <command> --help\`):\n${commands}\ncontrol plane:\n${controlPlane}`;
}

export async function main(argv: string[]): Promise<number> {
  // `sag ap run` is the access point itself; every other `sag ap ...` is the operator's.
  if (argv[0] === 'ap' && argv[1] === 'run') return apMain(argv.slice(2));
  const operator = await runOperatorCommand(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
  if (operator !== undefined) return operator;
  const [command, ...rest] = argv;
  if (command === 'agent') return agentMain(rest);
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage());
    return 0;
  }
  const simple = Object.hasOwn(SIMPLE, command) ? SIMPLE[command] : undefined;
  if (!simple) throw new UsageError(`unknown command '${command}'`, 'sag');
  const args = parseCommand(rest, { ...simple, command: `sag ${command}` });
  if (args) await simple.run(args);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    const usage = usageExit('sag', err);
    if (usage === undefined)
      process.stderr.write(`sag: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = usage ?? 1;
  },
);
