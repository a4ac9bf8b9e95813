import { expect } from 'chai';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalControlPlane, parseDesiredState, StateFileError } from '../../lib/control-plane/local/index.js';
import type { ControlPlaneEvent } from '../../lib/control-plane/types.js';
import { waiter } from '../../testing/until.js';

const identity = { host: 'h1', agentId: 'a1', binary: 'ovs-agent' };
const baseState = {
  networks: [
    { id: 'net-vlan', type: 'vlan', segmentationId: 100, physicalNetwork: 'physnet1' },
    { id: 'net-vx', type: 'vxlan', segmentationId: 1001 },
  ],
  ports: [
    { id: 'p1', mac: 'FA:16:3E:00:00:01', network: 'net-vlan', fixedIps: [{ ipAddress: '10.0.0.3' }] },
    { id: 'p2', mac: 'fa:16:3e:00:00:02', network: 'net-vx', adminStateUp: false },
  ],
  tunnelEndpoints: [{ ipAddress: '192.0.2.2', type: 'vxlan' }],
};

const until = waiter(5_000, 10);

describe('agent local control plane', () => {
  let dir: string;
  let cp: LocalControlPlane | undefined;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'agent-lcp-')); });
  afterEach(async () => {
    await cp?.stop();
    cp = undefined;
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (state: unknown): string => {
    const tmp = join(dir, 'state.json.tmp');
    writeFileSync(tmp, typeof state === 'string' ? state : JSON.stringify(state));
    renameSync(tmp, join(dir, 'state.json'));
    return join(dir, 'state.json');
  };

  it('answers device details from the file: bound ports with their network, unknown ones as unknown', async () => {
    cp = new LocalControlPlane({ file: write(baseState) });
    await cp.start(identity);
    const reply = await cp.getDevicesDetails(['p1', 'p2', 'nope']);
    expect(reply.failed).to.deep.equal([]);
    const [p1, p2, nope] = reply.devices;
    expect(p1.kind).to.equal('bound');
    if (p1.kind !== 'bound') return;
    expect(p1.details).to.include({ portId: 'p1', networkId: 'net-vlan', macAddress: 'fa:16:3e:00:00:01', adminStateUp: true,
      networkType: 'vlan', segmentationId: 100, physicalNetwork: 'physnet1' });
    expect(p1.details.fixedIps).to.deep.equal([{ subnetId: 'net-vlan-subnet', ipAddress: '10.0.0.3' }]);
    expect(p2.kind === 'bound' && p2.details.adminStateUp).to.equal(false);
    expect(nope).to.deep.equal({ kind: 'unknown', device: 'nope' });
    expect(await cp.tunnelSync('192.0.2.1', 'vxlan')).to.deep.equal([{ ipAddress: '192.0.2.2', host: undefined }]);
    expect(await cp.tunnelSync('192.0.2.1', 'gre')).to.deep.equal([]);
    await cp.updateDeviceList(['p1'], ['p2']);
    expect(cp.portStatus('p1')).to.equal('ACTIVE');
    expect(cp.portStatus('p2')).to.equal('DOWN');
  });

  it('turns an edit of the file into port, network and tunnel events', async () => {
    cp = new LocalControlPlane({ file: write(baseState), debounceMs: 10 });
    await cp.start(identity);
    const events: ControlPlaneEvent[] = [];
    cp.onEvent((e) => events.push(e));
    write({
      networks: [{ ...baseState.networks[0], segmentationId: 101 }, baseState.networks[1]],
      ports: [baseState.ports[0], { id: 'p3', mac: 'fa:16:3e:00:00:03', network: 'net-vx' }],
      tunnelEndpoints: [{ ipAddress: '192.0.2.3', type: 'vxlan' }],
    });
    await until(() => events.length >= 5, 'events');
    expect(events).to.deep.include({ type: 'port_deleted', portId: 'p2' });
    expect(events).to.deep.include({ type: 'network_updated', networkId: 'net-vlan' });
    expect(events).to.deep.include({ type: 'ports_updated', portIds: ['p1', 'p3'] });
    expect(events).to.deep.include({ type: 'tunnel_update', tunnelIp: '192.0.2.3', tunnelType: 'vxlan', host: undefined });
    expect(events).to.deep.include({ type: 'tunnel_delete', tunnelIp: '192.0.2.2', tunnelType: 'vxlan' });
  });

  it('reports an invalid edit and keeps the previous state', async () => {
    const errors: Error[] = [];
    cp = new LocalControlPlane({ file: write(baseState), debounceMs: 10, onError: (e) => errors.push(e) });
    await cp.start(identity);
    const events: ControlPlaneEvent[] = [];
    cp.onEvent((e) => events.push(e));
    write({ ...baseState, ports: [{ id: 'p1', mac: 'not-a-mac', network: 'net-vlan' }] });
    await until(() => errors.length > 0, 'the error');
    expect(errors[0]).to.be.instanceOf(StateFileError);
    expect(errors[0].message).to.include('ports[0].mac').and.include('state.json');
    expect(events).to.deep.equal([]);
    const reply = await cp.getDevicesDetails(['p1']);
    expect(reply.devices[0].kind).to.equal('bound');
  });

  it('refuses to start on an invalid file', async () => {
    cp = new LocalControlPlane({ file: write('{"networks": [}') });
    let err: unknown;
    try { await cp.start(identity); } catch (e) { err = e; }
    expect((err as Error).message).to.include('not valid JSON');
  });

  for (const [state, path] of [
    [{ networks: [{ id: 'n', type: 'vlan', physicalNetwork: 'p' }] }, 'networks[0].segmentationId'],
    [{ networks: [{ id: 'n', type: 'vlan', segmentationId: 5000, physicalNetwork: 'p' }] }, 'networks[0].segmentationId'],
    [{ networks: [{ id: 'n', type: 'flat' }] }, 'networks[0].physicalNetwork'],
    [{ networks: [{ id: 'n', type: 'token-ring' }] }, 'networks[0].type'],
    [{ networks: [], ports: [{ id: 'p', mac: 'fa:16:3e:00:00:01', network: 'n' }] }, 'ports[0].network'],
    [{ networks: [{ id: 'n', type: 'vxlan', segmentationId: 1 }],
      ports: [{ id: 'p', mac: 'fa:16:3e:00:00:01', network: 'n' }, { id: 'p', mac: 'fa:16:3e:00:00:02', network: 'n' }] }, 'ports[1].id'],
    [{ tunnelEndpoints: [{ ipAddress: 'x' }] }, 'tunnelEndpoints[0].ipAddress'],
  ] as const) {
    it(`names ${path} in the error for a bad value there`, () => {
      expect(() => parseDesiredState(JSON.stringify(state), 'f.json')).to.throw(StateFileError, `f.json: ${path}`);
    });
  }
});
