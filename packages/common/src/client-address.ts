import { BlockList, isIP } from 'node:net';

/**
 * Who the client is, for every limit: the gateway's TCP peer, unless that peer is a proxy we trust (the
 * ingress controller, a load balancer: TRUSTED_PROXIES). Then the client is the last X-Forwarded-For hop that
 * is not a trusted proxy — the address our own proxy saw; everything left of it the client wrote itself and
 * proves nothing. Without this, behind an ingress every client on the internet is one address, and every
 * per-client limit becomes a worldwide one.
 */
export function trustedProxies(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/');
    const type = isIP(net ?? '') === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(net!, Number(bits ?? (type === 'ipv6' ? 128 : 32)), type);
  }
  return list;
}

/** `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) is 192.0.2.1. */
function normalise(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

const isTrusted = (trusted: BlockList, address: string) => {
  const family = isIP(address);
  return family !== 0 && trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
};

/** The client's address (see above); `unknown` when the socket has none (it closed). */
export function clientAddressOf(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: BlockList,
): string {
  let client = normalise(peer ?? 'unknown');
  if (!isTrusted(trusted, client)) return client;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? ''))
    .split(',')
    .map((h) => normalise(h.trim()))
    .filter(Boolean);
  for (const hop of hops.reverse()) {
    if (isIP(hop) === 0) break; // not an address: written by the client, so the hop to its right is it
    client = hop;
    if (!isTrusted(trusted, hop)) break;
  }
  return client;
}

/**
 * What limits count by: an IPv4 address, or the /64 an IPv6 address belongs to (one subscriber's network gets
 * a /64 or more; counting single IPv6 addresses, a client would have 2^64 fresh ones to rotate through).
 */
export function clientKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head, tail] = address.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => (Number.parseInt(g || '0', 16) || 0).toString(16))
    .join(':')}::/64`;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the gateway: the client's address (TRUSTED_PROXIES taken into account). */
    clientAddress?: string;
    /** What per-client limits count by: the address, or its IPv6 /64 (clientKey). */
    clientKey?: string;
  }
}
