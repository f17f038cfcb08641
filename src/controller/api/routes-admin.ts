/** Health, the OpenAPI document, operator API keys and the audit log. */
import { AUDIT_PAGE_MAX } from '../store/index.js';
import { ref } from './entities.js';
import { RequestValidationError } from './errors.js';
import type { RouteDeps, RouteSpec } from './route.js';
import { auditQuery, bodies, keyIdParams } from './schemas.js';

export function adminRoutes(d: RouteDeps, openapi: () => object): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/v1/health',
      operationId: 'health',
      summary: 'Liveness and the current model version; reads the store',
      tag: 'meta',
      auth: 'public',
      status: 200,
      response: ref('Health'),
      handler: async () => ({ status: 'ok', version: (await d.state()).version }),
    },
    {
      method: 'GET',
      url: '/v1/openapi.json',
      operationId: 'openapi',
      summary: 'This API as an OpenAPI 3.1 document',
      tag: 'meta',
      auth: 'public',
      status: 200,
      response: { type: 'object' },
      handler: async () => openapi(),
    },
    {
      method: 'GET',
      url: '/v1/api-keys',
      operationId: 'listApiKeys',
      summary: 'List operator API keys (never their secrets)',
      tag: 'api keys',
      auth: 'operator',
      status: 200,
      response: { type: 'object', properties: { items: { type: 'array', items: ref('ApiKey') } } },
      handler: async () => ({ items: await d.store.listApiKeys() }),
    },
    {
      method: 'POST',
      url: '/v1/api-keys',
      operationId: 'createApiKey',
      summary: 'Create an operator API key; the token is shown only this once',
      tag: 'api keys',
      auth: 'operator',
      body: bodies.apiKeyCreate,
      status: 201,
      response: ref('NewApiKey'),
      handler: async (req) => d.store.createApiKey({ name: req.body['name'] as string }, d.actor(req)),
    },
    {
      method: 'DELETE',
      url: '/v1/api-keys/:id',
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key (the last active key cannot be revoked)',
      tag: 'api keys',
      auth: 'operator',
      params: keyIdParams,
      status: 200,
      response: ref('ApiKey'),
      errors: [404, 409],
      handler: async (req) => d.store.revokeApiKey(req.params['id'] as string, d.actor(req)),
    },
    {
      method: 'GET',
      url: '/v1/audit',
      operationId: 'listAudit',
      summary: 'Applied commands and credential events, oldest first',
      tag: 'audit',
      auth: 'operator',
      querystring: auditQuery,
      status: 200,
      response: ref('AuditPage'),
      handler: async (req) => {
        const after = req.query['after'] === undefined ? 0 : Number(req.query['after']);
        const limit = req.query['limit'] === undefined ? 100 : Number(req.query['limit']);
        if (!Number.isSafeInteger(after)) throw new RequestValidationError('query.after is too large');
        if (limit < 1 || limit > AUDIT_PAGE_MAX)
          throw new RequestValidationError(`query.limit must be from 1 to ${AUDIT_PAGE_MAX}`);
        return { items: await d.store.audit({ after, limit }) };
      },
    },
  ];
}
