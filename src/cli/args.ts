/**
 * The one argument parser of sag's command lines (sag and all its subcommands,
 * sag-wg, the lab): GNU-style long flags described by data, so the same specs
 * parse argv and print per-command help, and one UsageError for every way a
 * command can be called wrongly (exit status 2). Written here rather than taken
 * from node:util's parseArgs because that one neither types integers, requires
 * flags nor writes help; the needs are small (long flags, a few one-letter
 * aliases, repeats, integers in a range).
 */
import { SagError } from '../errors.js';

/** Exit status of a command called wrongly (as getopt-based tools and wireguard-go use). */
export const USAGE_EXIT_STATUS = 2;

/** A mistake in how the command was called: exit status 2 and a pointer to the help. */
export class UsageError extends SagError {
  /** The command whose help explains the mistake, e.g. "sag ccn create". */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super('ERR_SAG_USAGE', message);
    this.command = command;
  }
}

/**
 * string: one value; list: repeatable, collected in order; int: one integer;
 * bool: present or not, takes no value.
 */
export type FlagKind = 'string' | 'list' | 'int' | 'bool';

export interface FlagSpec {
  /** Without the dashes: "max-instances". */
  name: string;
  kind: FlagKind;
  /** Placeholder in help, e.g. "CIDR". */
  value?: string;
  help: string;
  required?: boolean;
  /** A one-letter alias, without the dash: "f" for -f. */
  short?: string;
  /** For an int flag: the inclusive range it must fall in. */
  range?: readonly [min: number, max: number];
  /** A flag no longer taken: giving it is refused with "--name <this>"; help leaves it out. */
  refused?: string;
}

export interface PositionalSpec {
  /** Placeholder in help, e.g. "CCN_ID". */
  name: string;
  help: string;
  /** May be left out; only trailing positionals can be. */
  optional?: boolean;
}

type Value = string | string[] | number | boolean;

export class ParsedArgs {
  constructor(
    readonly positionals: readonly string[],
    private readonly values: ReadonlyMap<string, Value>,
  ) {}

  has(name: string): boolean {
    return this.values.has(name);
  }
  string(name: string): string | undefined {
    return this.values.get(name) as string | undefined;
  }
  /** For a required flag: the parser has already refused its absence. */
  need(name: string): string {
    return this.values.get(name) as string;
  }
  int(name: string): number | undefined {
    return this.values.get(name) as number | undefined;
  }
  list(name: string): string[] {
    return (this.values.get(name) as string[] | undefined) ?? [];
  }
  bool(name: string): boolean {
    return this.values.get(name) === true;
  }
}

