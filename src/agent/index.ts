/**
 * The device agent (`sag agent`): activation, configuration following, hub
 * selection and status reports around a Gateway. `runAgent` wires the defaults
 * (HTTP client, a Gateway on a TUN device) for the CLI.
 */
import { Gateway } from '../gateway/index.js';
import { Agent } from './agent.js';
import { HttpControllerClient } from '../contract/client.js';
import type { ControllerTrust } from '../contract/trust.js';
import type { AgentOptions } from './types.js';
import type { Logger } from '../util/logger.js';

export { Agent } from './agent.js';
export { ConfigApplier, toEndpoint } from './apply.js';
export {
  handshakeProber,
  PROBE_HOLD_OFF_MS,
  type ProbeResult,
  type ProbeTarget,
  type Prober,
} from './probe.js';
export { chooseHub, type HubChoice } from './select.js';
export { AgentStateDir, type AgentIdentity } from './state.js';
export { METERED_PRIORITY_BASE, parseUplinkBinding, UplinkApplier, type UplinkBinding } from './uplinks.js';
export * from './errors.js';
export type * from './types.js';

export interface RunAgentOptions {
  /** State directory (private key, identity, last good configuration). */
  stateDir: string;
  /** Base URL of the controller API, e.g. "https://controller.example:8443". */
  controllerUrl: string;
  /** How the controller's certificate is verified (system CAs by default). */
  trust?: ControllerTrust;
  /** Activate before starting: on first use, or to re-key with a new code. */
  activation?: { serial: string; code: string };
  /** TUN device name (default "sag0"), or "memory" for tests. */
  tun?: string;
  /** WireGuard UDP port (default 0: the kernel picks one; hubs learn it from the handshake). */
  listenPort?: number;
  /** Local address of the WireGuard socket (default "::"). */
  listenAddress?: string;
  mtu?: number;
  softwareVersion?: string;
  /** Local bindings of the configuration's uplinks, by name (see AgentOptions.uplinks). */
  uplinks?: AgentOptions['uplinks'];
  logger?: Logger;
  /** Timing and policy knobs of the Agent (long poll, status period, probing, retry, switch margin). */
  tuning?: Pick<
    AgentOptions,
    'longPollSec' | 'statusIntervalMs' | 'probeTimeoutMs' | 'reprobeIntervalMs' | 'retry' | 'switchMargin'
  >;
}

/**
 * Activates if asked, then starts an Agent with an HTTP controller client and a
 * Gateway on a TUN device, and returns it running; call `stop()` to end it.
 * Configuring the TUN device's address and routes from `config:applied` (the
 * configuration's `address` and `allowedIps`) is the caller's part.
 */
export async function runAgent(options: RunAgentOptions): Promise<Agent> {
  const agent = new Agent({
    ...options.tuning,
    stateDir: options.stateDir,
    controller: new HttpControllerClient({
      url: options.controllerUrl,
      ...(options.trust ? { trust: options.trust } : {}),
    }),
    gatewayFactory: ({ privateKey }) =>
      new Gateway({
        privateKey,
        ...(options.tun === undefined ? {} : { tun: options.tun }),
        ...(options.listenPort === undefined ? {} : { listenPort: options.listenPort }),
        ...(options.listenAddress === undefined ? {} : { listenAddress: options.listenAddress }),
        ...(options.mtu === undefined ? {} : { mtu: options.mtu }),
        ...(options.logger === undefined ? {} : { logger: options.logger }),
      }),
    ...(options.softwareVersion === undefined ? {} : { softwareVersion: options.softwareVersion }),
    ...(options.uplinks === undefined ? {} : { uplinks: options.uplinks }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  if (options.activation) await agent.activate(options.activation.serial, options.activation.code);
  await agent.start();
  return agent;
}
