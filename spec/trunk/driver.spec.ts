import { expect } from 'chai';
import { silentLogger } from '../../lib/log.js';
import { decodeBindings, decodeSubPort, decodeTrunk, encodeSubPort } from '../../lib/control-plane/neutron/trunk-rpc.js';
import { intPatchName, isTrunkServicePort, trunkBridgeName, trunkPatchName } from '../../lib/trunk/names.js';
import { TrunkDriver } from '../../lib/trunk/trunk-driver.js';
import { TrunkExtension } from '../../lib/agent/trunk.js';
import type { ControlPlane } from '../../lib/control-plane/types.js';
import type { SwitchDatabase } from '../../lib/agent/switch.js';
import type { PatchPair, SubPortInfo, TrunkBridgePort, TrunkControl, TrunkInfo, TrunkPush, TrunkStatus, TrunkSwitch } from '../../lib/trunk/types.js';

/**
 * The trunk driver's decisions (docs/trunk.md) against a fake server and a
 * fake switch: what it patches, binds and reports, in which order, and what
 * it does when the server cannot bind a subport or the bridge goes. The
 * same against the real neutron-server and OVS: neutron-e2e.spec.ts.
 */
const TRUNK = '7c0b3a1e-0000-4000-8000-000000000001';
const PARENT = 'a0000000-0000-4000-8000-00000000000a';
const SUB1 = 'b1000000-0000-4000-8000-0000000000b1';
const SUB2 = 'b2000000-0000-4000-8000-0000000000b2';
const TBR = trunkBridgeName(TRUNK);

class FakeServer implements TrunkControl {
  trunk: TrunkInfo | undefined;
  readonly calls: string[] = [];
  readonly statuses: TrunkStatus[] = [];
  /** Subports the server refuses to bind. */
  readonly unbindable = new Set<string>();
  /** update_subport_bindings times out. */
  bindFails = false;
  private listener: ((p: TrunkPush) => void) | undefined;

  async getTrunkDetails(parentPortId: string): Promise<TrunkInfo | undefined> {
    this.calls.push(`pull ${parentPortId}`);
    return this.trunk?.portId === parentPortId ? this.trunk : undefined;
  }
  async updateSubportBindings(subPorts: SubPortInfo[]): Promise<Map<string, Map<string, string>>> {
    this.calls.push(`bind ${subPorts.map((s) => s.portId).join(',')}`);
    if (this.bindFails) throw new Error('update_subport_bindings on trunk: no reply within 60 s');
    const ok = subPorts.filter((s) => !this.unbindable.has(s.portId));
    return new Map([[TRUNK, new Map(ok.map((s) => [s.portId, `fa:16:3e:00:00:${s.portId.slice(1, 3)}`]))]]);
  }
  async updateTrunkStatus(trunkId: string, status: TrunkStatus): Promise<void> {
    this.calls.push(`status ${trunkId} ${status}`);
    this.statuses.push(status);
  }
  onPush(listener: (p: TrunkPush) => void): () => void {
    this.listener = listener;
    return () => undefined;
  }
  push(p: TrunkPush): void {
    this.listener?.(p);
  }
}

class FakeSwitch implements TrunkSwitch {
  /** bridge → ports. */
  readonly bridges = new Map<string, TrunkBridgePort[]>([['br-int', []]]);
  readonly ops: string[] = [];

  bridgesNamed(prefix: string): string[] {
    return [...this.bridges.keys()].filter((b) => b.startsWith(prefix));
  }
  bridgePorts(bridge: string): TrunkBridgePort[] | undefined {
    return this.bridges.get(bridge)?.map((p) => ({ ...p }));
  }
  async plugPairs(brInt: string, trunkBridge: string, pairs: readonly PatchPair[]): Promise<void> {
    this.ops.push(`plug ${pairs.map((p) => `${p.intName}/${p.trunkName}${p.tag ? `@${p.tag}` : ''}`).join(',')}`);
    const ids = (p: PatchPair) => ({ 'iface-id': p.portId, 'attached-mac': p.mac });
    for (const p of pairs) {
      this.add(brInt, { name: p.intName, type: 'patch', externalIds: ids(p), peer: p.trunkName });
      this.add(trunkBridge, { name: p.trunkName, type: 'patch', externalIds: ids(p), peer: p.intName });
    }
  }
  private add(bridge: string, port: TrunkBridgePort): void {
    const ports = this.bridges.get(bridge)!;
    if (!ports.some((p) => p.name === port.name)) ports.push(port);
  }
  async unplug(brInt: string, intNames: readonly string[], trunk?: { bridge: string; names: readonly string[]; deleteBridge?: boolean }): Promise<void> {
    this.ops.push(`unplug ${[...intNames].sort().join(',')}${trunk ? ` ${trunk.deleteBridge ? `del-br ${trunk.bridge}` : [...trunk.names].sort().join(',')}` : ''}`);
    this.bridges.set(brInt, this.bridges.get(brInt)!.filter((p) => !intNames.includes(p.name)));
    if (!trunk) return;
    if (trunk.deleteBridge) this.bridges.delete(trunk.bridge);
    else if (this.bridges.has(trunk.bridge)) this.bridges.set(trunk.bridge, this.bridges.get(trunk.bridge)!.filter((p) => !trunk.names.includes(p.name)));
  }
  async setInterfaceExternalIds(name: string, ids: Record<string, string>): Promise<void> {
    this.ops.push(`meta ${name} ${ids.subport_ids}`);
  }
  orphanPatches(brInt: string, prefixes: readonly string[]): string[] {
    const all = [...this.bridges.values()].flat().map((p) => p.name);
    return this.bridges.get(brInt)!.filter((p) => prefixes.some((x) => p.name.startsWith(x)) && !all.includes(p.peer ?? '')).map((p) => p.name);
  }
  plugVm(): void {
    this.bridges.set(TBR, [{ name: TBR, type: 'internal', externalIds: {}, peer: undefined },
      { name: 'tapvm', type: '', externalIds: { 'iface-id': PARENT, 'attached-mac': 'fa:16:3e:00:00:aa' }, peer: undefined }]);
  }
}

