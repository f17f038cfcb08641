/** `sag device`: the boxes (or vCPE/app installs) that serve SAG instances. */
import type { SagDevice, SagInstance } from '../../controller/model/index.js';
import { seg } from './client.js';
import { deleteAction, listAction, showAction, type Group, type Result } from './command.js';
import { OUTPUT_FLAG, secretResult } from './secret-output.js';
import { cell, details, table, time } from './table.js';

interface Binding {
  device: SagDevice;
  instance: SagInstance | null;
}

const deviceTable = (items: SagDevice[]) =>
  table(
    items.map((d) => [d.serial, d.model, cell(d.instanceId), d.softwareVersion, time(d.lastSeen)]),
    {
      header: ['SERIAL', 'MODEL', 'INSTANCE', 'SOFTWARE', 'LAST SEEN'],
      empty: 'no devices',
    },
  );

const deviceDetails = (d: SagDevice, extra: [string, string][] = []) =>
  details([
    ['serial', d.serial],
    ['model', d.model],
    ['instance', cell(d.instanceId)],
    ['public key', d.publicKey],
    ['software', d.softwareVersion],
    ['last seen', time(d.lastSeen)],
    ['version', String(d.version)],
    ...extra,
  ]);

/** A token is shown once by the API; the human output says so, or it would be lost. */
const tokenNote = (token: string) =>
  `\nThe device token is shown only this once; configure it on the device now:\n\n  ${token}\n`;

const tokenWritten = (file: string) => `The device token is in ${file} (mode 0600).\n`;

const devicePath = (serial: string) => `/v1/devices/${seg(serial)}`;
const SERIAL = { name: 'SERIAL', help: 'the device serial number' };

export const deviceGroup: Group = {
  name: 'device',
  summary: 'devices: register, bind to a SAG instance of the same model, unbind',
  actions: [
    {
      name: 'register',
      summary: 'register a device; prints its bearer token, which is shown only this once',
      positionals: [SERIAL],
      flags: [
        { name: 'model', kind: 'string', value: 'MODEL', help: 'hardware, vcpe or app', required: true },
        {
          name: 'public-key',
          kind: 'string',
          value: 'KEY',
          help: "the device's WireGuard public key (base64); leave it out to activate the device later (sag device activation)",
        },
        {
          name: 'software-version',
          kind: 'string',
          value: 'VERSION',
          help: 'software version it runs, e.g. 2.1.0',
          required: true,
        },
        OUTPUT_FLAG,
      ],
      run: (api, a): Promise<Result> => {
        const body = {
          serial: a.positionals[0],
          model: a.need('model'),
          ...(a.has('public-key') ? { publicKey: a.string('public-key') } : {}),
          softwareVersion: a.need('software-version'),
        };
        return secretResult(a, {
          issue: () => api.post<{ device: SagDevice; token: string }>('/v1/devices', body),
          secret: 'token',
          shown: (out) => deviceDetails(out.device) + tokenNote(out.token),
          written: (out, file) => `${deviceDetails(out.device)}\n${tokenWritten(file)}`,
        });
      },
    },
    listAction<SagDevice>('devices', '/v1/devices', deviceTable),
    showAction<SagDevice>('device', 'SERIAL', devicePath, (d) => deviceDetails(d)),
    {
      name: 'bind',
      summary: 'bind a device to a SAG instance of the same model',
      positionals: [SERIAL],
      flags: [
        {
          name: 'instance',
          kind: 'string',
          value: 'INSTANCE_ID',
          help: 'the SAG instance it serves',
          required: true,
        },
      ],
      run: async (api, a) => {
        const serial = a.positionals[0] as string;
        const out = await api.post<Binding>(`${devicePath(serial)}/bind`, { instanceId: a.need('instance') });
        return {
          json: out,
          human: `bound device ${serial} to instance ${a.need('instance')} (instance state ${cell(out.instance?.state)})\n`,
        };
      },
    },
    {
      name: 'unbind',
      summary: 'unbind a device from its instance (an online instance must be marked offline first)',
      positionals: [SERIAL],
      run: async (api, a) => {
        const serial = a.positionals[0] as string;
        const out = await api.post<Binding>(`${devicePath(serial)}/unbind`);
        return {
          json: out,
          human: out.instance
            ? `unbound device ${serial} from instance ${out.instance.id}\n`
            : `device ${serial} was not bound\n`,
        };
      },
    },
    {
      name: 'activation',
      summary:
        'issue a one-time activation code and its join string (for sag agent --join-file FILE); shown only this once',
      positionals: [SERIAL],
      flags: [
        { name: 'ttl', kind: 'int', value: 'SECONDS', help: 'how long the code is valid (default 24 hours)' },
        OUTPUT_FLAG,
      ],
      run: (api, a) => {
        const serial = a.positionals[0] as string;
        const until = (out: { expiresAt: number }) => new Date(out.expiresAt).toISOString();
        return secretResult(a, {
          issue: async () => {
            const out = await api.post<{ serial: string; code: string; expiresAt: number }>(
              `${devicePath(serial)}/activation`,
              a.has('ttl') ? { ttlSeconds: a.int('ttl') } : {},
            );
            return { ...out, join: await api.joinString({ serial, code: out.code }) };
          },
          secret: 'join',
          alsoSecret: ['code'],
          shown: (out) =>
            `Activation code for ${serial} (shown only this once, valid until ${until(out)}):\n\n  ${out.code}\n\n` +
            `Its join string (this controller's URL and CA fingerprint, and the code; a secret like the code):\n\n  ${out.join}\n\n` +
            'On the device, with the join string in a file only root can read: sag agent --join-file FILE --state-dir DIR\n',
          written: (out, file) =>
            `The join string for ${serial} (controller URL, CA fingerprint, activation code valid until ${until(out)}) is in ${file} (mode 0600).\n` +
            `On the device: sag agent --join-file ${file} --state-dir DIR\n`,
        });
      },
    },
    {
      name: 'token',
      summary: 'issue a new token for a device; the old one stops working',
      positionals: [SERIAL],
      flags: [OUTPUT_FLAG],
      run: (api, a) =>
        secretResult(a, {
          issue: () => api.post<{ token: string }>(`${devicePath(a.positionals[0] as string)}/token`),
          secret: 'token',
          shown: (out) => tokenNote(out.token).slice(1),
          written: (_out, file) => tokenWritten(file),
        }),
    },
    deleteAction('device', 'SERIAL', devicePath, ' (it must be unbound; its token stops working)'),
  ],
};
