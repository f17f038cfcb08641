/**
 * Routes a device agent lives on: activation (an operator creates a one-time code,
 * the device trades it for a token while uploading the public key it generated),
 * its compiled configuration with long polling, and its status reports.
 *
 * Long poll. GET /v1/devices/{serial}/config?after=V&wait=S answers at once with
 * the configuration when its content version differs from V (or when no `after`
 * is given). Otherwise it waits up to S seconds (at most LONG_POLL_MAX_SEC, larger
 * values count as that) for a model change that changes the configuration, and
 * when none comes answers 200 `{"unchanged": true, "version": V}` (the contract:
 * src/contract/version.ts). 200 rather than 304 so the answer has a body that says
 * what happened, and no cache or proxy between agent and controller treats it as
 * a cache validation. A compile refusal (device unbound, hub without a key) ends
 * the wait at once with its error status.
 */
import { performance } from 'node:perf_hooks';
import type { CompiledConfig } from '../../contract/config.js';
import type { DeviceStatusReport } from '../../contract/status.js';
import { LONG_POLL_MAX_SEC, type ConfigUnchanged } from '../../contract/version.js';
import { compileDeviceConfig } from '../compiler/index.js';
import { sourceKey } from '../../net/source.js';
import { find, get, type ModelState, type SagDevice } from '../model/index.js';
import { validateSoftwareVersion } from '../model/validate.js';
import { ACTIVATION_TTL_DEFAULT_MS } from '../store/index.js';
import { ref } from './entities.js';
import { RateLimitedError, RequestValidationError } from './errors.js';
import { written, type ApiRequest, type RouteDeps, type RouteSpec } from './route.js';
import { bodies, configQuery, serialParams } from './schemas.js';
import { statusReportBody } from './status.js';
import { worthStoring } from './status-gist.js';

/**
 * A status report refreshes the device's lastSeen through a `device.heartbeat`
 * command at most this often. Each heartbeat is a model write with an audit entry,
 * so reporting every few seconds must not mean writing every few seconds. The
 * first report and one that brings the instance online are written at once, one
 * with a new software version soon (SOFTWARE_VERSION_EVERY_MS).
 */
export const HEARTBEAT_EVERY_MS = 60_000;

/**
 * A new software version is written at once only if the last heartbeat is at least
 * this old, so a device alternating between two versions writes (and audits) at
 * most this often, not on every report.
 */
export const SOFTWARE_VERSION_EVERY_MS = 10_000;

/** Retry-After for a long poll over the principal's cap: a lingering poll ends within LONG_POLL_MAX_SEC. */
const LONG_POLL_RETRY_SEC = 5;

/** The long poll of a device's or an access point's configuration (see the comment above). */
export async function longPollConfig(
  d: RouteDeps,
  req: ApiRequest,
  compile: (state: ModelState) => CompiledConfig,
): Promise<CompiledConfig | ConfigUnchanged> {
  const after = req.query['after'];
  const wait = req.query['wait'];
  if (wait !== undefined && after === undefined)
    throw new RequestValidationError('query.wait needs query.after, the version to wait for a change from');
  // Real elapsed time, not the API clock: that one stamps records and tests fix it.
  const until = performance.now() + Math.min(Number(wait ?? 0), LONG_POLL_MAX_SEC) * 1000;
  let release: (() => void) | undefined;
  try {
    for (;;) {
      const state = await d.state();
      const config = compile(state);
      if (after === undefined || config.version !== after) return config;
      const left = until - performance.now();
      if (left <= 0 || req.signal.aborted || d.feed.closed) return { unchanged: true, version: after };
      release ??= holdLongPoll(d, req);
      await d.feed.wait(state.version, left, req.signal);
    }
  } finally {
    release?.();
  }
}

/**
 * A slot among the principal's waiting long polls, or 429. The new poll is refused
 * rather than the oldest answered: answering the oldest would let N+1 pollers of one
 * principal evict each other in a loop of instant re-polls, each one a compile,
 * while a refusal costs nothing and the client waits Retry-After. The cap leaves
 * room for the one legitimate overlap, a restarted agent whose old poll lingers.
 */
function holdLongPoll(d: RouteDeps, req: ApiRequest): () => void {
  const release = d.limits.longPolls.enter(d.actor(req).actor);
  if (release === undefined)
    throw new RateLimitedError(
      `already ${d.limits.longPolls.max} long polls waiting for this credential; retry in ${LONG_POLL_RETRY_SEC} s`,
      LONG_POLL_RETRY_SEC,
    );
  return release;
}

async function activate(d: RouteDeps, req: ApiRequest): Promise<unknown> {
  const serial = req.body['serial'] as string;
  const now = d.clock();
  // Source first: one address hammering many serials should not use up their budgets.
  const waitMs =
    d.limits.perSource.take(`ip:${sourceKey(req.ip)}`, now) ||
    d.limits.perSerial.take(`serial:${serial}`, now);
  if (waitMs > 0) {
    const sec = Math.ceil(waitMs / 1000);
    throw new RateLimitedError(`too many activation attempts; retry in ${sec} s`, sec);
  }
  const result = await d.store.activateDevice(
    { serial, code: req.body['code'] as string, publicKey: req.body['publicKey'] as string },
    { actor: `device:${serial}`, at: now },
  );
  if (result.outcome.changes.length > 0) d.feed.notify(result.outcome.version);
  return { device: written<SagDevice>(result.outcome.state, 'devices', serial), token: result.token };
}

