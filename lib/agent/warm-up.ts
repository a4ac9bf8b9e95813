/**
 * A dry run of the firewall's flow path, so that the first real burst runs
 * optimised code.
 *
 * A freshly started node interprets everything: the firewall's flow builders,
 * br-int's desired table and the OpenFlow encoder run several times slower
 * until V8 has seen them work and compiled them. The first burst after the
 * agent starts (a host that rebooted, nova resuming its guests) paid for that:
 * 100 ports of Neutron's default group took ~200 ms in a fresh process and
 * ~130 ms in one that had done it once (bench/_firewall-pass.ts, docs/benchmarks.md).
 *
 * So once the agent is idle after its first full sync, it builds the flows
 * of a few made-up ports with a firewall, a desired table and an outbox of
 * its own, the outbox writing into nothing: the same code, on private objects,
 * with no switch, control plane or agent state touched. It costs ~50–120 ms
 * of CPU once, in rounds; an agent that gets busy stops it (its real work
 * warms the same code).
 */
import { OvsFirewall, type FirewallPort } from '../firewall/index.js';
import type { SecurityGroupInfo, SecurityGroupRule } from '../model/index.js';
import { addOf } from '../flows/flow.js';
import { FlowTable } from '../flows/flow-table.js';
import { Outbox, type OutboxSink } from '@ovs-agent/openflow';
import { encodeMessage } from '@ovs-agent/openflow';
import { OFPBF } from '@ovs-agent/openflow';

export interface WarmUpResult {
  /** Flow-mods built and encoded. */
  readonly flows: number;
  readonly ms: number;
}

const SG = 'warm-up';
/** Addresses from the benchmarking ranges (RFC 2544, RFC 5180): nothing real is ever named. */
const ipv4 = (i: number): string => `198.18.0.${i}`;
const ipv6 = (i: number): string => `2001:2::${i.toString(16)}`;

/** Ports of a group shaped like Neutron's default one, plus the kinds of rules the builders branch on. */
function madeUpPorts(n: number): { ports: FirewallPort[]; info: SecurityGroupInfo } {
  const ports: FirewallPort[] = [];
  for (let i = 1; i <= n; i++) {
    ports.push({
      portId: `warm-up-${i}`, ofport: 60_000 + i, lvid: 4000 + (i % 2), macAddress: `fa:16:3e:ff:ff:${i.toString(16).padStart(2, '0')}`,
      fixedIps: [ipv4(i), ipv6(i)], allowedAddressPairs: i % 3 === 0 ? [{ macAddress: 'fa:16:3e:ff:fe:01', ipAddress: '198.19.0.0/24' }] : [],
      portSecurityEnabled: true, securityGroups: [SG], networkType: i % 2 ? 'vlan' : 'vxlan', segmentationId: 100 + (i % 2),
    });
  }
  const rule = (r: Omit<SecurityGroupRule, 'securityGroupId'>): SecurityGroupRule => ({ securityGroupId: SG, ...r });
  const rules = [
    rule({ direction: 'egress', ethertype: 'IPv4' }),
    rule({ direction: 'egress', ethertype: 'IPv6' }),
    rule({ direction: 'ingress', ethertype: 'IPv4', remoteGroupId: SG }),
    rule({ direction: 'ingress', ethertype: 'IPv6', remoteGroupId: SG }),
    rule({ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 8000, portRangeMax: 8080, remoteIpPrefix: '198.18.0.0/15' }),
    rule({ direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', portRangeMin: 8 }),
  ];
  const members = { IPv4: ports.map((p) => [p.fixedIps[0], p.macAddress] as [string, string]), IPv6: ports.map((p) => [p.fixedIps[1], p.macAddress] as [string, string]) };
  return { ports, info: { rules: { [SG]: rules }, stateful: { [SG]: true }, members: { [SG]: members } } };
}

/** Where the outbox's bytes go: nowhere, unless a test wants to read them. */
const nowhere: OutboxSink = { write: () => true, cork: () => undefined, uncork: () => undefined, writableLength: 0 };

/**
 * Builds, keys and encodes the flows of `ports` made-up ports, `rounds`
 * times over (V8 compiles a function after it has run it a while, not after
 * its first call). Nothing leaves the process.
 */
export function warmUpFlowPath(ports = 10, rounds = 3, sink: OutboxSink = nowhere): WarmUpResult {
  const start = performance.now();
  const outbox = new Outbox(sink, { slabBytes: 256 * 1024 });
  let flows = 0;
  for (let r = 0; r < rounds; r++) {
    const table = new FlowTable('warm-up', 1n);
    const firewall = new OvsFirewall({ flows: table });
    const { ports: made, info } = madeUpPorts(ports);
    firewall.initialize();
    firewall.updateSecurityGroupInfo(info);
    firewall.setupPortFilters(made);
    firewall.flush();
    const changes = table.takeChanges();
    for (const f of changes.adds) {
      outbox.begin();
      encodeMessage(outbox, { type: 'bundle_add_message', xid: 0, bundleId: 0, flags: OFPBF.ATOMIC | OFPBF.ORDERED, message: addOf(f, 1n) });
      outbox.end();
      flows++;
    }
    table.commit(changes);
  }
  outbox.flush();
  outbox.discard();
  return { flows, ms: performance.now() - start };
}

/**
 * Runs the warm-up a round per event-loop turn (~15–60 ms each), so that a
 * port plugged meanwhile waits for one round at most; `idle` turning false
 * ends it. Resolves with what it did, or undefined when it did nothing.
 */
export async function warmUpWhileIdle(idle: () => boolean, onError: (err: Error) => void, rounds = 3, ports = 10): Promise<WarmUpResult | undefined> {
  let flows = 0;
  let ms = 0;
  for (let r = 0; r < rounds; r++) {
    if (r > 0) await new Promise((resolve) => setImmediate(resolve));
    if (!idle()) break;
    try {
      const round = warmUpFlowPath(ports, 1);
      flows += round.flows;
      ms += round.ms;
    } catch (err) {
      // Only a bug could get here; the real path reports its own errors.
      onError(err as Error);
      return undefined;
    }
  }
  return flows === 0 ? undefined : { flows, ms };
}
