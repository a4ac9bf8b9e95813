/**
 * The metrics benchmarks' ports (bench/_metrics-overhead.ts, _metrics-cpu.ts):
 * port i's Neutron id, MAC and interface name, and the ovs-vsctl arguments
 * that plug or unplug a range of them in one transaction, as nova does.
 */
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
