/**
 * The qos extension's part of the agent (docs/qos.md): what each wired
 * port's policy asks of the switch, staged while a pass binds ports (its DSCP
 * flows into br-int's table, so into the pass's bundle) and written on OVSDB
 * by `apply` (policing, QoS and Queue rows as Neutron writes them) before the
 * pass reports any port up: a port never goes ACTIVE without its QoS.
 */
import type { IntegrationBridge } from '../bridges/br-int.js';
import type { PortDetails } from '../control-plane/types.js';
import { named, type Logger } from '../log.js';
import { dscpOwner, installSetQueue, setPortDscp } from '../qos/flows.js';
import { planPortQos } from '../qos/port-qos.js';
import type { QosWrite, SwitchDatabase } from './switch.js';

/** At most this many rules are remembered as warned about (outside input: bounded). */
const WARNED_MAX = 10_000;

export class PortQos {
  /** Port id → its interface name, for the ports whose QoS is staged or on the switch. */
  private readonly names = new Map<string, string>();
  /** Port names with a limit to keep: the sweep spares their rows. */
  private readonly limited = new Set<string>();
  private readonly pending = new Map<string, QosWrite>();
  private readonly warned = new Set<string>();
  private sweep = false;
  private readonly log: Logger;
  private readonly write: NonNullable<SwitchDatabase['applyQos']>;

  private brIntBridge: IntegrationBridge | undefined;

  constructor(db: SwitchDatabase, log: Logger) {
    if (!db.applyQos) throw new Error('the qos extension needs an OVSDB connection that writes QoS rows');
    this.write = db.applyQos.bind(db);
    this.log = named(log, 'ovs_agent.agent.qos');
  }

  /** Once br-int is set up: the default-queue flow Neutron's driver installs at start. */
  initialize(brInt: IntegrationBridge): void {
    this.brIntBridge = brInt;
    installSetQueue(brInt.flows);
  }

  private get brInt(): IntegrationBridge {
    if (!this.brIntBridge) throw new Error('PortQos used before initialize()');
    return this.brIntBridge;
  }

  /** A port bound in this pass: its DSCP flows now, its rows with the next `apply`. */
  stage(portId: string, name: string, ofport: number, d: PortDetails): void {
    const plan = planPortQos(d);
    for (const { rule, why } of plan.notEnforced) {
      const key = `${plan.policyId}/${rule.id}`;
      if (this.warned.has(key)) continue;
      if (this.warned.size >= WARNED_MAX) this.warned.clear();
      this.warned.add(key);
      this.log.warn(`QoS policy ${plan.policyId} rule ${rule.id} (${rule.type}) is not enforced on this host: ${why}`,
        { qos_policy_id: plan.policyId, rule_id: rule.id, rule_type: rule.type, port_id: portId });
    }
    if (d.qosPolicyId ?? d.networkQosPolicyId) {
      if (!d.qosPolicy) this.log.info(`QoS policy ${d.qosPolicyId ?? d.networkQosPolicyId} of port ${portId} is not on the server: none applied`);
    }
    setPortDscp(this.brInt.flows, portId, ofport, plan.settings.dscp);
    const old = this.names.get(portId);
    if (old !== undefined && old !== name) this.pending.set(`${portId}/${old}`, { name: old, settings: undefined });
    this.names.set(portId, name);
    const limited = plan.settings.ingress !== undefined;
    if (limited) this.limited.add(name);
    else this.limited.delete(name);
    this.pending.set(portId, { name, settings: plan.settings });
  }

  /** A port removed, dead or unwired: its flows go now, its rows with the next `apply`. */
  forget(portId: string, name: string | undefined): void {
    this.brInt.flows.remove(dscpOwner(portId));
    const known = this.names.get(portId) ?? name;
    this.names.delete(portId);
    if (known === undefined) return;
    this.limited.delete(known);
    this.pending.set(portId, { name: known, settings: undefined });
  }

  /** The first full sync: rows of ports the agent did not wire with a limit go with the next `apply`. */
  sweepStale(): void {
    this.sweep = true;
  }

  /** Writes what the pass staged in one OVSDB transaction (nothing is sent when the switch already holds it). */
  async apply(): Promise<void> {
    if (!this.pending.size && !this.sweep) return;
    const writes = [...this.pending.values()];
    await this.write(writes, this.sweep ? this.limited : undefined);
    this.pending.clear();
    this.sweep = false;
  }
}
