/**
 * `ovs-agent cleanup` and hybrid plug (docs/cleanup.md): for each `qvo<id>`
 * port it deleted from br-int, the rest of what os-vif's hybrid plug made
 * goes too, as os-vif's unplug removes it: the veth pair (deleting `qvb<id>`
 * takes its peer) and the Linux bridge `qbr<id>`. The VM's tap is
 * libvirt's and stays.
 */
import { commandRunner, NetfilterCommandError, type Runner } from '../firewall/iptables/exec.js';

/** Deletes the hybrid devices of the given (deleted) port names; returns the devices that were there and are gone. */
export async function removeHybridDevices(portNames: readonly string[], run: Runner = commandRunner()): Promise<string[]> {
  const gone: string[] = [];
  for (const name of portNames) {
    const m = /^qvo(.{1,11})$/.exec(name);
    if (!m) continue;
    for (const dev of [`qvb${m[1]}`, `qbr${m[1]}`, name]) {
      try {
        await run(['ip', 'link', 'del', dev]);
        gone.push(dev);
      } catch (err) {
        // Already gone (a veth end goes with its peer): nothing to do.
        if (err instanceof NetfilterCommandError && /Cannot find device|does not exist/.test(err.stderr)) continue;
        throw err;
      }
    }
  }
  return gone;
}
