import { isIP } from 'node:net';

/**
 * True when a host name can only mean this machine: `localhost` or a loopback IP literal
 * (127.0.0.0/8, ::1, ::ffff:127.x.x.x), with or without IPv6 brackets. A DNS name never counts,
 * whatever it looks like: `127.0.0.1.nip.io` resolves wherever its zone's owner says.
 */
export function isLoopbackHost(host: string): boolean {
  let name = host.trim().toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  if (name === 'localhost') return true;
  switch (isIP(name)) {
    case 4:
      return name.startsWith('127.');
    case 6: {
      // The URL parser writes every spelling of an IPv6 address one way (0:0::1 → ::1).
      const canonical = new URL(`http://[${name}]`).hostname;
      return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
    }
    default:
      return false;
  }
}

/**
 * The host named by an HTTP `Host` header (`name`, `name:port`, `[v6]:port`), lower-cased, or
 * undefined when the header is not one host and an optional port (user info, a path, spaces).
 */
export function hostOfHostHeader(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/.exec(header);
  return match ? match[1]!.toLowerCase() : undefined;
}
