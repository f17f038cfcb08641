/**
 * UdpRelay as a process, e.g. inside a middle namespace of an uplink:
 *   node --import tsx test/support/udp-relay-cli.ts '{"listen":{"port":51000},"target":{"host":"10.1.0.2","port":51820}}'
 * Prints {"event":"ready","listenPort":..,"outPort":..}. Then JSON lines on stdin, each acked (json-lines.ts):
 *   {"delayMs":50,"jitterMs":5}                         an impairment patch for both directions
 *   {"op":"set","dir":"leftToRight","impairment":{..}}  the same for one direction
 *   {"op":"cut","flush":true} / {"op":"restore"} / {"op":"clear"} / {"op":"counters"} / {"op":"stop"}
 * Every ack carries the impairments and counters after the change. stdin closing or SIGTERM stops it.
 */
import { wallNow } from './time.js';
import { emit, parseArgJson, serveStdin, type Json } from './json-lines.js';
import { UdpRelay, validateRelayOptions, type Direction } from './udp-relay.js';

const USAGE = `udp-relay-cli.ts '{"listen":{"host"?,"port"?},"target":{"host","port"},"seed"?,"impairment"?:{..}}'`;
const relay = new UdpRelay(validateRelayOptions(parseArgJson(process.argv[2], USAGE)));
const ports = await relay.start();

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await relay.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

function state(): Json {
  return {
    impairment: {
      leftToRight: relay.impairment('leftToRight'),
      rightToLeft: relay.impairment('rightToLeft'),
    },
    counters: relay.counters(),
  };
}

serveStdin(
  (req) => {
    const { id: _id, op = 'set', dir = 'both', impairment, flush, ...rest } = req;
    const d = dir as Direction;
    switch (op) {
      case 'set':
        relay.set((impairment ?? rest) as Json, d);
        break;
      case 'cut':
        relay.cut({ dir: d, flush: flush === true });
        break;
      case 'restore':
        relay.restore(d);
        break;
      case 'clear':
        relay.clear(d);
        break;
      case 'counters':
        break;
      case 'stop':
        setImmediate(() => void shutdown()); // after the ack is written
        break;
      default:
        throw new Error(`unknown op "${String(op)}"`);
    }
    // Dated here, right after the change: building the reply can take ms (the first time, lazy compilation).
    return { at: wallNow(), ...state() };
  },
  () => void shutdown(),
);

emit({ event: 'ready', ...ports });