function toInt(spec: FlagSpec, raw: string, command: string): number {
  const n = Number(raw);
  const [min, max] = spec.range ?? [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
  if (!/^-?[0-9]+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = spec.range ? ` ${min}..${max}` : '';
    throw new UsageError(`--${spec.name} must be an integer${range}, got ${JSON.stringify(raw)}`, command);
  }
  return n;
}

/**
 * Parses `argv` (everything after the command words) against the specs.
 * "--flag value" and "--flag=value" both work; "--" ends the flags, so a value
 * starting with "-" can still be passed as a positional.
 */
export function parseArgs(
  argv: readonly string[],
  positionals: readonly PositionalSpec[],
  flags: readonly FlagSpec[],
  command: string,
): ParsedArgs {
  const byName = new Map(flags.map((f) => [f.name, f]));
  const byShort = new Map(flags.filter((f) => f.short).map((f) => [`-${f.short}`, f]));
  const values = new Map<string, Value>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      values.set('help', true);
      continue;
    }
    const alias = byShort.get(arg);
    if (!arg.startsWith('--') && !alias) {
      if (arg.startsWith('-') && arg.length > 1) {
        const hint = byShort.size === 0 ? ' (options are long: --name)' : '';
        throw new UsageError(`unknown option ${arg}${hint}`, command);
      }
      rest.push(arg);
      continue;
    }
    const eq = alias ? -1 : arg.indexOf('=');
    const name = alias ? alias.name : arg.slice(2, eq === -1 ? undefined : eq);
    const spec = alias ?? byName.get(name);
    if (!spec) throw new UsageError(`unknown option --${name}`, command);
    if (spec.refused) throw new UsageError(`--${name} ${spec.refused}`, command);
    if (spec.kind === 'bool') {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`, command);
      values.set(name, true);
      continue;
    }
    let raw: string;
    if (eq !== -1) raw = arg.slice(eq + 1);
    else {
      const next = argv[++i];
      if (next === undefined)
        throw new UsageError(`--${name} needs a value${spec.value ? ` (${spec.value})` : ''}`, command);
      raw = next;
    }
    if (spec.kind === 'list') values.set(name, [...((values.get(name) as string[] | undefined) ?? []), raw]);
    else if (values.has(name)) throw new UsageError(`--${name} given twice`, command);
    else values.set(name, spec.kind === 'int' ? toInt(spec, raw, command) : raw);
  }
  // Help wins over every other mistake: someone asking for it should get it.
  if (values.get('help') === true) return new ParsedArgs(rest, values);
  const needed = positionals.filter((p) => !p.optional).length;
  if (rest.length < needed) {
    throw new UsageError(
      `missing ${positionals
        .slice(rest.length, needed)
        .map((p) => p.name)
        .join(' ')}`,
      command,
    );
  }
  if (rest.length > positionals.length)
    throw new UsageError(`unexpected argument ${JSON.stringify(rest[positionals.length])}`, command);
  for (const spec of flags) {
    if (spec.required && !values.has(spec.name)) throw new UsageError(`--${spec.name} is required`, command);
  }
  return new ParsedArgs(rest, values);
}

/** "--cidr CIDR" (or "-f, --foreground") for help lines. */
function flagLabel(f: FlagSpec): string {
  const long = f.kind === 'bool' ? `--${f.name}` : `--${f.name} ${f.value ?? 'VALUE'}`;
  return f.short ? `-${f.short}, ${long}` : long;
}

/** Help for one command: synopsis, then positionals and options aligned. */
export function formatHelp(
  command: string,
  summary: string,
  positionals: readonly PositionalSpec[],
  flags: readonly FlagSpec[],
  globals: readonly FlagSpec[],
): string {
  const required = flags.filter((f) => f.required).map(flagLabel);
  const synopsis = [
    command,
    ...positionals.map((p) => (p.optional ? `[${p.name}]` : p.name)),
    ...required,
    flags.some((f) => !f.required) || globals.length ? '[options]' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const rows: [string, string][] = [];
  const section = (title: string, items: [string, string][]) => {
    if (items.length === 0) return;
    if (rows.length > 0) rows.push(['', '']);
    rows.push([title, '']);
    rows.push(...items.map(([a, b]): [string, string] => [`  ${a}`, b]));
  };
  const describe = (f: FlagSpec): [string, string] => [
    flagLabel(f),
    `${f.help}${f.kind === 'list' ? ' (repeatable)' : ''}${f.required ? ' (required)' : ''}`,
  ];
  section(
    'arguments:',
    positionals.map((p) => [p.name, p.help]),
  );
  const shown = (list: readonly FlagSpec[]) => list.filter((f) => !f.refused).map(describe);
  section('options:', shown(flags));
  section('global options:', shown(globals));
  const width = Math.max(...rows.filter(([, b]) => b !== '').map(([a]) => a.length), 0);
  const body = rows.map(([a, b]) => (b === '' ? a : `${a.padEnd(width)}  ${b}`)).join('\n');
  return `usage: ${synopsis}\n\n${summary}\n\n${body}\n`;
}

/** What a usage mistake prints: the program, what was wrong, and which help explains it. */
export function usageMessage(program: string, err: UsageError): string {
  return `${program}: ${err.message}\n${err.command ? `see '${err.command} --help'\n` : ''}`;
}

export const HELP_FLAG: FlagSpec = { name: 'help', kind: 'bool', help: 'show this help' };

export interface CommandSpec {
  /** As the user types it, e.g. "sag agent"; names the help in usage errors. */
  command: string;
  summary: string;
  positionals?: readonly PositionalSpec[];
  /** The command's own flags; --help is added. */
  flags?: readonly FlagSpec[];
}

/**
 * Parses a command's argv; with --help writes the help generated from the same
 * specs to `out` and returns undefined (the command then exits 0).
 */
export function parseCommand(
  argv: readonly string[],
  spec: CommandSpec,
  out: { write(text: string): unknown } = process.stdout,
): ParsedArgs | undefined {
  const positionals = spec.positionals ?? [];
  const flags = [...(spec.flags ?? []), HELP_FLAG];
  const args = parseArgs(argv, positionals, flags, spec.command);
  if (!args.bool('help')) return args;
  out.write(formatHelp(spec.command, spec.summary, positionals, flags, []));
  return undefined;
}

/** For a top-level catch: writes a usage mistake and returns exit status 2; undefined for any other error. */
export function usageExit(
  program: string,
  err: unknown,
  out: { write(text: string): unknown } = process.stderr,
): number | undefined {
  if (!(err instanceof UsageError)) return undefined;
  out.write(usageMessage(program, err));
  return USAGE_EXIT_STATUS;
}
