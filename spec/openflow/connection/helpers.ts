/** Shared setup of the connection specs: a sandbox bridge, free ports, polling. */
import { createServer } from 'node:net';
import { OvsSandbox } from '../../../testing/sandbox.js';
import { waiter } from '../../../testing/until.js';

export const until = waiter(15_000, 50);

/** A TCP port free right now on 127.0.0.1 (for a bridge listener that must keep its port across restarts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A sandbox with bridge `br0` (userspace datapath, secure fail mode so OVS adds
 * no flows of its own, OpenFlow 1.3 and 1.4 enabled) and two ports, ofport 1 and 2.
 */
export async function sandboxWithBridge(bridge = 'br0'): Promise<OvsSandbox> {
  const sb = await OvsSandbox.start();
  try {
    await sb.vsctl('add-br', bridge, '--', 'set', 'bridge', bridge, 'datapath_type=netdev', 'fail_mode=secure',
      'protocols=OpenFlow13,OpenFlow14', 'other-config:datapath-id=00000000000000b1',
      '--', 'add-port', bridge, 'p1', '--', 'set', 'interface', 'p1', 'type=dummy', 'ofport_request=1',
      '--', 'add-port', bridge, 'p2', '--', 'set', 'interface', 'p2', 'type=dummy', 'ofport_request=2');
    await until(async () => ((await sb.vsctl('get', 'interface', 'p2', 'ofport')).trim() === '2' ? true : undefined), 'ofport of p2');
  } catch (err) {
    await sb.stop();
    throw err;
  }
  return sb;
}

/** The datapath id that ovs-vsctl reports (an oracle independent of our FEATURES_REPLY decoding). */
export async function vsctlDatapathId(sb: OvsSandbox, bridge = 'br0'): Promise<bigint> {
  const raw = (await sb.vsctl('get', 'bridge', bridge, 'datapath_id')).trim().replace(/"/g, '');
  return BigInt(`0x${raw}`);
}

/** Flow lines of `ovs-ofctl dump-flows`, without the volatile counters, sorted (OVS's order is not part of the contract). */
export async function ofctlFlows(sb: OvsSandbox, bridge = 'br0', ...filter: string[]): Promise<string[]> {
  const out = await sb.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', bridge, ...filter);
  return out.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('OFPST_FLOW') && !l.includes('reply (OF')).sort();
}
