/**
 * The other direction: matches as bytes (every codec field, in each context
 * its prerequisites allow, with exact, masked and out-of-range values, as
 * another controller or the switch may send them) printed by our printer
 * exactly as `ovs-ofctl ofp-parse` prints the same bytes; and that text,
 * where ovs-ofctl reads it back to the same match, parses (ours) back to the
 * same bytes.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OXM_FIELDS, type FieldName, type Match } from '@ovs-agent/openflow';
import { FlowSyntaxError, parseFlow } from '@ovs-agent/openflow';
import type { FlowMod } from '@ovs-agent/openflow';
import { prng } from '../../support/prng.js';
import { ofpPrintLine, ovsDecode, ovsOutcomes } from './ovs-oracle.js';

const IP = { eth_type: 0x0800 };
const IP6 = { eth_type: 0x86dd };
const CT = { ct_state: { value: 0x20, mask: 0x30 } };

/** Contexts that meet each prerequisite of the codec's field table. */
const CONTEXTS: Record<string, Match[]> = {
  none: [{}],
  vlan: [{ vlan_vid: 0x1005 }, { vlan_vid: { value: 0x1000, mask: 0x1000 } }],
  ip: [IP, IP6],
  ipv4: [IP],
  ipv6: [IP6],
  arp: [{ eth_type: 0x0806 }, { eth_type: 0x8035 }],
  tcp: [{ ...IP, ip_proto: 6 }, { ...IP6, ip_proto: 6 }],
  udp: [{ ...IP, ip_proto: 17 }, { ...IP6, ip_proto: 17 }],
  sctp: [{ ...IP, ip_proto: 132 }, { ...IP6, ip_proto: 132 }],
  icmpv4: [{ ...IP, ip_proto: 1 }],
  icmpv6: [{ ...IP6, ip_proto: 58 }],
  nd: [{ ...IP6, ip_proto: 58, icmpv6_type: 135 }, { ...IP6, ip_proto: 58, icmpv6_type: 136 }],
  nd_solicit: [{ ...IP6, ip_proto: 58, icmpv6_type: 135 }],
  nd_advert: [{ ...IP6, ip_proto: 58, icmpv6_type: 136 }],
  mpls: [{ eth_type: 0x8847 }, { eth_type: 0x8848 }],
  pbb: [{ eth_type: 0x88e7 }],
  ct: [{ ...IP, ...CT }, { ...IP6, ct_state: { value: 0x22, mask: 0x22 } }],
  ct_ipv4: [{ ...IP, ...CT }],
  ct_ipv6: [{ ...IP6, ...CT }],
};

function macOf(r: () => number): string {
  return Array.from({ length: 6 }, () => Math.floor(r() * 256).toString(16).padStart(2, '0')).join(':');
}
function ipv4Of(r: () => number): string {
  return Array.from({ length: 4 }, () => Math.floor(r() * 256)).join('.');
}
function ipv6Of(r: () => number): string {
  return Array.from({ length: 8 }, () => (r() < 0.4 ? 0 : Math.floor(r() * 0x10000)).toString(16)).join(':');
}
function bitsOf(r: () => number, bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(Math.floor(r() * 0x10000));
  return v & ((1n << BigInt(bits)) - 1n);
}

