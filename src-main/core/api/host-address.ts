/**
 * Host names and IP addresses as Ferry passes them to ssh, QEMU and remote commands. Plain
 * TypeScript without Node imports: the renderer's forms use the same rule.
 */

/** No leading '-' or '.': a leading dash reads as an option to the tools it is passed to. */
const HOST_ADDRESS = /^[A-Za-z0-9:][A-Za-z0-9.:_-]*$/;

export const HOST_ADDRESS_RULE = 'must be a host name or an IP address (letters, digits, . : _ -, not starting with - or .)';

/** Why `value` is not usable as a host address, or null when it is. */
export function hostAddressProblem(value: string): string | null {
  if (value.length === 0 || value.length > 253 || !HOST_ADDRESS.test(value)) return HOST_ADDRESS_RULE;
  return null;
}

/**
 * The address as the host part of a URI (qemu+ssh://, tcp:HOST:PORT): an IPv6 address gets
 * brackets, or its colons would be read as the port separator. A valid host name never has a
 * colon, so any colon means IPv6.
 */
export function uriHost(address: string): string {
  if (address.startsWith('[')) return address;
  return address.includes(':') ? `[${address}]` : address;
}
