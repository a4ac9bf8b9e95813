/** The Internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-headers of TCP, UDP and ICMPv6. */

/** The 16-bit ones' complement sum of buf[start, end), not yet complemented, added to `sum`. */
export function onesSum(buf: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  // Folding often enough keeps the sum a small integer.
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** Complements a folded sum into the checksum field's value. */
export function finish(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The pseudo-header sum for a transport segment of `length` bytes of `protocol` after the IP header at `ipAt`. */
export function pseudoHeaderSum(frame: Uint8Array, ipAt: number, ipv6: boolean, protocol: number, length: number): number {
  // IPv4 source and destination are at 12..20, IPv6's at 8..40.
  let sum = ipv6 ? onesSum(frame, ipAt + 8, ipAt + 40) : onesSum(frame, ipAt + 12, ipAt + 20);
  sum += protocol + (length & 0xffff) + (length >>> 16);
  return sum;
}
