/**
 * The request schema of the device status report (POST /v1/devices/{serial}/status).
 * The report's shape and its limits are the contract's (src/contract/status.ts);
 * the request body limit caps the total on top.
 */
import { CONFIG_VERSION_PATTERN } from '../../contract/ids.js';
import { STATUS_LIST_MAX, STATUS_PATHS_MAX, STATUS_RTT_MAX_MS } from '../../contract/status.js';
import { entityId, integer, list, object, publicKey, text, type JsonSchema } from './schemas.js';

const nullable = (schema: JsonSchema): JsonSchema => ({ oneOf: [schema, { type: 'null' }] });
const counter = integer(0, Number.MAX_SAFE_INTEGER);
const endpointText = text(64, 'Public "a.b.c.d:port" or "[v6]:port"');

export const statusReportBody = object(
  {
    softwareVersion: text(64, 'Software version the agent runs'),
    configVersion: nullable({
      type: 'string',
      pattern: CONFIG_VERSION_PATTERN.source,
      description: 'Content version of the configuration applied',
    }),
    accessPointId: nullable(entityId),
    peers: list(
      object(
        {
          accessPointId: entityId,
          publicKey,
          endpoint: nullable(endpointText),
          lastHandshakeUnixMs: counter,
          rxBytes: counter,
          txBytes: counter,
          rxPackets: counter,
          txPackets: counter,
          paths: list(
            object({
              uplink: text(32, 'Uplink name'),
              endpoint: endpointText,
              state: { type: 'string', enum: ['unknown', 'up', 'down'] },
              rttMs: nullable({ type: 'number', minimum: 0, maximum: STATUS_RTT_MAX_MS }),
              lossPct: { type: 'number', minimum: 0, maximum: 100 },
              active: { type: 'boolean' },
            }),
            STATUS_PATHS_MAX,
          ),
        },
        [
          'accessPointId',
          'publicKey',
          'endpoint',
          'lastHandshakeUnixMs',
          'rxBytes',
          'txBytes',
          'rxPackets',
          'txPackets',
        ],
      ),
      STATUS_LIST_MAX,
    ),
    probes: list(
      object({
        accessPointId: entityId,
        endpoint: endpointText,
        rttMs: nullable({ type: 'number', minimum: 0, maximum: STATUS_RTT_MAX_MS }),
        atUnixMs: counter,
      }),
      STATUS_LIST_MAX,
    ),
  },
  ['configVersion', 'accessPointId', 'peers', 'probes'],
);
