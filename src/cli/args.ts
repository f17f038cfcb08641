/**
 * The operator CLI's argument parser: GNU-style long flags described by data,
 * so the same specs parse argv and print per-command help. Written here rather
 * than taken from a package because the needs are small (long flags, repeats,
 * integers) and the project adds no dependencies for its command line.
 */
import { SagError } from '../errors.js';

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
}

export interface PositionalSpec {
  /** Placeholder in help, e.g. "CCN_ID"; every positional is required. */
  name: string;
  help: string;
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

function toInt(flag: string, raw: string, command: string): number {
  const n = Number(raw);
  if (!/^-?[0-9]+$/.test(raw) || !Number.isSafeInteger(n))
    throw new UsageError(`--${flag} must be an integer, got ${JSON.stringify(raw)}`, command);
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
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg.length > 1)
        throw new UsageError(`unknown option ${arg} (options are long: --name)`, command);
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown option --${name}`, command);
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
    else values.set(name, spec.kind === 'int' ? toInt(name, raw, command) : raw);
  }
  // Help wins over every other mistake: someone asking for it should get it.
  if (values.get('help') === true) return new ParsedArgs(rest, values);
  if (rest.length < positionals.length) {
    throw new UsageError(
      `missing ${positionals
        .slice(rest.length)
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

/** "--cidr CIDR" for help lines. */
function flagLabel(f: FlagSpec): string {
  return f.kind === 'bool' ? `--${f.name}` : `--${f.name} ${f.value ?? 'VALUE'}`;
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
    ...positionals.map((p) => p.name),
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
  section('options:', flags.map(describe));
  section('global options:', globals.map(describe));
  const width = Math.max(...rows.filter(([, b]) => b !== '').map(([a]) => a.length), 0);
  const body = rows.map(([a, b]) => (b === '' ? a : `${a.padEnd(width)}  ${b}`)).join('\n');
  return `usage: ${synopsis}\n\n${summary}\n\n${body}\n`;
}
