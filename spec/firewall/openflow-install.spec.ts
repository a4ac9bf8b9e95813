/**
 * The firewall's flow-mods through our own OpenFlow stack (the text codec's
 * parseFlow, one atomic bundle over the bridge's management socket), as the
 * agent sends them: the bridge ends up exactly as when ovs-ofctl loads the
 * same lines, initially and after an update that adds and deletes flows.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecurityGroupInfo, SecurityGroupRule } from '../../lib/control-plane/types.js';
import { OvsFirewall } from '../../lib/firewall/index.js';
import { OpenFlowSwitch } from '@ovs-agent/openflow';
import { parseFlow } from '@ovs-agent/openflow';
import { OvsSandbox } from '../../testing/sandbox.js';
import { vmPort, flushOf, initOf, flowCount, changesToOfctlLines, type FlowChange } from './helpers.js';

const rule = (r: Omit<SecurityGroupRule, 'securityGroupId'>): SecurityGroupRule => ({ securityGroupId: 'web', ...r });

function info(extraRule: SecurityGroupRule[], members: string[]): SecurityGroupInfo {
  return {
    rules: {
      web: [
        rule({ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 1000, portRangeMax: 1999, remoteIpPrefix: '10.0.0.0/8' }),
        rule({ direction: 'ingress', ethertype: 'IPv4', protocol: 'udp', portRangeMin: 53, portRangeMax: 53, remoteGroupId: 'web' }),
        rule({ direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp', portRangeMin: 128, portRangeMax: 0 }),
        rule({ direction: 'egress', ethertype: 'IPv6', remoteIpPrefix: '2001:db8::/32' }),
        ...extraRule,
      ],
    },
    stateful: { web: true },
    members: { web: { IPv4: members.map((ip) => [ip, null] as [string, null]), IPv6: [] } },
  };
}

describe('firewall flows through our OpenFlow connection @integration', function () {
  let sb: OvsSandbox | undefined;
  let sw: OpenFlowSwitch | undefined;
  let dir: string | undefined;

  before(async () => {
    sb = await OvsSandbox.start();
    dir = mkdtempSync(join(tmpdir(), 'fw-of-'));
    for (const br of ['br-ours', 'br-ofctl']) {
      await sb.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'fail_mode=secure', 'protocols=OpenFlow10,OpenFlow13,OpenFlow14');
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        sw = await OpenFlowSwitch.connect(`unix:${sb.mgmtSocket('br-ours')}`);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });

  after(async () => {
    await sw?.close();
    await sb?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function send(changes: readonly FlowChange[]): Promise<void> {
    const bundle = sw!.bundle({ atomic: true, ordered: true });
    for (const c of changes) bundle.add(parseFlow(c.text, { command: c.op }));
    await bundle.commit();
    writeFileSync(join(dir!, 'f'), changesToOfctlLines(changes));
    await sb!.ofctl('-O', 'OpenFlow13', '--bundle', 'add-flows', 'br-ofctl', join(dir!, 'f'));
  }

  const dump = async (br: string): Promise<string[]> =>
    (await sb!.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', br)).split('\n').filter((l) => l.includes('actions=')).map((l) => l.trim()).sort();

  it('programs the same bridge as ovs-ofctl does, initially and after an update', async () => {
    const fw = new OvsFirewall({ cookie: 0xf1n, permittedEthertypes: ['0x4008'] });
    const ports = [
      vmPort(1, { securityGroups: ['web'], fixedIps: ['10.0.0.1', '2001:db8::1'], allowedAddressPairs: [{ macAddress: 'fa:16:3e:aa:00:01', ipAddress: '10.0.9.0/24' }] }),
      vmPort(2, { securityGroups: ['web'], networkType: 'vlan', segmentationId: 100, lvid: 4 }),
      vmPort(3, { securityGroups: ['web'], networkType: 'flat', segmentationId: undefined, lvid: 5 }),
      vmPort(4, { securityGroups: ['web'], portSecurityEnabled: false }),
    ];
    const initial = [...initOf(fw)];
    fw.updateSecurityGroupInfo(info([], ['10.0.0.1', '10.0.0.2', '10.0.0.3']));
    fw.setupPortFilters(ports);
    initial.push(...flushOf(fw));
    await send(initial);
    const first = await dump('br-ours');
    expect(first).to.have.length(flowCount(fw));
    expect(first).to.deep.equal(await dump('br-ofctl'));

    fw.updateSecurityGroupInfo(info([rule({ direction: 'ingress', ethertype: 'IPv4', protocol: 'sctp' })], ['10.0.0.1', '10.0.0.3', '10.0.0.4']));
    fw.removePortFilters(['port-3']);
    const update = flushOf(fw);
    expect(update.some((c) => c.op === 'add')).to.equal(true);
    expect(update.some((c) => c.op === 'delete_strict')).to.equal(true);
    await send(update);
    const second = await dump('br-ours');
    expect(second).to.have.length(flowCount(fw));
    expect(second).to.deep.equal(await dump('br-ofctl'));
    expect(second).to.not.deep.equal(first);
  });
});
