/**
 * Runs Neutron's own OVS QoS driver (python3-neutron's QosOVSAgentDriver,
 * testing/neutron_qos_oracle.py) against a sandbox's ovsdb-server: its rows
 * land on that switch, and its flows are installed there too with ovs-ofctl
 * as Neutron's code builds them, so a test can compare what ovs-vswitchd
 * holds for Neutron's agent with what it holds for ours.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { QosPolicy } from '../lib/model/index.js';
import type { OvsSandbox } from './sandbox.js';
import { SYSTEM_PYTHON } from './neutron-firewall-oracle.js';

export const QOS_ORACLE = join(dirname(fileURLToPath(import.meta.url)), 'neutron_qos_oracle.py');

export interface OraclePort {
  name: string;
  ofport: number;
  portId: string;
  mac: string;
  deviceOwner?: string;
}

type Call = Record<string, string | number> & { call: string };

/** The ovs-ofctl commands of one flow call Neutron's driver made (br_int's install_dscp_marking_rule and uninstall_flows, ovs_lib's add_flow). */
export function flowOfCall(c: Call): string[][] {
  return flowTexts(c).map((f) => [c.call === 'uninstall_flows' ? 'del-flows' : 'add-flow', f]);
}

function flowTexts(c: Call): string[] {
  switch (c.call) {
    case 'uninstall_flows':
      return [`table=${c.table_id},in_port=${c.in_port},reg2=${c.reg2}`];
    case 'add_flow': {
      const { call: _call, actions, ...match } = c;
      void _call;
      return [`${Object.entries(match).map(([k, v]) => `${k}=${v}`).join(',')},actions=${actions}`];
    }
    case 'install_dscp_marking_rule':
      // SetField(reg2=1), SetField(ip_dscp=mark), NXActionResubmit(in_port=port): table 0, p65535, in_port, reg2=0, IPv4 and IPv6.
      return ['0x0800', '0x86dd'].map((t) =>
        `table=0,priority=65535,in_port=${c.port},reg2=0,dl_type=${t},actions=set_field:1->reg2,set_field:${c.dscp_mark}->ip_dscp,resubmit:${c.port}`);
    default:
      throw new Error(`the QoS oracle made a flow call it cannot render: ${JSON.stringify(c)}`);
  }
}

/** Neutron's driver applies `policy` (null: deletes) to the ports on `sb`'s bridge; returns the flow calls it made. */
export async function runNeutronQos(sb: OvsSandbox, ports: OraclePort[], policy: QosPolicy | null, opts: { install?: boolean; steps?: string[] } = {}): Promise<Call[]> {
  const scenario = {
    ovsdb: sb.dbRemote, bridge: 'br-int', steps: opts.steps ?? ['create'],
    ports: ports.map((p) => ({ name: p.name, ofport: p.ofport, port_id: p.portId, mac: p.mac, device_owner: p.deviceOwner ?? 'compute:nova' })),
    policy: policy && { id: policy.id, rules: policy.rules },
  };
  const out = execFileSync(SYSTEM_PYTHON, [QOS_ORACLE], { input: JSON.stringify(scenario), encoding: 'utf8', maxBuffer: 1 << 26 });
  const calls = (JSON.parse(out) as { flows: Call[] }).flows;
  if (opts.install ?? true) {
    for (const c of calls) for (const [cmd, f] of flowOfCall(c)) await sb.ofctl('-O', 'OpenFlow13', cmd, 'br-int', f);
  }
  return calls;
}
