import { expect } from 'chai';
import { OvsdbCommandError, openVswitch } from '@ovs-agent/ovsdb';
import type { VswitchCommands } from '@ovs-agent/ovsdb';
import type { OpenVSwitchTables } from '@ovs-agent/ovsdb';
import type { Replica } from '@ovs-agent/ovsdb';
import { OvsSandbox } from '../../../testing/sandbox.js';

/** ovs-vsctl's text for a value, quotes stripped, as the oracle. */
const unq = (s: string): string => s.trim().replace(/^"(.*)"$/, '$1');

describe('ovsdb commands (vswitch) @integration', function () {
  let sb: OvsSandbox;
  let replica: Replica<OpenVSwitchTables>;
  let cmds: VswitchCommands;

  before(async () => {
    sb = await OvsSandbox.start();
    ({ replica, commands: cmds } = await openVswitch(sb.dbRemote));
  });
  after(async () => {
    await replica?.close();
    await sb?.stop();
  });

  it('adds a bridge with its options, add-if-missing, and deletes it; ovs-vsctl sees each step', async () => {
    await cmds.addBridge('br-a', {
      datapathType: 'netdev',
      failMode: 'secure',
      protocols: ['OpenFlow10', 'OpenFlow13'],
      otherConfig: { 'hwaddr': '02:00:00:00:00:01' },
      externalIds: { owner: 'agent' },
    });
    expect(unq(await sb.vsctl('list-br'))).to.equal('br-a');
    expect(unq(await sb.vsctl('get', 'bridge', 'br-a', 'datapath_type'))).to.equal('netdev');
    expect(unq(await sb.vsctl('get-fail-mode', 'br-a'))).to.equal('secure');
    expect(unq(await sb.vsctl('get', 'bridge', 'br-a', 'protocols'))).to.equal('[OpenFlow10, OpenFlow13]');
    expect(unq(await sb.vsctl('get', 'bridge', 'br-a', 'other_config:hwaddr'))).to.equal('02:00:00:00:00:01');
    expect(unq(await sb.vsctl('br-get-external-id', 'br-a', 'owner'))).to.equal('agent');
    // Like ovs-vsctl add-br, the bridge has its own internal port (which list-ports leaves out).
    expect(unq(await sb.vsctl('get', 'interface', 'br-a', 'type'))).to.equal('internal');
    expect(cmds.listPorts('br-a')).to.deep.equal([]);

    // Exists already: the given fields are applied, maps merged.
    await sb.vsctl('br-set-external-id', 'br-a', 'other', 'kept');
    await cmds.addBridge('br-a', { failMode: 'standalone', externalIds: { owner: 'agent2' } });
    expect(unq(await sb.vsctl('get-fail-mode', 'br-a'))).to.equal('standalone');
    expect(unq(await sb.vsctl('br-get-external-id', 'br-a', 'owner'))).to.equal('agent2');
    expect(unq(await sb.vsctl('br-get-external-id', 'br-a', 'other'))).to.equal('kept');
    expect(replica.table('Bridge').size).to.equal(1);
    let err: unknown;
    await cmds.addBridge('br-a', { mayExist: false }).catch((e) => (err = e));
    expect(err).to.be.instanceOf(OvsdbCommandError);

    await cmds.deleteBridge('br-a');
    expect(unq(await sb.vsctl('list-br'))).to.equal('');
    // ovsdb garbage-collected the bridge's port and interface.
    expect(unq(await sb.vsctl('--columns=name', 'list', 'interface'))).to.equal('');
    await cmds.deleteBridge('br-a'); // if-exists by default
  });

  it('adds ports with interface options, lists them like ovs-vsctl, reads ofport once assigned, deletes them', async () => {
    await cmds.addBridge('br-int', { datapathType: 'netdev' });
    await cmds.addPort('br-int', 'tap1', {
      type: 'internal',
      externalIds: { 'iface-id': 'port-1', 'attached-mac': 'fa:16:3e:00:00:01' },
      otherConfig: { foo: 'bar' },
      tag: 42,
      ofportRequest: 17,
    });
    await cmds.addPort('br-int', 'patch-tun', { type: 'patch', options: { peer: 'patch-int' } });
    expect(unq(await sb.vsctl('list-ports', 'br-int')).split('\n')).to.deep.equal(['patch-tun', 'tap1']);
    expect(cmds.listPorts('br-int')).to.deep.equal(['patch-tun', 'tap1']);
    expect(unq(await sb.vsctl('get', 'port', 'tap1', 'tag'))).to.equal('42');
    expect(unq(await sb.vsctl('get', 'interface', 'tap1', 'external_ids:iface-id'))).to.equal('port-1');
    expect(unq(await sb.vsctl('get', 'interface', 'tap1', 'other_config:foo'))).to.equal('bar');
    expect(unq(await sb.vsctl('get', 'interface', 'patch-tun', 'options:peer'))).to.equal('patch-int');
    expect(unq(await sb.vsctl('get', 'interface', 'patch-tun', 'type'))).to.equal('patch');

    // ofport comes from ovs-vswitchd; the command waits for it.
    const ofport = await cmds.ofport('tap1');
    expect(ofport).to.equal(17);
    expect(Number(unq(await sb.vsctl('get', 'interface', 'tap1', 'ofport')))).to.equal(ofport);
    expect(cmds.ifaceById('port-1')?.name).to.equal('tap1');

    // may-exist on the same bridge applies fields; another bridge is an error.
    await cmds.addPort('br-int', 'tap1', { tag: 7, externalIds: { 'iface-status': 'active' } });
    expect(unq(await sb.vsctl('get', 'port', 'tap1', 'tag'))).to.equal('7');
    expect(unq(await sb.vsctl('get', 'interface', 'tap1', 'external_ids:iface-id'))).to.equal('port-1');
    expect(unq(await sb.vsctl('get', 'interface', 'tap1', 'external_ids:iface-status'))).to.equal('active');
    await cmds.addBridge('br-other', { datapathType: 'netdev' });
    let err: unknown;
    await cmds.addPort('br-other', 'tap1').catch((e) => (err = e));
    expect(err).to.be.instanceOf(OvsdbCommandError);
    expect((err as Error).message).to.match(/already exists on bridge br-int/);

    await cmds.deletePort('tap1');
    expect(unq(await sb.vsctl('list-ports', 'br-int'))).to.equal('patch-tun');
    expect(await sb.vsctl('--if-exists', 'get', 'interface', 'tap1', 'name')).to.equal('');
    expect(cmds.ifaceById('port-1')).to.equal(undefined);
    await cmds.deleteBridge('br-other');
  });

  it('sets controllers with options, idempotently', async () => {
    await cmds.setControllers('br-int', [{ target: 'tcp:127.0.0.1:6633', connectionMode: 'out-of-band', inactivityProbe: 10000 }]);
    expect(unq(await sb.vsctl('get-controller', 'br-int'))).to.equal('tcp:127.0.0.1:6633');
    expect(unq(await sb.vsctl('get', 'controller', 'br-int', 'connection_mode'))).to.equal('out-of-band');
    expect(unq(await sb.vsctl('get', 'controller', 'br-int', 'inactivity_probe'))).to.equal('10000');
    const before = unq(await sb.vsctl('get', 'bridge', 'br-int', 'controller'));
    await cmds.setControllers('br-int', [{ target: 'tcp:127.0.0.1:6633', connectionMode: 'out-of-band', inactivityProbe: 10000 }]);
    expect(unq(await sb.vsctl('get', 'bridge', 'br-int', 'controller')), 'same Controller row kept').to.equal(before);
    await cmds.setControllers('br-int', ['tcp:127.0.0.1:6653', 'unix:/tmp/x.sock']);
    expect(unq(await sb.vsctl('get-controller', 'br-int')).split('\n').sort()).to.deep.equal(['tcp:127.0.0.1:6653', 'unix:/tmp/x.sock']);
    await cmds.deleteControllers('br-int');
    expect(unq(await sb.vsctl('get-controller', 'br-int'))).to.equal('');
    expect(unq(await sb.vsctl('--columns=target', 'list', 'controller'))).to.equal('');
  });

  it('sets fields like db_set: maps merged, other columns replaced; removes keys', async () => {
    await cmds.addPort('br-int', 'vm2', { externalIds: { a: '1' } });
    await sb.vsctl('set', 'interface', 'vm2', 'external_ids:b=2');
    await cmds.set('Interface', 'vm2', { external_ids: { a: '10', c: '3' }, mtu_request: 1400 });
    expect(unq(await sb.vsctl('get', 'interface', 'vm2', 'external_ids'))).to.equal('{a="10", b="2", c="3"}');
    expect(unq(await sb.vsctl('get', 'interface', 'vm2', 'mtu_request'))).to.equal('1400');
    await cmds.set('Port', 'vm2', { tag: 100, other_config: { x: 'y' } });
    expect(unq(await sb.vsctl('get', 'port', 'vm2', 'tag'))).to.equal('100');
    await cmds.set('Port', 'vm2', { tag: null });
    expect(unq(await sb.vsctl('get', 'port', 'vm2', 'tag'))).to.equal('[]');
    await cmds.set('Bridge', 'br-int', { other_config: { 'mac-table-size': '50000' } });
    expect(unq(await sb.vsctl('get', 'bridge', 'br-int', 'other_config:mac-table-size'))).to.equal('50000');
    await cmds.removeKeys('Interface', 'vm2', 'external_ids', ['a', 'c']);
    expect(unq(await sb.vsctl('get', 'interface', 'vm2', 'external_ids'))).to.equal('{b="2"}');
    let err: unknown;
    await cmds.set('Port', 'nosuch', { tag: 1 }).catch((e) => (err = e));
    expect(err).to.be.instanceOf(OvsdbCommandError);
  });

  it('waits for ovs-vswitchd (next_cfg/cur_cfg) when asked, as ovs-vsctl does by default', async () => {
    await cmds.addPort('br-int', 'vm3', { type: 'internal' });
    await cmds.addPort('br-int', 'vm4', { type: 'internal', waitForVswitchd: true });
    const next = Number(unq(await sb.vsctl('get', 'Open_vSwitch', '.', 'next_cfg')));
    const cur = Number(unq(await sb.vsctl('get', 'Open_vSwitch', '.', 'cur_cfg')));
    expect(next).to.be.greaterThan(0);
    expect(cur).to.equal(next);
    // Once cur_cfg caught up, ovs-vswitchd has created the port: its ofport is already there.
    expect(replica.index('Interface', 'name').get('vm4')?.ofport).to.be.a('number').greaterThan(0);
  });
});
