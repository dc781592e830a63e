/** An address as the host part of a QEMU URI (tcp:HOST:PORT): IPv6 literals need brackets. */
export function uriHost(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}
