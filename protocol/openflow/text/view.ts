/**
 * The OVS-shaped view of a match: one value/mask pair per storage slot of
 * OVS's `struct flow` (fields.ts SLOT). The text parser writes into it with
 * the semantics of OVS's `mf_set` (a later `reg0=` replaces an earlier one,
 * `reg0[0..7]=` merges bits, `dl_vlan=` sets the CFI bit), the printer reads
 * it in the order of OVS's `match_format`. It is internal: the public types
 * are the codec's `Match`, converted in match-codec.ts.
 */
import { SLOT, SLOT_BYTES, SLOT_KIND, N_SLOTS, type FieldDef } from './fields.js';

export type SlotValue = number | bigint | Uint8Array;

const VLAN_CFI = 0x1000;
const VLAN_VID_MASK = 0x0fff;
const VLAN_PCP_MASK = 0xe000;
const IP_DSCP_MASK = 0xfc;

function ones(bits: number): number {
  return bits >= 32 ? 0xffffffff : (1 << bits) - 1;
}

export function bytesAllZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

export function bytesAllOnes(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0xff) return false;
  return true;
}

const IS_NUM: Uint8Array = Uint8Array.from(SLOT_KIND, (k) => (k === 'num' ? 1 : 0));

export class MatchView {
  /** Numeric slots: value (already ANDed with its mask) and mask; mask 0 means wildcarded. */
  readonly nv = new Uint32Array(N_SLOTS);
  readonly nm = new Uint32Array(N_SLOTS);
  /** bigint and byte slots; undefined when wildcarded. */
  readonly v: (bigint | Uint8Array | undefined)[] = new Array<bigint | Uint8Array | undefined>(N_SLOTS).fill(undefined);
  readonly m: (bigint | Uint8Array | undefined)[] = new Array<bigint | Uint8Array | undefined>(N_SLOTS).fill(undefined);

  /** Whether a bigint or byte slot was set since the last reset (most flows match numbers only). */
  private objectsSet = false;

  /** Back to matching everything. */
  reset(): this {
    this.nv.fill(0);
    this.nm.fill(0);
    if (this.objectsSet) {
      const { v, m } = this;
      for (let i = 0; i < N_SLOTS; i++) {
        v[i] = undefined;
        m[i] = undefined;
      }
      this.objectsSet = false;
    }
    return this;
  }

  has(slot: number): boolean {
    return IS_NUM[slot] === 1 ? this.nm[slot] !== 0 : this.m[slot] !== undefined;
  }

  num(slot: number): number {
    return this.nv[slot];
  }

  numMask(slot: number): number {
    return this.nm[slot];
  }

  clear(slot: number): void {
    if (IS_NUM[slot] === 1) {
      this.nv[slot] = 0;
      this.nm[slot] = 0;
    } else {
      this.v[slot] = undefined;
      this.m[slot] = undefined;
    }
  }

  /** Replaces the bits `fieldMask` of a numeric slot with `value`/`mask` (both already shifted). */
  setBits(slot: number, fieldMask: number, value: number, mask: number): void {
    const m = ((this.nm[slot] & ~fieldMask) | (mask & fieldMask)) >>> 0;
    this.nm[slot] = m;
    this.nv[slot] = ((this.nv[slot] & ~fieldMask) | (value & mask & fieldMask)) & m;
  }

  setBig(slot: number, value: bigint, mask: bigint): void {
    if (mask === 0n) this.clear(slot);
    else {
      this.objectsSet = true;
      this.v[slot] = value & mask;
      this.m[slot] = mask;
    }
  }

  setBytes(slot: number, value: Uint8Array, mask: Uint8Array): void {
    if (bytesAllZero(mask)) {
      this.clear(slot);
      return;
    }
    const v = new Uint8Array(value.length);
    for (let i = 0; i < v.length; i++) v[i] = value[i] & mask[i];
    this.objectsSet = true;
    this.v[slot] = v;
    this.m[slot] = mask;
  }

