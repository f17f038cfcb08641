/**
 * An in-memory ApSystem for tests: records every command as one line of text
 * ("ip -n NS link set lo up", "nft NS <first line>", "sysctl NS key=value") and
 * fails the ones a test marks, as the real commands fail (a SystemError).
 */
import { SystemError } from '../../errors.js';
import type { ApSystem } from '../sys.js';

export class RecordingSystem implements ApSystem {
  readonly log: string[] = [];
  /** Rulesets applied per namespace, the last one last. */
  readonly rulesets = new Map<string, string[]>();
  /** Commands matching one of these fail. */
  readonly failing: RegExp[] = [];

  ip = async (ns: string | null, args: string[]): Promise<string> =>
    this.#run(['ip', ...(ns === null ? [] : ['-n', ns]), ...args].join(' '));

  nftApply = async (ns: string, ruleset: string): Promise<string> => {
    await this.#run(`nft ${ns} ${ruleset.split('\n')[0]}`);
    this.rulesets.set(ns, [...(this.rulesets.get(ns) ?? []), ruleset]);
    return '';
  };

  nftList = async (ns: string, args: string[]): Promise<string> => this.#run(`nft ${ns} ${args.join(' ')}`);

  sysctl = async (ns: string, key: string, value: string): Promise<string> =>
    this.#run(`sysctl ${ns} ${key}=${value}`);

  /** The ruleset last applied in `ns`, or undefined. */
  ruleset(ns: string): string | undefined {
    return this.rulesets.get(ns)?.at(-1);
  }

  async #run(line: string): Promise<string> {
    if (this.failing.some((re) => re.test(line))) throw new SystemError(`${line} failed: injected`);
    this.log.push(line);
    return '';
  }
}
