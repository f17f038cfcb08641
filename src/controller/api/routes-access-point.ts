/**
 * Routes an access point (`sag ap`) lives on: an operator issues its token, and
 * the access point follows its compiled configuration with the same long poll
 * as a device (routes-agent.ts), authenticated as itself and only for itself.
 */
import { compileAccessPointConfig } from '../compiler/index.js';
import { ref } from './entities.js';
import type { RouteDeps, RouteSpec } from './route.js';
import { longPollConfig } from './routes-agent.js';
import { configQuery, idParams } from './schemas.js';

export function accessPointRoutes(d: RouteDeps): RouteSpec[] {
  return [
    {
      method: 'POST',
      url: '/v1/access-points/:id/token',
      operationId: 'rotateAccessPointToken',
      summary: 'Issue a new token for an access point (shown only this once); the old one stops working',
      tag: 'access points',
      auth: 'operator',
      params: idParams,
      status: 200,
      response: ref('Token'),
      errors: [404],
      handler: async (req) => ({
        token: await d.store.rotateAccessPointToken(req.params['id'] as string, d.actor(req)),
      }),
    },
    {
      method: 'GET',
      url: '/v1/access-points/:id/config',
      operationId: 'getAccessPointConfig',
      summary:
        "An access point's compiled configuration, with long polling (after, wait); callable with that access point's own token",
      tag: 'access points',
      auth: 'accessPoint',
      params: idParams,
      querystring: configQuery,
      status: 200,
      response: ref('AccessPointConfigAnswer'),
      errors: [404, 409],
      handler: async (req) =>
        longPollConfig(d, req, (state) =>
          compileAccessPointConfig(state, req.params['id'] as string, d.compile),
        ),
    },
  ];
}
