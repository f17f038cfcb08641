#!/usr/bin/env node
/**
 * `sag`: the command line. Subcommands land here as their issues do; each reports errors as one
 * line on stderr and a non-zero exit status, never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { SagError } from '../errors.js';
import { decodeKey, encodeKey, generatePrivateKey, publicKeyFromPrivate } from '../wg/crypto.js';
import { OPERATOR_USAGE, runOperatorCommand } from './operator/index.js';
import { agentMain } from './agent.js';
import { apMain } from './ap.js';
import { listInterfaces, queryInterface, toJson, toText } from './show.js';
import { queryPaths, withPaths } from './paths-status.js';
import { dropsText, queryDrops, withDrops } from './show-drops.js';
import { up } from './up.js';

const USAGE = `usage: sag <command>

commands:
  genkey            print a new private key (base64), as \`wg genkey\`
  pubkey            read a private key on stdin, print its public key, as \`wg pubkey\`
  version           print the version
  help              this text

control plane (see \`sag <command> --help\`):
${OPERATOR_USAGE}
`;

class UsageError extends SagError {
  constructor(message: string) {
    super('ERR_SAG_USAGE', message);
  }
}

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
  switch (command) {
    case 'agent':
      return agentMain(rest);
    case 'up':
      if (rest.length !== 1) throw new UsageError('usage: sag up CONFIG');
      await up(rest[0]!);
      return 0;
    case 'show': {
      const json = rest.includes('--json');
      const names = rest.filter((a) => a !== '--json');
      if (names.length > 1) throw new UsageError('usage: sag show [IFACE] [--json]');
      const ifaces = names.length ? names : listInterfaces();
      const states = await Promise.all(
        ifaces.map(
          async (i) => [i, await queryInterface(i), await queryDrops(i), await queryPaths(i)] as const,
        ),
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
        process.stdout.write(
          states.map(([i, s, d, p]) => withPaths(toText(i, s), p) + dropsText(d)).join('\n'),
        );
      return 0;
    }
  }
  if (rest.length && command !== 'help') throw new UsageError(`'${command}' takes no arguments`);
  switch (command) {
    case 'genkey':
      process.stdout.write(`${encodeKey(generatePrivateKey())}\n`);
      return 0;
    case 'pubkey': {
      const text = (await readStdin()).trim();
      let key: Uint8Array;
      try {
        key = decodeKey(text);
      } catch (cause) {
        throw new UsageError(`stdin is not a base64 private key: ${(cause as Error).message}`);
      }
      process.stdout.write(`${encodeKey(publicKeyFromPrivate(key))}\n`);
      return 0;
    }
    case 'version':
      process.stdout.write(`sag ${version()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command '${command}'\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`sag: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof SagError && err.code === 'ERR_SAG_USAGE' ? 2 : 1;
  },
);
