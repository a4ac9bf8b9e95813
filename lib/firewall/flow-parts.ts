/**
 * The words the firewall writes its flows with, in the firewall's own
 * vocabulary (registers, conntrack states, Neutron's field names) and built
 * on lib/flows' parts: each part carries its OXM bytes and each action list
 * is frozen once, so a port's ~50 flows cost a few pointers each and no
 * text is written on the way (docs/design.md#the-firewalls-tables).
 */
import { apply, ct, setReg as setRegister, type Instructions } from '../flows/actions.js';
import {
  address as addressPart, ctMark as ctMarkPart, ctState, dstPort, ethType, FlowMatchError, reg, srcPort, type AddressField,
  type MatchPart,
} from '../flows/match.js';
import type { Action } from '@ovs-agent/openflow';
import { CtState, Reg } from './constants.js';

export type { MatchPart, MatchParts } from '../flows/match.js';
export {
  conjId, ctZone, dlVlan, ethDst as dlDst, ethSrc as dlSrc, icmpCode, icmpType, inPort, ipProto as nwProto, UNTAGGED,
} from '../flows/match.js';
export { conjunction, CT_CLEAR, DROP, NORMAL, output, POP_VLAN as STRIP_VLAN, resubmit } from '../flows/actions.js';
export { apply as actions };
export type { Instructions as Actions };

export class FlowPartError extends Error {
  override readonly name = 'FlowPartError';
  readonly code = 'FW_BAD_FLOW_PART';
}

export const portReg = (ofport: number): MatchPart => reg(Reg.PORT, ofport);
export const netReg = (lvid: number): MatchPart => reg(Reg.NET, lvid);
export const setReg = (n: number, v: number): Action => setRegister(n, v);

/** `dl_type=0x0800` as Neutron's configuration spells an ethertype: a 16-bit hex number. */
export function dlType(hex: string): MatchPart {
  if (!/^0x[0-9a-fA-F]{1,4}$/.test(hex)) throw new FlowPartError(`ethertype ${JSON.stringify(hex)} is not a 16-bit hex number such as 0x0800`);
  return ethType(Number(hex));
}

/** `ct_mark=0x1`. */
export const ctMark = (hex: string): MatchPart => ctMarkPart(Number(hex));

/** Every conntrack state the firewall matches (constants.ts), made once. */
export const CT = Object.fromEntries(Object.entries(CtState).map(([name, flags]) => [name, ctState(flags)])) as Record<keyof typeof CtState, MatchPart>;

/** The Ethernet types the firewall matches, made once. */
export const ETH = { IPV4: ethType(0x0800), IPV6: ethType(0x86dd), ARP: ethType(0x0806) } as const;

/** Transport ports under the protocol's own fields (tp_src/tp_dst in Neutron's text). */
export const tpSrc = (proto: number, port: number): MatchPart => wrap(() => srcPort(proto, port));
export const tpDst = (proto: number, port: number): MatchPart => wrap(() => dstPort(proto, port));

/** A block of port-range.ts's cover (`0x1f40/0xffc0`) as the destination port of `proto`. */
export function portBlock(proto: number, block: string): MatchPart {
  const slash = block.indexOf('/');
  const value = Number(slash < 0 ? block : block.slice(0, slash));
  const mask = slash < 0 ? 0xffff : Number(block.slice(slash + 1));
  return wrap(() => dstPort(proto, value & mask, mask));
}

/** Neutron's names of the address fields, as the firewall writes them. */
const ADDRESS_FIELDS: Readonly<Record<string, AddressField>> = {
  nw_src: 'ip_src', nw_dst: 'ip_dst', arp_spa: 'arp_spa', ipv6_src: 'ipv6_src', ipv6_dst: 'ipv6_dst', nd_target: 'nd_target',
};

/** An address or CIDR block; a /0 block matches everything and is no field at all (undefined). */
export function address(name: keyof typeof ADDRESS_FIELDS, cidr: string): MatchPart | undefined {
  const field = ADDRESS_FIELDS[name];
  try {
    return addressPart(field, cidr);
  } catch (err) {
    // Named as the firewall (and Neutron) spells the field.
    if (err instanceof FlowMatchError) throw new FlowPartError(err.message.replace(`${field}=`, `${name}=`));
    throw err;
  }
}

function wrap<T>(make: () => T, reword: (message: string) => string = (m) => m): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof FlowMatchError) throw new FlowPartError(reword(err.message));
    throw err;
  }
}

/** The conntrack zone is the local VLAN, held in reg6. */
const ZONE = Object.freeze({ field: `reg${Reg.NET}` as 'reg6', ofs: 0, nBits: 16 });
const NO_RECIRC = 0xff;

const tracks = new Map<number, Action>();

/** `ct(table=T,zone=reg6)`: through conntrack, then on in table T (one object per table: actions() finds its lists by identity). */
export function ctTrack(table: number): Action {
  let a = tracks.get(table);
  if (!a) {
    a = ct({ commit: false, force: false, zone: ZONE, recircTable: table, alg: 0, actions: [] });
    tracks.set(table, a);
  }
  return a;
}

const COMMIT = ct({ commit: true, force: false, zone: ZONE, recircTable: NO_RECIRC, alg: 0, actions: [] });

const commitWithMark = new Map<string, Action>();

/** `ct(commit,zone=reg6)`, optionally setting ct_mark on the committed connection. */
export function ctCommit(mark?: string): Action {
  if (mark === undefined) return COMMIT;
  let a = commitWithMark.get(mark);
  if (!a) {
    a = ct({ commit: true, force: false, zone: ZONE, recircTable: NO_RECIRC, alg: 0, actions: [{ type: 'set_field', field: 'ct_mark', value: Number(mark) }] });
    commitWithMark.set(mark, a);
  }
  return a;
}

/** An action list for a port's flows. */
export type ActionPart = Action;
/** The drop list, or any list (lib/flows' instructions). */
export type { Instructions };
