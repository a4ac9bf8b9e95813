/**
 * Every flow-mod the firewall's passes send, encoded, one hex line each (a
 * diagnostic, not a suite): to show a change to lib/firewall, lib/flows or
 * the OpenFlow encoder leaves the bytes on the wire as they were, run it in
 * both trees and compare the files.
 *
 *     node --import tsx bench/_firewall-flowmods.ts OUT.txt   # prints the count and a SHA-256
 *
 * Two scenarios: the 100-port shape of bench/_firewall-pass.ts (Neutron's
 * default group), and a mixed one (three groups, one stateless; remote
 * groups, overlapping port ranges, ICMP, IPv6, allowed address pairs with a
 * /0 member, a permitted ethertype and a bad one, a port with a bad address,
 * a port without port security) through a membership change, a port moved
 * to another network, rules changed and ports removed.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { OvsFirewall, type FirewallPort } from '../lib/firewall/index.js';
import { FlowTable } from '../lib/flows/flow-table.js';
import { flowModsOf } from '../lib/flows/installer.js';
import type { SecurityGroupInfo, SecurityGroupRule } from '../lib/control-plane/types.js';
import { OfWriter, encodeMessage } from '@ovs-agent/openflow';

const lines: string[] = [];
const w = new OfWriter(1 << 20);
function send(t: FlowTable, tag: string): void {
  const c = t.takeChanges();
  for (const m of flowModsOf(c, t.cookie)) { w.reset(); encodeMessage(w, m); lines.push(`${tag} ${Buffer.from(w.take()).toString('hex')}`); }
  t.commit(c);
}
function port(i: number, o: Partial<FirewallPort> = {}): FirewallPort {
  const hex = i.toString(16).padStart(6, '0');
  return { portId: `port-${i}`, ofport: i, lvid: 1 + (i % 3), macAddress: `fa:16:3e:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`,
    fixedIps: [`10.200.${(i >> 8) & 255}.${i & 255}`, `2001:db8::${i.toString(16)}`], allowedAddressPairs: [], portSecurityEnabled: true,
    securityGroups: ['web'], networkType: i % 2 ? 'vlan' : 'flat', segmentationId: i % 2 ? 100 + i : undefined, ...o } as FirewallPort;
}
const R = (sg: string, r: Omit<SecurityGroupRule, 'securityGroupId'>): SecurityGroupRule => ({ securityGroupId: sg, ...r });
// 1: the 100-port bench shape (bench/_firewall-pass.ts)
{
  const t = new FlowTable('br-int', 0x1234n); const fw = new OvsFirewall({ flows: t });
  fw.initialize(t); send(t, 'b0');
  const ports: FirewallPort[] = []; for (let i = 1; i <= 100; i++) ports.push({ ...port(i, { lvid: 1, networkType: 'vlan', segmentationId: 100, securityGroups: ['default'] }), fixedIps: [`10.200.${(i >> 8) & 255}.${i & 255}`] });
  const rules = [R('default', { direction: 'egress', ethertype: 'IPv4' }), R('default', { direction: 'egress', ethertype: 'IPv6' }),
    R('default', { direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'default' }), R('default', { direction: 'ingress', ethertype: 'IPv6', remoteGroupId: 'default' })];
  fw.updateSecurityGroupInfo({ rules: { default: rules }, stateful: { default: true }, members: { default: { IPv4: ports.map((p) => [p.fixedIps[0], p.macAddress] as [string, string]), IPv6: [] } } });
  fw.setupPortFilters(ports); fw.flush(); send(t, 'b1');
}
// 2: mixed: 3 groups (one stateless), remote groups, port ranges, icmp, AAPs, IPv6, permitted ethertypes, a bad port, updates, removal
{
  const t = new FlowTable('br-int', 0x77n); const fw = new OvsFirewall({ flows: t, permittedEthertypes: ['0x88cc', 'bad'] });
  fw.initialize(t); send(t, 'm0');
  const web = [R('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 1000, portRangeMax: 1999, remoteIpPrefix: '10.0.0.0/8' }),
    R('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'udp', portRangeMin: 53, portRangeMax: 53, remoteGroupId: 'web' }),
    R('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 50, portRangeMax: 60, remoteGroupId: 'db' }),
    R('web', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 55, portRangeMax: 70, remoteGroupId: 'db' }),
    R('web', { direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp', portRangeMin: 128, portRangeMax: 0 }),
    R('web', { direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp', remoteGroupId: 'web' }),
    R('web', { direction: 'egress', ethertype: 'IPv6', remoteIpPrefix: '2001:db8::/32' }),
    R('web', { direction: 'egress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80 }),
    R('web', { direction: 'egress', ethertype: 'IPv4', protocol: '132', portRangeMin: 1, portRangeMax: 65535 })];
  const db = [R('db', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 5432, portRangeMax: 5432, remoteGroupId: 'web' }),
    R('db', { direction: 'egress', ethertype: 'IPv4' }), R('db', { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', portRangeMin: 8, portRangeMax: 0 })];
  const sl = [R('sl', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }),
    R('sl', { direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'sl' }), R('sl', { direction: 'egress', ethertype: 'IPv4' })];
  const ports = [port(1), port(2, { securityGroups: ['web', 'db'], allowedAddressPairs: [{ ipAddress: '10.9.0.0/16', macAddress: 'fa:16:3e:aa:bb:cc' }, { ipAddress: '0.0.0.0/0', macAddress: 'fa:16:3e:aa:bb:cd' }] } as Partial<FirewallPort>),
    port(3, { securityGroups: ['db'] }), port(4, { securityGroups: ['sl'] }), port(5, { securityGroups: ['sl'], portSecurityEnabled: false }),
    port(6, { fixedIps: ['not-an-ip'] }), port(7, { securityGroups: ['web', 'sl'] })];
  const members = (ids: number[]) => ({ IPv4: ids.map((i) => [`10.200.0.${i}`, null] as [string, null]).concat([['0.0.0.0/0', 'fa:16:3e:aa:bb:cd'] as unknown as [string, null]]), IPv6: ids.map((i) => [`2001:db8::${i}`, null] as [string, null]) });
  const info = (m: number[]): SecurityGroupInfo => ({ rules: { web, db, sl }, stateful: { web: true, db: true, sl: false }, members: { web: members(m), db: members([2, 3]), sl: members([4, 5, 7]) } });
  fw.updateSecurityGroupInfo(info([1, 2, 7])); fw.setupPortFilters(ports); fw.flush(); send(t, 'm1');
  fw.updateSecurityGroupInfo(info([1, 2, 7, 9])); fw.flush(); send(t, 'm2');
  fw.updatePortFilters([port(1, { fixedIps: ['10.200.0.11'], lvid: 2 }), port(6)]); fw.flush(); send(t, 'm3');
  fw.updateSecurityGroupInfo({ ...info([1, 2]), rules: { web: web.slice(0, 5), db, sl }, stateful: { web: true, db: true, sl: true } }); fw.flush(); send(t, 'm4');
  fw.removePortFilters(['port-2', 'port-4']); fw.flush(); send(t, 'm5');
}
const all = lines.join('\n') + '\n';
writeFileSync(process.argv[2] ?? '/dev/stdout', all);
console.error(lines.length, createHash('sha256').update(all).digest('hex'));