  /**
   * Sets a whole field, replacing whatever it held (OVS `mf_set`). `value`
   * and `mask` are in the field's representation (fieldRepr).
   */
  setField(f: FieldDef, value: SlotValue, mask: SlotValue): void {
    switch (f.name) {
      case 'dl_vlan':
      case 'dl_vlan_pcp':
      case 'vlan_pcp':
      case 'nw_tos':
        // A zero mask (`dl_vlan=`, `nw_tos=0/0`) wildcards the field again, as OVS's mf_set_wild does:
        // the VID or PCP bits, and the CFI bit too when nothing else of the tag is matched.
        if (mask === 0) {
          if (f.name === 'nw_tos') this.setBits(SLOT.nw_tos, IP_DSCP_MASK, 0, 0);
          else {
            const own = f.name === 'dl_vlan' ? VLAN_VID_MASK : VLAN_PCP_MASK;
            const other = f.name === 'dl_vlan' ? VLAN_PCP_MASK : VLAN_VID_MASK;
            this.setBits(SLOT.vlan_tci, this.numMask(SLOT.vlan_tci) & other ? own : 0xffff, 0, 0);
          }
          return;
        }
        break;
    }
    switch (f.name) {
      case 'dl_vlan': {
        // OpenFlow 1.0's "no VLAN" (0xffff) matches an absent tag.
        const vid = value as number;
        if (vid === 0xffff) this.setBits(SLOT.vlan_tci, 0xffff, 0, 0xffff);
        else this.setBits(SLOT.vlan_tci, VLAN_VID_MASK | VLAN_CFI, VLAN_CFI | (vid & VLAN_VID_MASK), 0x1fff);
        return;
      }
      case 'dl_vlan_pcp':
      case 'vlan_pcp': {
        const pcp = (value as number) & 7;
        this.setBits(SLOT.vlan_tci, VLAN_PCP_MASK | VLAN_CFI, (pcp << 13) | VLAN_CFI, VLAN_PCP_MASK | VLAN_CFI);
        return;
      }
      case 'nw_tos':
        this.setBits(SLOT.nw_tos, IP_DSCP_MASK, value as number, IP_DSCP_MASK);
        return;
      case 'icmp_type':
      case 'icmp_code':
      case 'icmpv6_type':
      case 'icmpv6_code':
        // OVS keeps ICMP type and code in the 16-bit transport port slots.
        this.setBits(f.slot, 0xffff, (value as number) & 0xff, (mask as number) === 0 ? 0 : 0xffff);
        return;
      case 'arp_op':
        this.setBits(SLOT.nw_proto, 0xff, (value as number) & 0xff, ((mask as number) & 0xff) === 0 ? 0 : 0xff);
        return;
    }
    if (f.span > 1) {
      // xreg/xxreg: 32-bit registers, most significant first.
      const v = value as bigint;
      const m = mask as bigint;
      for (let i = 0; i < f.span; i++) {
        const shift = BigInt(32 * (f.span - 1 - i));
        this.setBits(f.slot + i, 0xffffffff, Number((v >> shift) & 0xffffffffn), Number((m >> shift) & 0xffffffffn));
      }
      return;
    }
    switch (SLOT_KIND[f.slot]) {
      case 'num': {
        const fm = (ones(f.bits) << f.ofs) >>> 0;
        this.setBits(f.slot, fm, ((value as number) << f.ofs) >>> 0, ((mask as number) << f.ofs) >>> 0);
        return;
      }
      case 'big':
        this.setBig(f.slot, value as bigint, mask as bigint);
        return;
      case 'bytes':
        this.setBytes(f.slot, value as Uint8Array, mask as Uint8Array);
        return;
    }
  }

  /** Reads a whole field back (value, mask) in its representation; mask 0 when wildcarded. */
  getField(f: FieldDef): [SlotValue, SlotValue] {
    if (f.span > 1) {
      let v = 0n;
      let m = 0n;
      for (let i = 0; i < f.span; i++) {
        v = (v << 32n) | BigInt(this.num(f.slot + i));
        m = (m << 32n) | BigInt(this.numMask(f.slot + i));
      }
      return [v, m];
    }
    switch (SLOT_KIND[f.slot]) {
      case 'num': {
        const fm = ones(f.bits);
        return [(this.num(f.slot) >>> f.ofs) & fm, (this.numMask(f.slot) >>> f.ofs) & fm];
      }
      case 'big':
        return [(this.v[f.slot] as bigint | undefined) ?? 0n, (this.m[f.slot] as bigint | undefined) ?? 0n];
      case 'bytes': {
        const n = SLOT_BYTES[f.slot];
        return [(this.v[f.slot] as Uint8Array | undefined) ?? new Uint8Array(n), (this.m[f.slot] as Uint8Array | undefined) ?? new Uint8Array(n)];
      }
    }
  }
}

/** The representation a field's values take: number up to 32 bits, bigint above, bytes for addresses. */
export function fieldRepr(f: FieldDef): 'num' | 'big' | 'bytes' {
  if (f.format === 'ethernet' || f.format === 'ipv6') return 'bytes';
  return f.bits > 32 ? 'big' : 'num';
}

/**
 * Parsing and printing run synchronously and a view never escapes them, so one
 * spare view is recycled instead of allocating typed arrays per flow (which
 * was a quarter of the parse time). Nested borrowers simply get a new one.
 */
let spare: MatchView | undefined;

export function borrowView(): MatchView {
  const v = spare;
  spare = undefined;
  return v ? v.reset() : new MatchView();
}

export function returnView(v: MatchView): void {
  spare = v;
}
