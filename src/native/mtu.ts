/**
 * The one MTU rule, for every place that takes an MTU (the config file, `ip link set mtu`, the
 * Dataplane): an integer within the dataplane's inner MTU range of sag.h, since the TUN device's
 * MTU is the largest packet the dataplane must carry.
 */
import { InvalidArgumentError } from '../errors.js';
import { MAX_MTU, MIN_MTU } from './facts.generated.js';

const invalidArgument = (reason: string): never => {
  throw new InvalidArgumentError(reason);
};

/** Returns the MTU, or calls fail (default: throw InvalidArgumentError) with what is wrong. */
export function checkMtu(value: unknown, what = 'mtu', fail: (reason: string) => never = invalidArgument): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= MIN_MTU && value <= MAX_MTU) return value;
  return fail(`${what} must be an integer ${MIN_MTU}..${MAX_MTU}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
}
