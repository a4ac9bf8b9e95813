/**
 * A pass's QoS writes on OVSDB (docs/qos.md, "What is written on the
 * switch"): each port's Interface policing and its Port's QoS and Queue rows
 * made to equal what Neutron's agent writes (lib/qos/rows.ts), in the one
 * transaction the caller opened. Rows already right are left alone (adopted
 * across restarts and from Neutron's agent); rows of ports that are gone are
 * destroyed, references to them cleared first (Port.qos is a strong
 * reference: a referenced row cannot go).
 */
import type { Interface, OpenVSwitchTables, Port, QoS, Queue } from '@ovs-agent/ovsdb';
import type { Replica, RowIndex, TransactionBuilder } from '@ovs-agent/ovsdb';
import { BANDWIDTH_LIMIT, DEFAULT_QUEUE, bandwidthRowPort, ingressRows, type QosRow } from '../../qos/rows.js';
import type { QosWrite } from '../switch.js';

type Tables = Pick<OpenVSwitchTables, 'Port' | 'Interface' | 'QoS' | 'Queue'>;

function sameMap(a: ReadonlyMap<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(b);
  return a.size === keys.length && keys.every((k) => a.get(k) === b[k]);
}

/** The bandwidth-limit rows on the switch, by the port name they carry. */
function rowsByPort(replica: Replica<Tables>): { qos: Map<string, QoS[]>; queues: Map<string, Queue[]> } {
  const qos = new Map<string, QoS[]>();
  const queues = new Map<string, Queue[]>();
  for (const row of replica.table('QoS')) {
    const name = bandwidthRowPort(row.external_ids, row.type);
    if (name !== undefined) qos.set(name, [...(qos.get(name) ?? []), row]);
  }
  for (const row of replica.table('Queue')) {
    const name = row.external_ids.get('port');
    if (name !== undefined && row.external_ids.get('type') === BANDWIDTH_LIMIT) queues.set(name, [...(queues.get(name) ?? []), row]);
  }
  return { qos, queues };
}

export class QosRowWriter {
  constructor(
    private readonly replica: Replica<Tables>,
    private readonly ports: RowIndex<Port>,
    private readonly ifaces: RowIndex<Interface>,
  ) {}

  /**
   * Adds the operations that make the switch hold `writes` to `txn`; with `keep`, also destroys the
   * bandwidth-limit rows of every port name not in it (a restarted agent's sweep). Returns how many
   * operations it added.
   */
  write(txn: TransactionBuilder<Tables>, writes: readonly QosWrite[], keep?: ReadonlySet<string>): number {
    const before = txn.ops.length;
    const found = rowsByPort(this.replica);
    const doomed = new Set<string>();
    const doomedQueues = new Set<string>();
    for (const w of writes) {
      const iface = this.ifaces.get(w.name);
      if (iface) {
        const rate = w.settings?.egress?.rateKbps ?? 0;
        const burst = w.settings?.egress?.burstKbps ?? 0;
        if (iface.ingress_policing_rate !== rate || iface.ingress_policing_burst !== burst) {
          txn.update('Interface', iface._uuid, { ingress_policing_rate: rate, ingress_policing_burst: burst });
        }
      }
      const wanted = w.settings && ingressRows(w.name, iface?.type ?? '', w.settings);
      const qosRows = found.qos.get(w.name) ?? [];
      const queueRows = found.queues.get(w.name) ?? [];
      found.qos.delete(w.name);
      found.queues.delete(w.name);
      const port = this.ports.get(w.name);
      if (!wanted || !port) {
        for (const q of qosRows) doomed.add(q._uuid);
        for (const q of queueRows) doomedQueues.add(q._uuid);
        continue;
      }
      const keepQos = qosRows.find((q) => q.type === wanted.type);
      for (const q of qosRows) if (q !== keepQos) doomed.add(q._uuid);
      const keepQueue = wanted.queue ? queueRows[0] : undefined;
      for (const q of queueRows) if (q !== keepQueue) doomedQueues.add(q._uuid);
      this.ensure(txn, port, wanted, keepQos, keepQueue);
    }
    if (keep) {
      for (const [name, rows] of found.qos) if (!keep.has(name)) for (const q of rows) doomed.add(q._uuid);
      for (const [name, rows] of found.queues) if (!keep.has(name)) for (const q of rows) doomedQueues.add(q._uuid);
    }
    if (doomed.size || doomedQueues.size) this.destroy(txn, doomed, doomedQueues);
    return txn.ops.length - before;
  }

  private ensure(txn: TransactionBuilder<Tables>, port: Port, wanted: QosRow, qos: QoS | undefined, queue: Queue | undefined): void {
    let queueRef: string | { namedUuid: string } | undefined;
    if (wanted.queue) {
      if (!queue) {
        queueRef = txn.insert('Queue', { other_config: wanted.queue.otherConfig, external_ids: wanted.queue.externalIds });
      } else {
        queueRef = queue._uuid;
        if (!sameMap(queue.other_config, wanted.queue.otherConfig)) txn.update('Queue', queue._uuid, { other_config: wanted.queue.otherConfig });
      }
    }
    const queues = new Map(queueRef === undefined ? [] : [[DEFAULT_QUEUE, queueRef]]);
    let qosRef: string | { namedUuid: string };
    if (!qos) {
      qosRef = txn.insert('QoS', { type: wanted.type, other_config: wanted.otherConfig, external_ids: wanted.externalIds, queues });
    } else {
      qosRef = qos._uuid;
      const sameQueues = qos.queues.size === queues.size && [...queues].every(([k, v]) => qos.queues.get(k) === v);
      if (!sameQueues) txn.update('QoS', qos._uuid, { queues });
      if (!sameMap(qos.other_config, wanted.otherConfig)) txn.update('QoS', qos._uuid, { other_config: wanted.otherConfig });
    }
    if (port.qos !== qosRef) txn.update('Port', port._uuid, { qos: qosRef });
  }

  private destroy(txn: TransactionBuilder<Tables>, qos: ReadonlySet<string>, queues: ReadonlySet<string>): void {
    for (const p of this.replica.table('Port')) if (p.qos !== null && qos.has(p.qos)) txn.update('Port', p._uuid, { qos: [] });
    for (const u of qos) txn.delete('QoS', u);
    // A queue another (kept) QoS row still lists stays: destroying it would fail the whole transaction.
    const used = new Set<string>();
    for (const row of this.replica.table('QoS')) if (!qos.has(row._uuid)) for (const q of row.queues.values()) used.add(q);
    for (const u of queues) if (!used.has(u)) txn.delete('Queue', u);
  }
}
