/**
 * Plugs a "VM" as nova/os-vif does with `ovs_hybrid_plug`: its eth0 (a
 * network namespace of its own) is the peer of `tap<id>`, which sits on a
 * Linux bridge `qbr<id>`, joined to br-int by the veth pair
 * `qvb<id>`/`qvo<id>`; the qvo port carries the port's
 * `external_ids:iface-id` and `attached-mac`. Everything but the VM's end
 * lives in `hostNs`, the namespace of the switch (an OvsSandbox's), where
 * the iptables rules go too.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { deviceName } from '../lib/firewall/iptables/names.js';
import type { OvsSandbox } from './sandbox.js';

const run = promisify(execFile);

export interface HybridVm {
  portId: string;
  mac: string;
  /** Addresses with their prefix length, e.g. 10.0.0.1/24, 2001:db8::1/64. */
  addresses: string[];
  /** The VM's namespace (created here). */
  ns: string;
}

/** Runs a command in a namespace. */
export const inNs = (ns: string, ...cmd: string[]): Promise<{ stdout: string; stderr: string }> =>
  run('ip', ['netns', 'exec', ns, ...cmd], { timeout: 15_000 });

/** Creates the VM namespace, tap, qbr and qvb/qvo and adds qvo to `bridge` with os-vif's external_ids. */
export async function plugHybrid(sb: OvsSandbox, bridge: string, vm: HybridVm, opts: { ofport?: number; tag?: number } = {}): Promise<void> {
  const host = sb.netns!;
  const [tap, qbr, qvb, qvo] = (['tap', 'qbr', 'qvb', 'qvo'] as const).map((p) => deviceName(p, vm.portId));
  await run('ip', ['netns', 'add', vm.ns]);
  await run('ip', ['link', 'add', tap, 'netns', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', vm.ns]);
  await inNs(vm.ns, 'ip', 'link', 'set', 'eth0', 'address', vm.mac);
  for (const a of vm.addresses) await inNs(vm.ns, 'ip', 'addr', 'add', a, 'dev', 'eth0', ...(a.includes(':') ? ['nodad'] : []));
  await inNs(vm.ns, 'ip', 'link', 'set', 'eth0', 'up');
  await inNs(vm.ns, 'ip', 'link', 'set', 'lo', 'up');
  // The userspace datapath does not fill in checksums the kernel left to the NIC.
  await inNs(vm.ns, 'ethtool', '-K', 'eth0', 'tx', 'off');
  // os-vif: a bridge without STP or forwarding delay, no IPv6 of its own, the veth pair's both ends up.
  await inNs(host, 'ip', 'link', 'add', qbr, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
  await inNs(host, 'sysctl', '-q', '-w', `net.ipv6.conf.${qbr}.disable_ipv6=1`);
  await inNs(host, 'ip', 'link', 'add', qvb, 'type', 'veth', 'peer', 'name', qvo);
  for (const d of [qvb, tap]) await inNs(host, 'ip', 'link', 'set', d, 'master', qbr);
  for (const d of [qbr, qvb, qvo, tap]) await inNs(host, 'ip', 'link', 'set', d, 'up');
  await sb.vsctl('--may-exist', 'add-port', bridge, qvo, ...(opts.tag !== undefined ? [`tag=${opts.tag}`] : []), '--', 'set', 'Interface', qvo,
    `external_ids:iface-id=${vm.portId}`, 'external_ids:iface-status=active', `external_ids:attached-mac=${vm.mac}`,
    'external_ids:vm-uuid=00000000-0000-4000-8000-000000000001', ...(opts.ofport !== undefined ? [`ofport_request=${opts.ofport}`] : []));
}

/** Removes what plugHybrid made (missing pieces are fine). */
export async function unplugHybrid(sb: OvsSandbox, bridge: string, vm: HybridVm): Promise<void> {
  const host = sb.netns!;
  await sb.vsctl('--if-exists', 'del-port', bridge, deviceName('qvo', vm.portId)).catch(() => undefined);
  for (const p of ['qvb', 'qbr', 'tap'] as const) await inNs(host, 'ip', 'link', 'del', deviceName(p, vm.portId)).catch(() => undefined);
  await run('ip', ['netns', 'del', vm.ns]).catch(() => undefined);
}
