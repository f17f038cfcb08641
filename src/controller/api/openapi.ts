/**
 * The OpenAPI 3.1 document, built from the same RouteSpecs that register the
 * routes (see route.ts), so every served route is documented and vice versa.
 * 3.1 because its schemas are plain JSON Schema: the request schemas Ajv
 * validates with are copied in unchanged.
 */
import { ENTITY_SCHEMAS } from './entities.js';
import type { RouteSpec } from './route.js';
import type { JsonSchema } from './schemas.js';

const ERROR_TEXT: Record<number, string> = {
  400: 'The request is malformed or a value is invalid',
  401: 'No credential, or one that is not valid',
  403: 'The credential may not use this operation',
  404: 'An object named in the request does not exist',
  409: 'The change conflicts with the current state (in use, already bound, overlapping CIDRs, area mismatch), or the configuration cannot be compiled yet',
  429: 'Too many attempts; retry after the number of seconds in the Retry-After header',
  500: 'The controller failed; see its log',
  503: 'The store cannot write (disk full, read-only, busy); retry later',
};

/** "/v1/ccns/:id/members/:instanceId" -> "/v1/ccns/{id}/members/{instanceId}" */
export function openapiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(spec: RouteSpec): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [
    ['path', spec.params],
    ['query', spec.querystring],
  ] as const) {
    if (!schema) continue;
    for (const [name, property] of Object.entries(schema.properties)) {
      const { description, ...rest } = property as { description?: string };
      out.push({
        name,
        in: where,
        required: where === 'path' || (schema.required ?? []).includes(name),
        ...(description === undefined ? {} : { description }),
        schema: rest,
      });
    }
  }
  return out;
}

function responses(spec: RouteSpec): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  out[String(spec.status)] =
    spec.status === 204 || !spec.response
      ? { description: 'Done' }
      : { description: 'Success', content: { 'application/json': { schema: spec.response } } };
  const errors = new Set<number>([...(spec.errors ?? []), 500]);
  if (spec.params || spec.body || spec.querystring) errors.add(400);
  if (spec.auth !== 'public') {
    errors.add(401);
    errors.add(403);
  }
  if (spec.method !== 'GET') errors.add(503);
  for (const status of [...errors].sort())
    out[String(status)] = { $ref: `#/components/responses/E${status}` };
  return out;
}

function operation(spec: RouteSpec): JsonSchema {
  const security =
    spec.auth === 'public'
      ? []
      : spec.auth === 'operator'
        ? [{ operatorKey: [] }]
        : spec.auth === 'accessPoint'
          ? [{ operatorKey: [] }, { accessPointToken: [] }]
          : [{ operatorKey: [] }, { deviceToken: [] }];
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    tags: [spec.tag],
    security,
    ...(spec.params || spec.querystring ? { parameters: parameters(spec) } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: !spec.optionalBody,
            content: { 'application/json': { schema: spec.body } },
          },
        }
      : {}),
    responses: responses(spec),
  };
}

export function buildOpenApiDocument(specs: readonly RouteSpec[], info: { version: string }): object {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const spec of specs) {
    const path = openapiPath(spec.url);
    (paths[path] ??= {})[spec.method.toLowerCase()] = operation(spec);
  }
  const errorResponses = Object.fromEntries(
    Object.entries(ERROR_TEXT).map(([status, description]) => [
      `E${status}`,
      { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'sag controller',
      version: info.version,
      description:
        'Smart access gateway controller. Operators authenticate with `Authorization: Bearer <API key>`; ' +
        'a device authenticates with the token issued at registration or activation and may only read its own ' +
        'configuration and report its own status. POST /v1/activate needs no credential: the activation code is one.',
    },
    servers: [{ url: '/' }],
    security: [{ operatorKey: [] }],
    paths,
    components: {
      securitySchemes: {
        operatorKey: { type: 'http', scheme: 'bearer', description: 'Operator API key ("sagk_...")' },
        deviceToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'Device token ("sagd_..."), issued at registration or activation',
        },
        accessPointToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'Access point token ("saga_..."), issued by POST /v1/access-points/{id}/token',
        },
      },
      schemas: ENTITY_SCHEMAS,
      responses: errorResponses,
    },
  };
}
