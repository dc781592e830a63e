import type { Channel, ChannelArgs, ChannelOutput } from '../api/contract.js';
import { FerryError } from '../errors.js';
import { shellCommand } from '../ssh/shell.js';
import {
  destroyLibvirtDomain,
  libvirtDomainDetails,
  listLibvirtDomains,
  resumeLibvirtDomain,
  setLibvirtAutostart,
  shutdownLibvirtDomain,
  startLibvirtDomain,
  suspendLibvirtDomain,
  undefineLibvirtDomain,
  type LibvirtHost,
} from './domains.js';
import { createLibvirtVolume, libvirtVolumeInfo, listLibvirtPools, listLibvirtVolumes } from './pools.js';

type LibvirtHandlers = { [C in Channel]?: (args: ChannelArgs<C>, host: LibvirtHost) => Promise<ChannelOutput<C>> };

const handlers: LibvirtHandlers = {
  'vms.list': (_args, host) => listLibvirtDomains(host),
  'vms.info': ({ name }, host) => libvirtDomainDetails(host, name),
  'vms.start': ({ name }, host) => startLibvirtDomain(host, name),
  'vms.pause': ({ name }, host) => suspendLibvirtDomain(host, name),
  'vms.resume': ({ name }, host) => resumeLibvirtDomain(host, name),
  'vms.shutdown': ({ name, timeoutMs }, host) => shutdownLibvirtDomain(host, name, timeoutMs),
  'vms.destroy': ({ name }, host) => destroyLibvirtDomain(host, name),
  'vms.undefine': async ({ name }, host) => {
    await undefineLibvirtDomain(host, name);
    return { undefined: name };
  },
  'vms.update': async (args, host) => {
    const changed = Object.keys(args).filter((key) => !['host', 'name', 'autostart'].includes(key) && args[key as keyof typeof args] !== undefined);
    if (changed.length > 0 || args.autostart === undefined) {
      throw new FerryError('unsupported', `Ferry changes only the autostart flag of a libvirt domain${changed.length > 0 ? `, not ${changed.join(', ')}` : ''}`, {
        hint: `Change its hardware with libvirt's own tools: virsh edit ${args.name} on the host (or virt-manager).`,
      });
    }
    return setLibvirtAutostart(host, args.name, args.autostart);
  },
  'vms.serial': async ({ name, tailBytes }, host) => {
    const details = await libvirtDomainDetails(host, name);
    if (!details.libvirt?.serialFile) {
      throw new FerryError('unsupported', `Domain "${name}" on ${host.name} does not write its serial line to a file`, { hint: `Use virsh console ${name} on the host.` });
    }
    const result = await host.transport.exec(`${shellCommand(['tail', '-c', String(tailBytes), '--', details.libvirt.serialFile])} 2>/dev/null`);
    return { text: result.stdout };
  },
  'pools.list': (_args, host) => listLibvirtPools(host.transport),
  'volumes.list': ({ pool }, host) => listLibvirtVolumes(host.transport, pool),
  'volumes.info': ({ pool, name }, host) => libvirtVolumeInfo(host.transport, pool, name),
  'volumes.create': (args, host) => createLibvirtVolume(host.transport, args),
};

/** What to use instead, for channels that do not apply to libvirt domains and pools. */
const INSTEAD: Partial<Record<Channel, string>> = {
  'vms.define': 'Define the domain with libvirt: virsh define DOMAIN.xml or virt-install on the host.',
  'vms.adopt': 'libvirt already manages this host\'s domains; they are listed as they are.',
  'consoles.open': 'Use virsh console NAME (serial) or virt-viewer/virt-manager (display) for a libvirt domain.',
  'pools.define': 'Define the pool with libvirt: virsh pool-define-as NAME dir --target PATH, then virsh pool-start NAME.',
  'pools.start': 'Start it with libvirt: virsh pool-start NAME.',
  'pools.stop': 'Stop it with libvirt: virsh pool-destroy NAME.',
  'pools.delete': 'Remove it with libvirt: virsh pool-undefine NAME.',
  'volumes.delete': 'Delete it with libvirt: virsh vol-delete --pool POOL NAME.',
};

/** Whether a channel's call on a libvirt host goes to libvirt instead of Ferry's own VMs and pools. */
export function isLibvirtChannel(channel: Channel): boolean {
  return /^(vms|pools|volumes)\./.test(channel) || channel === 'consoles.open';
}

/** Runs a channel's call against libvirtd on the host, or says what to use instead when Ferry does not do it for libvirt. */
export async function callLibvirtChannel<C extends Channel>(channel: C, args: ChannelArgs<C>, host: LibvirtHost): Promise<ChannelOutput<C>> {
  // The table is keyed by channel, so the entry for C takes C's arguments and gives C's output.
  const handler = handlers[channel] as ((args: ChannelArgs<C>, host: LibvirtHost) => Promise<ChannelOutput<C>>) | undefined;
  if (handler) return handler(args, host);
  throw new FerryError('unsupported', `${channel} does not apply to ${host.name}, a libvirt host`, {
    hint: INSTEAD[channel] ?? 'libvirt manages this host: use virsh or virt-manager on it for this.',
  });
}