const sub = (portId: string, vlan: number): SubPortInfo => ({ portId, trunkId: TRUNK, segmentationType: 'vlan', segmentationId: vlan });

describe('trunk driver', () => {
  let server: FakeServer;
  let ovs: FakeSwitch;
  let driver: TrunkDriver;

  beforeEach(() => {
    server = new FakeServer();
    server.trunk = { id: TRUNK, portId: PARENT, status: 'DOWN', subPorts: [sub(SUB1, 101), sub(SUB2, 102)] };
    ovs = new FakeSwitch();
    driver = new TrunkDriver({ control: server, ovs, brInt: 'br-int', log: silentLogger, unplugGraceMs: 50 });
    server.onPush((p) => driver.onPush(p));
  });
  afterEach(() => driver.stop());

  it('wires a trunk bridge holding a VM: parent patch, subports bound then patched with their VLAN, metadata, ACTIVE', async () => {
    ovs.plugVm();
    driver.bridgeChanged(TBR);
    await driver.idle();
    expect(server.calls).to.deep.equal([`pull ${PARENT}`, `bind ${SUB1},${SUB2}`, `status ${TRUNK} ACTIVE`]);
    expect(ovs.ops).to.deep.equal([
      `plug ${intPatchName('tp', PARENT)}/${trunkPatchName('tp', PARENT)}`,
      `plug ${intPatchName('sp', SUB1)}/${trunkPatchName('sp', SUB1)}@101,${intPatchName('sp', SUB2)}/${trunkPatchName('sp', SUB2)}@102`,
      `meta tapvm ${JSON.stringify([SUB1, SUB2])}`,
    ]);
  });

  it('does nothing for a bridge without a VM, nor for a port that is no trunk\'s parent', async () => {
    ovs.bridges.set(TBR, [{ name: TBR, type: 'internal', externalIds: {}, peer: undefined }]);
    driver.bridgeChanged(TBR);
    await driver.idle();
    server.trunk = undefined;
    ovs.plugVm();
    driver.bridgeChanged(TBR);
    await driver.idle();
    expect(server.calls).to.deep.equal([`pull ${PARENT}`]);
    expect(ovs.ops).to.deep.equal([]);
  });

  it('reports DEGRADED when the server did not bind a subport, and patches the others', async () => {
    server.unbindable.add(SUB2);
    ovs.plugVm();
    driver.bridgeChanged(TBR);
    await driver.idle();
    expect(server.statuses).to.deep.equal(['DEGRADED']);
    expect(ovs.ops[1]).to.equal(`plug ${intPatchName('sp', SUB1)}/${trunkPatchName('sp', SUB1)}@101`);
  });

  it('reports DEGRADED, the parent patched and no subport, when update_subport_bindings fails; logs why', async () => {
    server.bindFails = true;
    const errors: string[] = [];
    driver = new TrunkDriver({ control: server, ovs, brInt: 'br-int', log: { ...silentLogger, error: (m: string) => void errors.push(m) }, unplugGraceMs: 50 });
    ovs.plugVm();
    driver.bridgeChanged(TBR);
    await driver.idle();
    expect(server.statuses).to.deep.equal(['DEGRADED']);
    expect(ovs.ops).to.deep.equal([`plug ${intPatchName('tp', PARENT)}/${trunkPatchName('tp', PARENT)}`, 'meta tapvm []']);
    expect(errors.join('\n')).to.match(/update_subport_bindings failed: .*no reply within 60 s/);
  });

  it('adds and removes subports on SubPort pushes, ignoring trunks whose bridge is not here', async () => {
    ovs.plugVm();
    driver.bridgeChanged(TBR);
    await driver.idle();
    const SUB3 = 'b3000000-0000-4000-8000-0000000000b3';
    server.push({ kind: 'subports', event: 'created', subPorts: [sub(SUB3, 103)] });
    server.push({ kind: 'subports', event: 'created', subPorts: [{ ...sub(SUB3, 103), trunkId: 'ffffffff-0000-4000-8000-000000000000' }] });
    await driver.idle();
    server.push({ kind: 'subports', event: 'deleted', subPorts: [sub(SUB1, 101)] });
    await driver.idle();
    expect(server.calls.slice(3)).to.deep.equal([`bind ${SUB3}`, `status ${TRUNK} ACTIVE`, `status ${TRUNK} ACTIVE`]);
    expect(ovs.ops.slice(3)).to.deep.equal([
      `plug ${intPatchName('sp', SUB3)}/${trunkPatchName('sp', SUB3)}@103`, `meta tapvm ${JSON.stringify([SUB1, SUB2, SUB3])}`,
      `unplug ${intPatchName('sp', SUB1)} ${trunkPatchName('sp', SUB1)}`, `meta tapvm ${JSON.stringify([SUB2, SUB3])}`,
    ]);
  });

  it('removes the br-int patches at once when the bridge is deleted', async () => {
    ovs.plugVm();
    driver.bridgeChanged(TBR);
    await driver.idle();
    ovs.bridges.delete(TBR);
    driver.bridgeChanged(TBR);
    await driver.idle();
    expect(ovs.ops[3]).to.equal(`unplug ${[intPatchName('sp', SUB1), intPatchName('sp', SUB2), intPatchName('tp', PARENT)].sort().join(',')}`);
    expect(ovs.bridges.get('br-int')).to.deep.equal([]);
  });

  it('removes the bridge and its br-int patches once its VM left for the grace period', async () => {
    ovs.plugVm();
    driver.bridgeChanged(TBR);
    await driver.idle();
    ovs.bridges.set(TBR, ovs.bridges.get(TBR)!.filter((p) => p.name !== 'tapvm'));
    driver.bridgeChanged(TBR);
    await driver.idle();
    expect(ovs.ops.length).to.equal(3);
    await new Promise((r) => setTimeout(r, 120));
    await driver.idle();
    expect(ovs.ops[3]).to.equal(`unplug ${[intPatchName('sp', SUB1), intPatchName('sp', SUB2), intPatchName('tp', PARENT)].sort().join(',')} del-br ${TBR}`);
    expect(ovs.bridges.get('br-int')).to.deep.equal([]);
  });

  it('a VM back within the grace period keeps the trunk as it is', async () => {
    ovs.plugVm();
    driver.bridgeChanged(TBR);
    await driver.idle();
    const vm = ovs.bridges.get(TBR)!.find((p) => p.name === 'tapvm')!;
    ovs.bridges.set(TBR, ovs.bridges.get(TBR)!.filter((p) => p !== vm));
    driver.bridgeChanged(TBR);
    await driver.idle();
    ovs.bridges.get(TBR)!.push(vm);
    driver.bridgeChanged(TBR);
    await new Promise((r) => setTimeout(r, 120));
    await driver.idle();
    expect(ovs.ops.length).to.equal(3);
    expect(server.calls.length).to.equal(3);
  });
});

