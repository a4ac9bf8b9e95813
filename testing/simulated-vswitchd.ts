/**
 * ovs-vswitchd's OVSDB part, played in a database that no ovs-vswitchd
 * serves: every new Interface row gets an ofport, as ovs-vswitchd gives one
 * when it adds the port. For runs with thousands of VIFs: the userspace
 * datapath cannot hold that many real interfaces on a small machine (its
 * reconfiguration grows quadratically: ~2,500 take half a minute here), so
 * the agent's database is an ovsdb-server of its own (an OvsSandbox whose
 * ovs-vswitchd is stopped) while its flows go over OpenFlow to a real
 * ovs-vswitchd in another sandbox. Also plugs VIFs in bulk (nova's part) in
 * one transaction each: ovs-vsctl takes minutes for 10,000 ports.
 */
import { Replica } from '@ovs-agent/ovsdb';
import type { OpenVSwitchTables } from '@ovs-agent/ovsdb';

type SimTables = Pick<OpenVSwitchTables, 'Interface' | 'Bridge' | 'Port'>;

export interface SimulatedVif {
  name: string;
  externalIds: Record<string, string>;
}

export class SimulatedVswitchd {
  private nextOfport = 1;
  private scheduled = false;

  private constructor(private readonly replica: Replica<SimTables>) {}

  /** Starts assigning ofports in the database at `remote` (`unix:PATH`). */
  static async start(remote: string): Promise<SimulatedVswitchd> {
    const r = await Replica.start<SimTables>({ remote, tables: { Interface: { columns: ['name', 'ofport'] }, Bridge: { columns: ['name', 'ports'] } } });
    const sim = new SimulatedVswitchd(r);
    r.watch('Interface', (e) => {
      if (e.kind !== 'delete' && e.row.ofport === null) sim.assign();
    });
    sim.assign();
    return sim;
  }

  /** Every Interface without an ofport gets the next one, in one transaction per I/O turn. */
  private assign(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.replica.transact((txn) => {
        for (const i of this.replica.table('Interface').values()) if (i.ofport === null) txn.update('Interface', i._uuid, { ofport: this.nextOfport++ });
      }).catch(() => this.assign());
    });
  }

  /** Adds these VIFs (a Port and an Interface each) to `bridge` in one transaction. */
  async plug(bridge: string, vifs: readonly SimulatedVif[]): Promise<void> {
    await this.replica.transact((txn) => {
      const br = this.replica.table('Bridge').find((b) => b.name === bridge);
      if (!br) throw new Error(`no bridge ${bridge} in the simulated database`);
      const ports = vifs.map((v) => {
        const iface = txn.insert('Interface', { name: v.name, external_ids: v.externalIds });
        return txn.insert('Port', { name: v.name, interfaces: [iface] });
      });
      txn.addToSet('Bridge', br._uuid, 'ports', ports);
    }, { timeoutMs: 120_000 });
  }

  stop(): Promise<void> {
    return this.replica.close();
  }
}
