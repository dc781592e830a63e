import type { Duplex } from 'node:stream';
import { FerryError } from '../errors.js';
import { shellCommand } from '../ssh/shell.js';
import type { HostTransport, UnixSocketListener } from '../ssh/transport.js';

/** The destination's libvirtd socket (its system instance). */
export const LIBVIRT_SOCKET = '/run/libvirt/libvirt-sock';
const BRIDGE_DIRECTORY = '/run/ferry';

/** The destination libvirtd, reachable on the source host as a UNIX socket. */
export interface LibvirtBridge {
  /** What the source's libvirtd is given as --desturi. */
  readonly uri: string;
  close(): Promise<void>;
}

/**
 * Makes the destination's libvirt socket appear on the source host, carried by Ferry's two SSH
 * connections (a reverse stream-local forward on the source, spliced to a forward to the socket
 * on the destination). So the hosts need neither SSH keys for each other nor libvirt's TCP port;
 * only the migration data itself goes host to host.
 */
export async function bridgeDestinationLibvirt(source: HostTransport, destination: HostTransport, id: string): Promise<LibvirtBridge> {
  if (!source.listenUnixSocket) {
    throw new FerryError('unsupported', `${source.label}: libvirt migrations need the source host reached over SSH`, { hint: 'Add the source host as an SSH host (ferry host add NAME --ssh USER@HOST --libvirt).' });
  }
  const path = `${BRIDGE_DIRECTORY}/libvirt-${id}.sock`;
  await source.run(shellCommand(['mkdir', '-p', BRIDGE_DIRECTORY]));
  const open = new Set<Duplex>();
  const listener: UnixSocketListener = await source.listenUnixSocket(path, (incoming) => {
    open.add(incoming);
    incoming.on('close', () => open.delete(incoming));
    destination.openUnixSocket(LIBVIRT_SOCKET).then(
      (outgoing) => {
        open.add(outgoing);
        outgoing.on('close', () => open.delete(outgoing));
        splice(incoming, outgoing);
      },
      () => incoming.destroy(),
    );
  });
  return {
    uri: `qemu+unix:///system?socket=${path}`,
    close: async () => {
      await listener.close();
      for (const stream of open) stream.destroy();
      await source.exec(shellCommand(['rm', '-f', path])).catch(() => undefined);
    },
  };
}

function splice(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
}
