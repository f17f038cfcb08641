/**
 * The flags every client of the controller shares: how it trusts the server
 * (--ca, --ca-fingerprint or $SAG_CA_FINGERPRINT; the system CAs otherwise) and
 * where it reads a join string (--join-file or $SAG_JOIN). The verification
 * itself is in src/contract/trust.ts.
 */
import { readFileSync } from 'node:fs';
import { parseJoin, type Join } from '../contract/join.js';
import { parseFingerprint, pemFingerprint, type ControllerTrust } from '../contract/trust.js';
import { UsageError, type FlagSpec, type ParsedArgs } from './args.js';

export const TRUST_FLAGS: FlagSpec[] = [
  {
    name: 'ca',
    kind: 'string',
    value: 'FILE',
    help: "trust the controller's certificate only if this CA (PEM) issued it, instead of the system CAs",
  },
  {
    name: 'ca-fingerprint',
    kind: 'string',
    value: 'sha256:HEX',
    help: "pin the controller's CA by the fingerprint sag controller prints (default $SAG_CA_FINGERPRINT)",
  },
];

export const JOIN_FLAG: FlagSpec = {
  name: 'join-file',
  kind: 'string',
  value: 'FILE',
  help: 'a join string (controller URLs, CA fingerprint and credential) in a file (default $SAG_JOIN)',
};

type Env = Record<string, string | undefined>;

function readText(file: string, what: string, cmd: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new UsageError(
      `cannot read ${what} ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`,
      cmd,
    );
  }
}

/** --ca / --ca-fingerprint (or $SAG_CA_FINGERPRINT), checked; empty for the system CAs. */
export function controllerTrust(args: ParsedArgs, env: Env, cmd: string): ControllerTrust {
  const caFile = args.string('ca');
  const pin = args.string('ca-fingerprint') || env['SAG_CA_FINGERPRINT'] || undefined;
  if (caFile !== undefined && pin !== undefined)
    throw new UsageError('--ca and --ca-fingerprint exclude each other: pin one or the other', cmd);
  try {
    if (pin !== undefined) return { caFingerprint: parseFingerprint(pin) };
    if (caFile === undefined) return {};
    const caPem = readText(caFile, 'CA file', cmd);
    pemFingerprint(caPem);
    return { caPem };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${caFile !== undefined ? `--ca ${caFile}: ` : ''}${(err as Error).message}`, cmd);
  }
}

/** The join string of --join-file or $SAG_JOIN, parsed; undefined when neither is set. */
export function readJoin(args: ParsedArgs, env: Env, cmd: string): Join | undefined {
  const file = args.string('join-file');
  const text = file !== undefined ? readText(file, 'join file', cmd) : env['SAG_JOIN'] || undefined;
  if (text === undefined) return undefined;
  try {
    return parseJoin(text);
  } catch (err) {
    throw new UsageError(`${file ?? '$SAG_JOIN'}: ${(err as Error).message}`, cmd);
  }
}

/**
 * The controller URL and trust from a join string, or from --controller and the
 * trust flags; a join string excludes those flags (it says all of it).
 */
export function controllerAccess(
  args: ParsedArgs,
  env: Env,
  cmd: string,
  join: Join | undefined,
): { url: string; trust: ControllerTrust } {
  if (join === undefined) {
    const url = args.string('controller');
    if (url === undefined) throw new UsageError('--controller URL (or --join-file) is required', cmd);
    return { url, trust: controllerTrust(args, env, cmd) };
  }
  for (const flag of ['controller', 'ca', 'ca-fingerprint'])
    if (args.has(flag)) throw new UsageError(`--${flag} and a join string exclude each other`, cmd);
  return {
    url: join.urls[0]!,
    trust: join.caFingerprint === undefined ? {} : { caFingerprint: join.caFingerprint },
  };
}
