/**
 * Bearer authentication and the one authorisation rule: operators may call
 * everything, a device only the routes of mode "device" (read its configuration,
 * report its status) and only under its own serial, an access point only the
 * routes of mode "accessPoint" under its own id.
 *
 * Authentication runs in onRequest, before body parsing and validation, so an
 * unauthenticated caller learns nothing about the request schemas (401 comes
 * before 400) and pays for no body parsing.
 */
import type { ControllerStore } from '../store/index.js';
import { ForbiddenError, UnauthenticatedError } from './errors.js';
import type { AuthMode, Principal } from './route.js';

const BEARER = /^Bearer +([^\s]+)$/i;

export async function authenticate(store: ControllerStore, header: string | undefined): Promise<Principal> {
  if (header === undefined || header === '') {
    throw new UnauthenticatedError(
      'this operation needs an "Authorization: Bearer <token>" header with an operator API key or a device token',
    );
  }
  const match = BEARER.exec(header);
  if (!match) throw new UnauthenticatedError('the Authorization header must be "Bearer <token>"');
  const token = match[1] as string;
  const key = await store.authenticateApiKey(token);
  if (key) return { kind: 'operator', keyId: key.id, name: key.name };
  const serial = await store.authenticateDevice(token);
  if (serial !== undefined) return { kind: 'device', serial };
  const accessPoint = await store.authenticateAccessPoint(token);
  if (accessPoint !== undefined) return { kind: 'accessPoint', id: accessPoint };
  // One message for unknown, revoked and malformed tokens: which it was is no business of the caller.
  throw new UnauthenticatedError('the bearer token is not a valid API key or device token');
}

export function authorize(mode: AuthMode, principal: Principal, params: Record<string, string>): void {
  if (principal.kind === 'operator' || mode === 'public') return;
  if (principal.kind === 'accessPoint') {
    if (mode === 'accessPoint' && params['id'] === principal.id) return;
    throw new ForbiddenError(
      `an access point token may only read its own configuration (GET /v1/access-points/${principal.id}/config)`,
    );
  }
  if (mode === 'accessPoint')
    throw new ForbiddenError('a device token cannot read an access point configuration');
  if (mode === 'device') {
    if (params['serial'] === principal.serial) return;
    throw new ForbiddenError(
      `device ${principal.serial} may only read its own configuration and report its own status`,
    );
  }
  throw new ForbiddenError(
    `a device token may only read its own configuration and report its own status (GET /v1/devices/${principal.serial}/config, ` +
      `POST /v1/devices/${principal.serial}/status); this operation needs an operator API key`,
  );
}
