/** Routes for areas, access points and SAG instances. */
import { get, instanceRoutes, type AccessPoint, type Area, type SagInstance } from '../model/index.js';
import { itemsOf, ref } from './entities.js';
import { command, createdId, written, type RouteDeps, type RouteSpec } from './route.js';
import { bodies, idParams, nameParams } from './schemas.js';

export function edgeRoutes(d: RouteDeps): RouteSpec[] {
  return [
    // ---- areas ----
    {
      method: 'GET',
      url: '/v1/areas',
      operationId: 'listAreas',
      summary: 'List areas',
      tag: 'areas',
      auth: 'operator',
      status: 200,
      response: itemsOf('Area'),
      handler: async () => d.list('areas'),
    },
    {
      method: 'POST',
      url: '/v1/areas',
      operationId: 'createArea',
      summary: 'Create an area from regions no other area holds',
      tag: 'areas',
      auth: 'operator',
      body: bodies.areaCreate,
      status: 201,
      response: ref('Area'),
      errors: [409],
      handler: async (req) => {
        const out = await d.apply(req, command('area.create', req.body));
        return written<Area>(out.state, 'areas', req.body['name'] as string);
      },
    },
    {
      method: 'GET',
      url: '/v1/areas/:name',
      operationId: 'getArea',
      summary: 'Get an area',
      tag: 'areas',
      auth: 'operator',
      params: nameParams,
      status: 200,
      response: ref('Area'),
      errors: [404],
      handler: async (req) => get.area(await d.state(), req.params['name']),
    },
    {
      method: 'PATCH',
      url: '/v1/areas/:name',
      operationId: 'updateArea',
      summary: "Replace an area's regions",
      tag: 'areas',
      auth: 'operator',
      params: nameParams,
      body: bodies.areaUpdate,
      status: 200,
      response: ref('Area'),
      errors: [404, 409],
      handler: async (req) => {
        const out = await d.apply(req, command('area.setRegions', req.body, { name: req.params['name'] }));
        return written<Area>(out.state, 'areas', req.params['name'] as string);
      },
    },
    {
      method: 'DELETE',
      url: '/v1/areas/:name',
      operationId: 'deleteArea',
      summary: 'Delete an area nothing uses',
      tag: 'areas',
      auth: 'operator',
      params: nameParams,
      status: 204,
      errors: [404, 409],
      handler: async (req) => d.apply(req, command('area.delete', { name: req.params['name'] })),
    },

    // ---- access points ----
    {
      method: 'GET',
      url: '/v1/access-points',
      operationId: 'listAccessPoints',
      summary: 'List access points',
      tag: 'access points',
      auth: 'operator',
      status: 200,
      response: itemsOf('AccessPoint'),
      handler: async () => d.list('accessPoints'),
    },
    {
      method: 'POST',
      url: '/v1/access-points',
      operationId: 'createAccessPoint',
      summary: 'Create an access point (id generated if left out)',
      tag: 'access points',
      auth: 'operator',
      body: bodies.accessPointCreate,
      status: 201,
      response: ref('AccessPoint'),
      errors: [404, 409],
      handler: async (req) => {
        const out = await d.apply(req, command('accessPoint.create', req.body));
        return written<AccessPoint>(out.state, 'accessPoints', createdId(out.command));
      },
    },
    {
      method: 'GET',
      url: '/v1/access-points/:id',
      operationId: 'getAccessPoint',
      summary: 'Get an access point',
      tag: 'access points',
      auth: 'operator',
      params: idParams,
      status: 200,
      response: ref('AccessPoint'),
      errors: [404],
      handler: async (req) => get.accessPoint(await d.state(), req.params['id']),
    },
    {
      method: 'PATCH',
      url: '/v1/access-points/:id',
      operationId: 'updateAccessPoint',
      summary: "Change an access point's endpoints or capacity",
      tag: 'access points',
      auth: 'operator',
      params: idParams,
      body: bodies.accessPointUpdate,
      status: 200,
      response: ref('AccessPoint'),
      errors: [404, 409],
      handler: async (req) => {
        const out = await d.apply(req, command('accessPoint.update', req.body, { id: req.params['id'] }));
        return written<AccessPoint>(out.state, 'accessPoints', req.params['id'] as string);
      },
    },
    {
      method: 'DELETE',
      url: '/v1/access-points/:id',
      operationId: 'deleteAccessPoint',
      summary: 'Delete an access point',
      tag: 'access points',
      auth: 'operator',
      params: idParams,
      status: 204,
      errors: [404],
      handler: async (req) => d.apply(req, command('accessPoint.delete', { id: req.params['id'] })),
    },

    // ---- instances ----
    {
      method: 'GET',
      url: '/v1/instances',
      operationId: 'listInstances',
      summary: 'List SAG instances',
      tag: 'instances',
      auth: 'operator',
      status: 200,
      response: itemsOf('Instance'),
      handler: async () => d.list('instances'),
    },
    {
      method: 'POST',
      url: '/v1/instances',
      operationId: 'createInstance',
      summary: 'Create a SAG instance (id generated if left out)',
      tag: 'instances',
      auth: 'operator',
      body: bodies.instanceCreate,
      status: 201,
      response: ref('Instance'),
      errors: [404, 409],
      handler: async (req) => {
        const out = await d.apply(req, command('instance.create', req.body));
        return written<SagInstance>(out.state, 'instances', createdId(out.command));
      },
    },
    {
      method: 'GET',
      url: '/v1/instances/:id',
      operationId: 'getInstance',
      summary: 'Get a SAG instance',
      tag: 'instances',
      auth: 'operator',
      params: idParams,
      status: 200,
      response: ref('Instance'),
      errors: [404],
      handler: async (req) => get.instance(await d.state(), req.params['id']),
    },
    {
      method: 'PATCH',
      url: '/v1/instances/:id',
      operationId: 'updateInstance',
      summary: "Change an instance's name, bandwidth, LANs or uplinks",
      tag: 'instances',
      auth: 'operator',
      params: idParams,
      body: bodies.instanceUpdate,
      status: 200,
      response: ref('Instance'),
      errors: [404, 409],
      handler: async (req) => {
        const out = await d.apply(req, command('instance.update', req.body, { id: req.params['id'] }));
        return written<SagInstance>(out.state, 'instances', req.params['id'] as string);
      },
    },
    {
      method: 'DELETE',
      url: '/v1/instances/:id',
      operationId: 'deleteInstance',
      summary: 'Delete an instance with no device and no CCN',
      tag: 'instances',
      auth: 'operator',
      params: idParams,
      status: 204,
      errors: [404, 409],
      handler: async (req) => d.apply(req, command('instance.delete', { id: req.params['id'] })),
    },
    {
      method: 'POST',
      url: '/v1/instances/:id/offline',
      operationId: 'markInstanceOffline',
      summary: 'Mark an instance offline (e.g. before unbinding its device)',
      tag: 'instances',
      auth: 'operator',
      params: idParams,
      status: 200,
      response: ref('Instance'),
      errors: [404, 409],
      handler: async (req) => {
        const out = await d.apply(req, command('instance.setOffline', { id: req.params['id'] }));
        return written<SagInstance>(out.state, 'instances', req.params['id'] as string);
      },
    },
    {
      method: 'GET',
      url: '/v1/instances/:id/routes',
      operationId: 'getInstanceRoutes',
      summary: 'Routes the instance learns from its CCN and CEN',
      tag: 'instances',
      auth: 'operator',
      params: idParams,
      status: 200,
      response: itemsOf('Route'),
      errors: [404],
      handler: async (req) => {
        const state = await d.state();
        return { version: state.version, items: instanceRoutes(state, req.params['id'] as string) };
      },
    },
  ];
}
