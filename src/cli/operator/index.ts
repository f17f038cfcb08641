/**
 * The operator CLI: `sag controller` and `sag area|ap|instance|device|ccn|cen|vpc ...`
 * over the controller's HTTP API. sag.ts hands argv here first; undefined
 * means "not one of mine". Exit status: 0 done, 1 refused or failed (stderr
 * "sag: <message> (<code>)"), 2 called wrongly (stderr names the help to read).
 */
import {
  HELP_FLAG,
  USAGE_EXIT_STATUS,
  UsageError,
  formatHelp,
  parseArgs,
  usageExit,
  type FlagSpec,
} from '../args.js';
import { TRUST_FLAGS, controllerTrust } from '../controller-trust.js';
import { apiKeyFlags, readApiKey } from './api-key.js';
import { ApiClient, DEFAULT_CONTROLLER, failureLine } from './client.js';
import type { Group, OperatorIo } from './command.js';
import { deviceGroup } from './commands-device.js';
import { apGroup, areaGroup, instanceGroup } from './commands-edge.js';
import { ccnGroup, cenGroup, vpcGroup } from './commands-network.js';
import { CONTROLLER_SUMMARY, controllerFlags, runController } from './controller.js';
import { table } from './table.js';

export type { OperatorIo, Output } from './command.js';
export { ApiClient } from './client.js';
export { UsageError } from '../args.js';

export const OPERATOR_GROUPS: readonly Group[] = [
  areaGroup,
  apGroup,
  instanceGroup,
  deviceGroup,
  ccnGroup,
  cenGroup,
  vpcGroup,
];

/** First words runOperatorCommand answers to. */
export const OPERATOR_COMMANDS: readonly string[] = ['controller', ...OPERATOR_GROUPS.map((g) => g.name)];

/** Rows for sag's top-level help, [name, summary]; each group's help lists its commands. */
export const OPERATOR_SUMMARIES: readonly (readonly [string, string])[] = [
  ['controller', CONTROLLER_SUMMARY],
  ...OPERATOR_GROUPS.map((g) => [g.name, g.summary] as const),
];

const GLOBAL_FLAGS: FlagSpec[] = [
  {
    name: 'controller',
    kind: 'string',
    value: 'URL',
    help: `controller URL (default $SAG_CONTROLLER, else ${DEFAULT_CONTROLLER})`,
  },
  ...apiKeyFlags('file holding the operator API key (default $SAG_API_KEY)'),
  ...TRUST_FLAGS,
  { name: 'json', kind: 'bool', help: "print the API's JSON instead of a table" },
  HELP_FLAG,
];

function groupHelp(group: Group): string {
  const actions = table(group.actions.map((a) => [`  ${a.name}`, a.summary]));
  return `usage: sag ${group.name} <command> [options]\n\n${group.summary}\n\ncommands:\n${actions}\nRun 'sag ${group.name} <command> --help' for its arguments and options.\n`;
}

async function runGroup(group: Group, argv: string[], io: OperatorIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(groupHelp(group));
    return 0;
  }
  if (name === undefined) {
    io.stderr.write(groupHelp(group));
    return USAGE_EXIT_STATUS;
  }
  const action = group.actions.find((a) => a.name === name);
  if (!action) throw new UsageError(`unknown command '${name}' for 'sag ${group.name}'`, `sag ${group.name}`);
  const cmd = `sag ${group.name} ${action.name}`;
  const positionals = action.positionals ?? [];
  const flags = action.flags ?? [];
  const args = parseArgs(rest, positionals, [...flags, ...GLOBAL_FLAGS], cmd);
  if (args.bool('help')) {
    io.stdout.write(formatHelp(cmd, action.summary, positionals, flags, GLOBAL_FLAGS));
    return 0;
  }
  const api = new ApiClient(
    args.string('controller') || io.env['SAG_CONTROLLER'] || DEFAULT_CONTROLLER,
    readApiKey(args, io, cmd),
    controllerTrust(args, io.env, cmd),
  );
  const result = await action.run(api, args);
  if (!args.bool('json')) io.stdout.write(result.human);
  else if (result.json !== undefined) io.stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
  return 0;
}

/** Turns every failure into one line (never a stack trace) and an exit status. */
async function guarded(io: OperatorIo, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (err) {
    const usage = usageExit('sag', err, io.stderr);
    if (usage !== undefined) return usage;
    io.stderr.write(`sag: ${failureLine(err)}\n`);
    return 1;
  }
}

/**
 * Runs an operator command. Returns undefined when argv[0] is not one of
 * OPERATOR_COMMANDS (the caller handles it), else the exit status. It never
 * throws and never writes to process.stdout/stderr directly, only to `io`.
 */
export async function runOperatorCommand(argv: string[], io: OperatorIo): Promise<number | undefined> {
  const [first, ...rest] = argv;
  if (first === 'controller') {
    return guarded(io, async () => {
      const status = await runController(rest, io, [HELP_FLAG]);
      if (status !== 'help') return status;
      io.stdout.write(formatHelp('sag controller', CONTROLLER_SUMMARY, [], controllerFlags, [HELP_FLAG]));
      return 0;
    });
  }
  const group = OPERATOR_GROUPS.find((g) => g.name === first);
  if (!group) return undefined;
  return guarded(io, () => runGroup(group, rest, io));
}
