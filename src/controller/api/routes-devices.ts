/**
 * Operator routes for devices: registration (which issues the device's own
 * token), binding and token rotation. What the device itself calls (activation,
 * configuration, status) is in routes-agent.ts.
 */
import { find, get, type ModelState, type SagDevice, type SagInstance } from '../model/index.js';
import { itemsOf, ref } from './entities.js';
import { command, written, type RouteDeps, type RouteSpec } from './route.js';
import { bodies, serialParams } from './schemas.js';

function binding(state: ModelState, serial: string, instanceId: string | null) {
  const device = written<SagDevice>(state, 'devices', serial);
  return { device, instance: instanceId === null ? null : (find.instance(state, instanceId) ?? null) };
}

export function deviceRoutes(d: RouteDeps): RouteSpec[] {
  return [
    {
      method: 'GET',
      url: '/v1/devices',
      operationId: 'listDevices',
      summary: 'List registered devices',
      tag: 'devices',
      auth: 'operator',
      status: 200,
      response: itemsOf('Device'),
      handler: async () => d.list('devices'),
    },
    {
      method: 'POST',
      url: '/v1/devices',
      operationId: 'registerDevice',
      summary:
        'Register a device (without publicKey it awaits activation); the response carries its bearer token, shown only this once',
      tag: 'devices',
      auth: 'operator',
      body: bodies.deviceRegister,
      status: 201,
      response: ref('DeviceRegistration'),
      errors: [409],
      handler: async (req) => {
        const out = await d.apply(req, command('device.register', req.body));
        return {
          device: written<SagDevice>(out.state, 'devices', req.body['serial'] as string),
          token: out.deviceToken,
        };
      },
    },
    {
      method: 'GET',
      url: '/v1/devices/:serial',
      operationId: 'getDevice',
      summary: 'Get a device',
      tag: 'devices',
      auth: 'operator',
      params: serialParams,
      status: 200,
      response: ref('Device'),
      errors: [404],
      handler: async (req) => get.device(await d.state(), req.params['serial']),
    },
    {
      method: 'PATCH',
      url: '/v1/devices/:serial',
      operationId: 'updateDevice',
      summary: "Change a device's public key or software version",
      tag: 'devices',
      auth: 'operator',
      params: serialParams,
      body: bodies.deviceUpdate,
      status: 200,
      response: ref('Device'),
      errors: [404, 409],
      handler: async (req) => {
        const out = await d.apply(req, command('device.update', req.body, { serial: req.params['serial'] }));
        return written<SagDevice>(out.state, 'devices', req.params['serial'] as string);
      },
    },
    {
      method: 'DELETE',
      url: '/v1/devices/:serial',
      operationId: 'deleteDevice',
      summary: 'Delete an unbound device; its token stops working',
      tag: 'devices',
      auth: 'operator',
      params: serialParams,
      status: 204,
      errors: [404, 409],
      handler: async (req) => d.apply(req, command('device.delete', { serial: req.params['serial'] })),
    },
    {
      method: 'POST',
      url: '/v1/devices/:serial/bind',
      operationId: 'bindDevice',
      summary: 'Bind a device to an instance of the same model',
      tag: 'devices',
      auth: 'operator',
      params: serialParams,
      body: bodies.deviceBind,
      status: 200,
      response: ref('DeviceBinding'),
      errors: [404, 409],
      handler: async (req) => {
        const out = await d.apply(req, command('device.bind', req.body, { serial: req.params['serial'] }));
        return binding(out.state, req.params['serial'] as string, req.body['instanceId'] as string);
      },
    },
    {
      method: 'POST',
      url: '/v1/devices/:serial/unbind',
      operationId: 'unbindDevice',
      summary: 'Unbind a device from its instance (an online instance must be marked offline first)',
      tag: 'devices',
      auth: 'operator',
      params: serialParams,
      status: 200,
      response: ref('DeviceBinding'),
      errors: [404, 409],
      handler: async (req) => {
        const serial = req.params['serial'] as string;
        const out = await d.apply(req, command('device.unbind', { serial }));
        // The instance that was released, if the command changed anything.
        const released = out.changes.find((c) => c.collection === 'instances');
        return binding(out.state, serial, released ? (released.value as SagInstance).id : null);
      },
    },
    {
      method: 'POST',
      url: '/v1/devices/:serial/token',
      operationId: 'rotateDeviceToken',
      summary: 'Issue a new token for a device; the old one stops working',
      tag: 'devices',
      auth: 'operator',
      params: serialParams,
      status: 200,
      response: ref('Token'),
      errors: [404],
      handler: async (req) => ({
        token: await d.store.rotateDeviceToken(req.params['serial'] as string, d.actor(req)),
      }),
    },
  ];
}
