import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { FerryError } from '../errors.js';
import { uriHost } from '../api/host-address.js';
import { hostNameSchema } from '../api/names.js';

/** A saved connection, as kept in $FERRY_HOME/hosts.json. Secrets are never written here. */
const savedHostSchema = z.discriminatedUnion('transport', [
  z.object({
    transport: z.literal('ssh'),
    name: hostNameSchema,
    /** A host name, an address, or an alias from ~/.ssh/config (resolved at every connect). */
    address: z.string(),
    port: z.number().int().optional(),
    user: z.string().optional(),
    identityFile: z.string().optional(),
    useAgent: z.boolean().default(true),
    autoconnect: z.boolean().default(true),
    /** The user is not root and gets root through passwordless sudo. */
    sudo: z.boolean().optional(),
    /** Only for libvirt hosts; absent = Ferry-managed QEMU. */
    hypervisor: z.literal('libvirt').optional(),
  }),
  z.object({ transport: z.literal('local'), name: hostNameSchema, autoconnect: z.boolean().default(true), hypervisor: z.literal('libvirt').optional() }),
]);

export type SavedHost = z.infer<typeof savedHostSchema>;

const fileSchema = z.object({ version: z.literal(1), hosts: z.array(savedHostSchema) });

export class HostRegistry {
  private changes: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  async list(): Promise<SavedHost[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const parsed = fileSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      throw new FerryError('internal', `${this.file} is not a valid Ferry host list`, {
        hint: 'Fix or move the file aside; Ferry will start with an empty list.',
      });
    }
    return parsed.data.hosts;
  }

  async get(name: string): Promise<SavedHost> {
    const host = (await this.list()).find((candidate) => candidate.name === name);
    if (!host) {
      throw new FerryError('not-found', `No host named "${name}"`, {
        hint: 'Add it first with `ferry host add` (or "Add Connection"); `ferry host list` shows the saved ones.',
      });
    }
    return host;
  }

  async assertFree(name: string): Promise<void> {
    if ((await this.list()).some((candidate) => candidate.name === name)) {
      throw new FerryError('already-exists', `A host named "${name}" already exists`, {
        hint: 'Pick another name, or remove the old one with `ferry host remove`.',
      });
    }
  }

  async add(host: SavedHost): Promise<void> {
    await this.change(async () => {
      await this.assertFree(host.name);
      await this.save([...(await this.list()), host]);
    });
  }

  async remove(name: string): Promise<void> {
    await this.change(async () => {
      const hosts = await this.list();
      if (!hosts.some((candidate) => candidate.name === name)) await this.get(name);
      await this.save(hosts.filter((candidate) => candidate.name !== name));
    });
  }

  /**
   * Read-modify-write steps run one at a time: two hosts added at once (the GUI connecting
   * several, or a script) would otherwise each write the list without the other.
   */
  private change(step: () => Promise<void>): Promise<void> {
    const next = this.changes.then(step);
    this.changes = next.catch(() => undefined);
    return next;
  }

  private async save(hosts: SavedHost[]): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const temporary = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, `${JSON.stringify({ version: 1, hosts }, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, this.file);
  }
}

export function hostUri(host: SavedHost): string {
  if (host.transport === 'local') return 'qemu:///system';
  const port = host.port === undefined || host.port === 22 ? '' : `:${host.port}`;
  const user = host.user === undefined ? '' : `${host.user}@`;
  return `qemu+ssh://${user}${uriHost(host.address)}${port}/system`;
}
