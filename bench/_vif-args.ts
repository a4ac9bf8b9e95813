/**
 * The metrics benchmarks' ports (bench/_metrics-overhead.ts, _metrics-cpu.ts):
 * port i's Neutron id, MAC and interface name, and the ovs-vsctl arguments
 * that plug or unplug a range of them in one transaction, as nova does.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OvsSandbox } from '../testing/sandbox.js';

/** The one network every port is on. */
export const NET = 'bench-net-vlan';

export const portId = (i: number): string => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
export const mac = (i: number): string => {
  const h = i.toString(16).padStart(6, '0');
  return `fa:16:3e:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
};
export const ifname = (i: number): string => `tap${i.toString(16).padStart(8, '0')}`;

/** Ports from..to-1 plugged into br-int with their iface-id and attached-mac. */
export function plugArgs(from: number, to: number): string[] {
  const args: string[] = [];
  for (let i = from; i < to; i++) {
    args.push('--', '--may-exist', 'add-port', 'br-int', ifname(i), '--', 'set', 'Interface', ifname(i),
      `external_ids:iface-id=${portId(i)}`, `external_ids:attached-mac=${mac(i)}`);
  }
  return args;
}

/** Ports from..to-1 removed from br-int. */
export function unplugArgs(from: number, to: number): string[] {
  const args: string[] = [];
  for (let i = from; i < to; i++) args.push('--', '--if-exists', 'del-port', 'br-int', ifname(i));
  return args;
}

/**
 * The switch and the local control plane both metrics benchmarks start from:
 * br-int and br-eth1 (userspace datapath), a state file in `dir` naming
 * `total` ports on one VLAN network, and the first `base` ports plugged.
 * Returns the state file's path.
 */
export async function prepareVlanPorts(sb: OvsSandbox, dir: string, total: number, base: number): Promise<string> {
  for (const br of ['br-eth1', 'br-int']) await sb.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev');
  const state = join(dir, 'state.json');
  writeFileSync(state, JSON.stringify({
    networks: [{ id: NET, type: 'vlan', segmentationId: 100, physicalNetwork: 'physnet1' }],
    ports: Array.from({ length: total }, (_, i) => ({ id: portId(i), mac: mac(i), network: NET })),
  }));
  for (let i = 0; i < base; i += 100) await sb.vsctl(...plugArgs(i, Math.min(base, i + 100)));
  return state;
}
