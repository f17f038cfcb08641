/**
 * What an operator command is: data (name, arguments, flags) that both the
 * parser and the help read, plus a `run` that calls the API and returns the
 * API's JSON together with its human rendering. Commands never write output
 * themselves, so `--json` and tables cannot drift apart.
 */
import type { FlagSpec, ParsedArgs, PositionalSpec } from '../args.js';
import type { ApiClient } from './client.js';

export interface Output {
  write(chunk: string): unknown;
}

export interface OperatorIo {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
}

export interface Result {
  /** Printed with --json; left out for operations the API answers with 204. */
  json?: unknown;
  /** Printed otherwise; ends with a newline. */
  human: string;
}

export interface Action {
  name: string;
  summary: string;
  positionals?: PositionalSpec[];
  flags?: FlagSpec[];
  run(api: ApiClient, args: ParsedArgs): Promise<Result>;
}

export interface Group {
  /** First word after `sag`: "ccn". */
  name: string;
  summary: string;
  actions: Action[];
}

/** Items of a list response: {version, items}. */
export interface ListOf<T> {
  version: number;
  items: T[];
}

// Flags shared by several commands, so each is spelled and explained once.
export const idFlag = (prefix: string): FlagSpec => ({
  name: 'id',
  kind: 'string',
  value: 'ID',
  help: `choose the id ("${prefix}-..."); generated if left out`,
});
export const nameFlag = (required = true): FlagSpec => ({
  name: 'name',
  kind: 'string',
  value: 'NAME',
  help: 'display name',
  required,
});
export const areaFlag: FlagSpec = {
  name: 'area',
  kind: 'string',
  value: 'AREA',
  help: 'area, e.g. mainland (see sag area list)',
  required: true,
};
export const cidrFlag = (help: string): FlagSpec => ({ name: 'cidr', kind: 'list', value: 'CIDR', help });

/** The same `show` for every kind: GET one entity, render its details. */
export function showAction<T>(
  what: string,
  placeholder: string,
  path: (id: string) => string,
  render: (e: T) => string,
): Action {
  return {
    name: 'show',
    summary: `show one ${what}`,
    positionals: [{ name: placeholder, help: `the ${what}` }],
    run: async (api, a) => {
      const entity = await api.get<T>(path(a.positionals[0] as string));
      return { json: entity, human: render(entity) };
    },
  };
}

export function listAction<T>(what: string, path: string, render: (items: T[]) => string): Action {
  return {
    name: 'list',
    summary: `list ${what}`,
    run: async (api) => {
      const page = await api.get<ListOf<T>>(path);
      return { json: page, human: render(page.items) };
    },
  };
}

export function deleteAction(
  what: string,
  placeholder: string,
  path: (id: string) => string,
  note = '',
): Action {
  return {
    name: 'delete',
    summary: `delete a ${what}${note}`,
    positionals: [{ name: placeholder, help: `the ${what}` }],
    run: async (api, a) => {
      const id = a.positionals[0] as string;
      await api.delete(path(id));
      return { human: `deleted ${what} ${id}\n` };
    },
  };
}