describe('trunk names and objects', () => {
  it('names bridges and patches as Neutron does (14 and 15 characters)', () => {
    expect(trunkBridgeName(TRUNK)).to.equal('tbr-7c0b3a1e-0');
    expect(intPatchName('tp', PARENT)).to.equal('tpi-a0000000-00');
    expect(trunkPatchName('sp', SUB1)).to.equal('spt-b1000000-00');
    expect(isTrunkServicePort('spt-x')).to.equal(true);
    expect(isTrunkServicePort('tapvm')).to.equal(false);
  });

  it('decodes Trunk and SubPort primitives and the bindings answer; encodes SubPorts as oslo\'s JSON does', () => {
    const sp = { 'versioned_object.name': 'SubPort', 'versioned_object.namespace': 'versionedobjects', 'versioned_object.version': '1.0',
      'versioned_object.data': { port_id: SUB1, trunk_id: TRUNK, segmentation_type: 'vlan', segmentation_id: 101 } };
    const t = decodeTrunk({ 'versioned_object.name': 'Trunk', 'versioned_object.version': '1.1',
      'versioned_object.data': { id: TRUNK, port_id: PARENT, status: 'DOWN', sub_ports: [sp] } });
    expect(t).to.deep.equal({ id: TRUNK, portId: PARENT, status: 'DOWN', subPorts: [sub(SUB1, 101)] });
    expect(encodeSubPort(decodeSubPort(sp))).to.deep.equal(sp['versioned_object.data']);
    expect(decodeBindings({ [TRUNK]: [{ id: SUB1, mac_address: 'FA:16:3E:00:00:01' }] }).get(TRUNK)?.get(SUB1)).to.equal('fa:16:3e:00:00:01');
    expect(() => decodeSubPort({ 'versioned_object.name': 'Port', 'versioned_object.data': {} })).to.throw(/SubPort/);
  });
});

describe('trunk extension: refused where it cannot run', () => {
  it('refuses a control plane without the trunk RPCs (the local one), naming the option', () => {
    const db = { trunkSwitch: () => new FakeSwitch() } as unknown as SwitchDatabase;
    expect(() => new TrunkExtension({} as ControlPlane, db, silentLogger)).to.throw(/\[agent\] extensions = trunk needs the Neutron control plane/);
  });
});
