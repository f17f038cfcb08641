/**
 * The agent's state directory:
 *
 *   private.key     the WireGuard private key, base64, mode 0600; never leaves the box
 *   identity.json   serial, device token (a secret too, so 0600) and public key
 *   config.json     the last configuration applied successfully, to come up on when
 *                   the controller cannot be reached
 *
 * Every file is written to a temporary name, fsynced and renamed over the old one,
 * so a crash or power cut leaves the previous version or the new one, never half a
 * file. The directory itself is created 0700, and an existing one others may enter is
 * tightened to 0700.
 */
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceConfig } from '../contract/config.js';
import { ensurePrivateDir, syncDir, writeSecretFile, type Warn } from '../util/secret-file.js';
import { AgentStateError } from './errors.js';

export interface AgentIdentity {
  serial: string;
  /** Bearer token for the controller ("sagd_..."). */
  token: string;
  publicKey: string;
  /** Unix ms. */
  activatedAt: number;
}

const PRIVATE_KEY = 'private.key';
const IDENTITY = 'identity.json';
const CONFIG = 'config.json';

export class AgentStateDir {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Creates the directory 0700, or tightens an existing one to 0700 (`warn` hears of it). */
  async ensure(warn: Warn = () => {}): Promise<void> {
    try {
      await ensurePrivateDir(this.dir, warn);
    } catch (cause) {
      throw new AgentStateError(
        `cannot create the state directory ${this.dir}: ${(cause as Error).message}`,
        { cause },
      );
    }
  }

  /** Writes `data` to `name` atomically with mode 0600. */
  async write(name: string, data: string): Promise<void> {
    try {
      await writeSecretFile(this.path(name), data);
    } catch (cause) {
      throw new AgentStateError(`cannot write ${this.path(name)}: ${(cause as Error).message}`, { cause });
    }
  }

  async read(name: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(name), 'utf8');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new AgentStateError(`cannot read ${this.path(name)}: ${(cause as Error).message}`, { cause });
    }
  }

  async remove(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
  }

  async move(from: string, to: string): Promise<void> {
    try {
      await rename(this.path(from), this.path(to));
      await syncDir(this.dir);
    } catch (cause) {
      throw new AgentStateError(`cannot rename ${this.path(from)} to ${to}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }

  async readPrivateKey(): Promise<string | undefined> {
    return (await this.read(PRIVATE_KEY))?.trim();
  }

  /** Writes the key beside the current one (`private.key.new`) until `commitPrivateKey`. */
  async writePendingPrivateKey(key: string): Promise<void> {
    await this.write(`${PRIVATE_KEY}.new`, `${key}\n`);
  }

  async commitPrivateKey(): Promise<void> {
    await this.move(`${PRIVATE_KEY}.new`, PRIVATE_KEY);
  }

  async dropPendingPrivateKey(): Promise<void> {
    await this.remove(`${PRIVATE_KEY}.new`);
  }

  async readIdentity(): Promise<AgentIdentity | undefined> {
    const text = await this.read(IDENTITY);
    if (text === undefined) return undefined;
    const value = parse(text, this.path(IDENTITY)) as Partial<AgentIdentity> | null;
    if (
      typeof value?.serial !== 'string' ||
      typeof value.token !== 'string' ||
      typeof value.publicKey !== 'string'
    ) {
      throw new AgentStateError(`${this.path(IDENTITY)} is not a device identity; activate again`);
    }
    return {
      serial: value.serial,
      token: value.token,
      publicKey: value.publicKey,
      activatedAt: Number(value.activatedAt ?? 0),
    };
  }

  async writeIdentity(identity: AgentIdentity): Promise<void> {
    await this.write(IDENTITY, `${JSON.stringify(identity, null, 2)}\n`);
  }

  /** The last good configuration, or undefined when there is none or it is unreadable (then the controller must supply one). */
  async readConfig(): Promise<DeviceConfig | undefined> {
    const text = await this.read(CONFIG).catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      const value = JSON.parse(text) as DeviceConfig;
      return value?.kind === 'device' && typeof value.version === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  }

  async writeConfig(config: DeviceConfig): Promise<void> {
    await this.write(CONFIG, `${JSON.stringify(config)}\n`);
  }

  async removeConfig(): Promise<void> {
    await this.remove(CONFIG);
  }
}

function parse(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new AgentStateError(`${path} is not valid JSON`, { cause });
  }
}