async function reportStatus(d: RouteDeps, req: ApiRequest): Promise<void> {
  const serial = req.params['serial'] as string;
  const report = req.body as unknown as DeviceStatusReport;
  const at = d.clock();
  const waitMs = d.limits.statusReports.take(serial, at);
  if (waitMs > 0) {
    const sec = Math.ceil(waitMs / 1000);
    throw new RateLimitedError(`too many status reports from device ${serial}; retry in ${sec} s`, sec);
  }
  const state = await d.state();
  const device = get.device(state, serial);
  const instance = device.instanceId === null ? undefined : find.instance(state, device.instanceId);
  const sinceSeen = device.lastSeen === null ? Infinity : at - device.lastSeen;
  const newVersion =
    report.softwareVersion !== undefined && report.softwareVersion !== device.softwareVersion;
  const due =
    sinceSeen >= HEARTBEAT_EVERY_MS ||
    (instance !== undefined && instance.state !== 'online') ||
    (newVersion && sinceSeen >= SOFTWARE_VERSION_EVERY_MS);
  if (due) {
    const heartbeat = {
      kind: 'device.heartbeat' as const,
      serial,
      at,
      ...(report.softwareVersion === undefined ? {} : { softwareVersion: report.softwareVersion }),
    };
    // Liveness and software version are not part of any configuration: no long poll needs waking.
    // The heartbeat validates the report's software version, so it runs before the report is kept.
    await d.apply(req, heartbeat, { affectsConfigs: false });
  } else if (newVersion) {
    // Not written yet, but a version the model would refuse must not be kept in the report either.
    validateSoftwareVersion(`device ${serial}`, report.softwareVersion);
  }
  const stored = await d.store.getDeviceStatus(serial);
  if (worthStoring(report, stored, at, d.limits.statusStoreEveryMs))
    await d.store.putDeviceStatus(serial, req.body, at);
}

export function agentRoutes(d: RouteDeps): RouteSpec[] {
  return [
    {
      method: 'POST',
      url: '/v1/devices/:serial/activation',
      operationId: 'createActivationCode',
      summary:
        'Create a one-time activation code for a registered device (replaces any earlier code); shown only this once',
      tag: 'devices',
      auth: 'operator',
      params: serialParams,
      body: bodies.activationCreate,
      optionalBody: true,
      status: 201,
      response: ref('ActivationCode'),
      errors: [404],
      handler: async (req) => {
        const ctx = d.actor(req);
        const ttlMs =
          req.body['ttlSeconds'] === undefined
            ? ACTIVATION_TTL_DEFAULT_MS
            : (req.body['ttlSeconds'] as number) * 1000;
        const { code, info } = await d.store.createActivationCode(
          req.params['serial'] as string,
          { expiresAt: ctx.at + ttlMs },
          ctx,
        );
        return { ...info, code };
      },
    },
    {
      method: 'POST',
      url: '/v1/activate',
      operationId: 'activateDevice',
      summary:
        'A device sets its public key with its activation code and receives its token (shown only this once); no credential',
      tag: 'devices',
      auth: 'public',
      body: bodies.activate,
      status: 200,
      response: ref('DeviceRegistration'),
      errors: [401, 403, 409, 429],
      handler: async (req) => activate(d, req),
    },
    {
      method: 'GET',
      url: '/v1/devices/:serial/config',
      operationId: 'getDeviceConfig',
      summary:
        "A device's compiled configuration, with long polling (after, wait); callable with that device's own token",
      tag: 'devices',
      auth: 'device',
      params: serialParams,
      querystring: configQuery,
      status: 200,
      response: ref('DeviceConfigAnswer'),
      errors: [404, 409],
      handler: async (req) =>
        longPollConfig(d, req, (state) =>
          compileDeviceConfig(state, req.params['serial'] as string, d.compile),
        ),
    },
    {
      method: 'POST',
      url: '/v1/devices/:serial/status',
      operationId: 'reportDeviceStatus',
      summary:
        "A device reports its sessions, counters and probe results; also its heartbeat. Callable with that device's own token",
      tag: 'devices',
      auth: 'device',
      params: serialParams,
      body: statusReportBody,
      status: 204,
      errors: [404],
      handler: async (req) => reportStatus(d, req),
    },
    {
      method: 'GET',
      url: '/v1/devices/:serial/status',
      operationId: 'getDeviceStatus',
      summary: "A device's last status report (null if none yet)",
      tag: 'devices',
      auth: 'operator',
      params: serialParams,
      status: 200,
      response: ref('DeviceStatus'),
      errors: [404],
      handler: async (req) => {
        const serial = req.params['serial'] as string;
        const device = get.device(await d.state(), serial);
        const record = await d.store.getDeviceStatus(serial);
        return {
          serial,
          lastSeen: device.lastSeen,
          receivedAt: record?.receivedAt ?? null,
          report: record?.report ?? null,
        };
      },
    },
  ];
}
