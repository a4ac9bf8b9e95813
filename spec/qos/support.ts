/**
 * What a sandbox holds for a port's QoS, read with ovs-vsctl and ovs-ofctl
 * (the oracles), normalised so that two switches can be compared: rows
 * without their uuids, flows without cookies and counters.
 */
import type { OvsSandbox } from '../../testing/sandbox.js';
import { flowText, parseDumpLine } from '../support/dump-lines.js';

type Json = unknown;

function decode(v: Json): unknown {
  if (!Array.isArray(v)) return v;
  const [tag, body] = v as [string, Json];
  if (tag === 'map') return Object.fromEntries((body as Array<[Json, Json]>).map(([k, x]) => [String(decode(k)), decode(x)]));
  if (tag === 'set') return (body as Json[]).map(decode);
  if (tag === 'uuid' || tag === 'named-uuid') return body;
  return v;
}

/** Every row of a table as column → value (uuids as strings, maps as objects, sets as arrays). */
export async function rows(sb: OvsSandbox, table: string): Promise<Array<Record<string, unknown>>> {
  const out = JSON.parse(await sb.vsctl('--format=json', 'list', table)) as { headings: string[]; data: Json[][] };
  return out.data.map((r) => Object.fromEntries(out.headings.map((h, i) => [h, decode(r[i])])));
}

export interface PortQosRows {
  policing: { rate: number; burst: number };
  qos?: { uuid: string; type: string; otherConfig: unknown; externalIds: unknown; queues: Record<string, { uuid: string; otherConfig: unknown; externalIds: unknown }> };
}

/** The Interface's policing and the Port's QoS row with its queues. */
export async function portQos(sb: OvsSandbox, name: string): Promise<PortQosRows> {
  const iface = (await rows(sb, 'Interface')).find((r) => r.name === name);
  const port = (await rows(sb, 'Port')).find((r) => r.name === name);
  const out: PortQosRows = { policing: { rate: Number(iface?.ingress_policing_rate), burst: Number(iface?.ingress_policing_burst) } };
  const qosId = typeof port?.qos === 'string' ? port.qos : undefined;
  if (!qosId) return out;
  const q = (await rows(sb, 'QoS')).find((r) => r._uuid === qosId)!;
  const queues = await rows(sb, 'Queue');
  out.qos = {
    uuid: qosId, type: String(q.type), otherConfig: q.other_config, externalIds: q.external_ids,
    queues: Object.fromEntries(Object.entries(q.queues as Record<string, string>).map(([n, u]) => {
      const row = queues.find((r) => r._uuid === u)!;
      return [n, { uuid: u, otherConfig: row.other_config, externalIds: row.external_ids }];
    })),
  };
  return out;
}

/** Without uuids: what two switches must agree on. */
export function comparable(r: PortQosRows): unknown {
  if (!r.qos) return { policing: r.policing };
  const { uuid: _u, queues, ...qos } = r.qos;
  void _u;
  return { policing: r.policing, qos: { ...qos, queues: Object.fromEntries(Object.entries(queues).map(([n, { uuid: _q, ...rest }]) => (void _q, [n, rest]))) } };
}

/** br-int's table 0 flows of the qos extension (priorities 200 and 65535 other than the dead-VLAN drop), as ovs-ofctl prints them. */
export async function qosFlows(sb: OvsSandbox): Promise<string[]> {
  const out = await sb.ofctl('-O', 'OpenFlow13', '--no-names', 'dump-flows', 'br-int', 'table=0');
  return out.split('\n').flatMap((line) => {
    const d = parseDumpLine(line);
    if (!d) return [];
    const text = flowText(d.flow);
    return /priority=(200|65535)\b/.test(text) && !text.includes('dl_vlan=4095') ? [text] : [];
  }).sort();
}
