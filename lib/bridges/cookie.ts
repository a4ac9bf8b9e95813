import { randomBytes } from 'node:crypto';

/** Any 64-bit value but all-ones, which OpenFlow reserves (ovs_lib.generate_random_cookie). */
export function randomCookie(): bigint {
  for (;;) {
    const c = randomBytes(8).readBigUInt64BE();
    if (c !== 0xffff_ffff_ffff_ffffn && c !== 0n) return c;
  }
}

/** Bridge external_ids key under which the agent keeps its cookie, so a restart adopts its own flows. */
export const COOKIE_EXTERNAL_ID = 'ovs-agent-cookie';

export function parseCookie(text: string | undefined): bigint | undefined {
  if (!text || !/^0x[0-9a-f]{1,16}$/i.test(text)) return undefined;
  const c = BigInt(text);
  return c === 0n || c === 0xffff_ffff_ffff_ffffn ? undefined : c;
}

export function formatCookie(c: bigint): string {
  return `0x${c.toString(16)}`;
}