/** Values (and masks) for a field of the codec: the plain ones, the extremes, random ones, and every single bit. */
function values(name: FieldName, r: () => number): Array<{ value: unknown; mask?: unknown }> {
  const spec = OXM_FIELDS[name];
  const out: Array<{ value: unknown; mask?: unknown }> = [];
  const bits = spec.length * 8;
  switch (spec.kind) {
    case 'mac':
      out.push({ value: '00:00:00:00:00:00' }, { value: 'ff:ff:ff:ff:ff:ff' }, { value: macOf(r) });
      if (spec.maskable) {
        for (const mask of ['ff:ff:ff:00:00:00', '01:00:00:00:00:00', '00:00:00:00:00:01', macOf(r), '00:00:00:00:00:00']) out.push({ value: macOf(r), mask });
      }
      return out;
    case 'ipv4':
      out.push({ value: '0.0.0.0' }, { value: '255.255.255.255' }, { value: ipv4Of(r) });
      if (spec.maskable) {
        for (const mask of ['255.255.255.0', '255.0.255.0', '0.0.0.255', '128.0.0.0', ipv4Of(r)]) out.push({ value: ipv4Of(r), mask });
      }
      return out;
    case 'ipv6':
      out.push({ value: '::' }, { value: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' }, { value: ipv6Of(r) }, { value: '::ffff:1.2.3.4' });
      if (spec.maskable) {
        for (const mask of ['ffff:ffff::', 'ffff::ffff', '::ff', ipv6Of(r)]) out.push({ value: ipv6Of(r), mask });
      }
      return out;
    default: {
      const big = bits > 32;
      const conv = (v: bigint): unknown => (big ? v : Number(v));
      const max = (1n << BigInt(bits)) - 1n;
      const vs = new Set<bigint>([0n, 1n, max, bitsOf(r, bits), bitsOf(r, bits)]);
      for (let b = 0; b < Math.min(bits, 32); b++) vs.add(1n << BigInt(b));
      for (const v of vs) out.push({ value: conv(v) });
      if (spec.maskable) {
        for (const m of [bitsOf(r, bits), 0xffn & max, 1n, max ^ 1n, max]) out.push({ value: conv(bitsOf(r, bits) & m), mask: conv(m) });
        out.push({ value: conv(2n), mask: conv(3n & max) }, { value: conv(1n), mask: conv(1n) });
      }
      return out;
    }
  }
}

describe('openflow text: matches as bytes, printed as ovs-ofctl prints them', function () {
  this.timeout(300_000);
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'oftext-bytes-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints every field, in every context, as ovs-ofctl decodes it, and reads what it prints back to the same bytes', async () => {
    const r = prng(0x11b);
    const base = parseFlow('actions=drop');
    const flowMods: FlowMod[] = [];
    for (const name of Object.keys(OXM_FIELDS) as FieldName[]) {
      const spec = OXM_FIELDS[name];
      let contexts = CONTEXTS[spec.prereq];
      if (name === 'ct_tp_src' || name === 'ct_tp_dst') contexts = contexts.map((c) => ({ ...c, ct_nw_proto: 6 }));
      for (const ctx of contexts) {
        for (const v of values(name, r)) {
          const match = { ...ctx, [name]: v.mask === undefined ? v.value : { value: v.value, mask: v.mask } } as Match;
          flowMods.push({ ...base, match });
        }
      }
    }
    const ovs = await ovsDecode(dir, flowMods);
    const problems: unknown[] = [];
    let compared = 0;
    const reread: Array<{ i: number; fm: FlowMod }> = [];
    const candidates: number[] = [];
    flowMods.forEach((fm, i) => {
      const theirs = ovs[i];
      // Bytes our encoder or OVS's decoder refuses are no one's text.
      if (theirs.startsWith('encode error') || theirs.startsWith('***decode error')) return;
      compared++;
      let ours: string;
      try {
        ours = ofpPrintLine(fm);
      } catch (e) {
        if (!(e instanceof FlowSyntaxError)) throw e;
        problems.push({ match: fm.match, ovs: theirs, ours: `${e.code}: ${e.message}` });
        return;
      }
      if (ours !== theirs) {
        problems.push({ match: fm.match, ovs: theirs, ours });
        return;
      }
      candidates.push(i);
    });
    // What ovs-ofctl prints, read by us, must be the same match where ovs-ofctl reads it back to the same
    // match itself (it does not for all it prints: `vlan_tci=0x0001`, `nw_frag=<error>`, `ct_nw_proto=0`).
    const texts = candidates.map((i) => ovs[i].replace(/^ADD /, ''));
    const theirReread = await ovsOutcomes(dir, texts);
    candidates.forEach((i, k) => {
      const t = theirReread[k];
      if (t.kind !== 'ok' || t.text !== ovs[i]) return;
      try {
        reread.push({ i, fm: parseFlow(texts[k]) });
      } catch (e) {
        problems.push({ match: flowMods[i].match, ovs: ovs[i], reread: (e as Error).message });
      }
    });
    const again = await ovsDecode(dir, reread.map((x) => x.fm));
    reread.forEach((x, k) => {
      if (again[k] !== ovs[x.i]) problems.push({ match: flowMods[x.i].match, ovs: ovs[x.i], rereadDecodes: again[k] });
    });
    const replacer = (_: string, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v);
    expect(compared).to.be.above(flowMods.length / 2);
    expect(problems, `${problems.length} of ${compared}:\n${problems.slice(0, 30).map((p) => JSON.stringify(p, replacer)).join('\n')}`).to.deep.equal([]);
  });
});
