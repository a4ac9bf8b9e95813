import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createControlPlane } from '../../lib/agent/run.js';
import { ConfigError, loadConfig, parseIni } from '../../lib/config/index.js';
import { silentLogger } from '../../lib/log.js';

describe('agent config (openvswitch_agent.ini)', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'agent-cfg-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it("has Neutron's defaults when no file is given", () => {
    const { config, warnings } = loadConfig({ env: {} });
    expect(warnings).to.deep.equal([]);
    expect(config.ovs.integration_bridge).to.equal('br-int');
    expect(config.ovs.tunnel_bridge).to.equal('br-tun');
    expect(config.ovs.of_listen_port).to.equal(6633);
    expect(config.ovs.ovsdb_connection).to.equal('tcp:127.0.0.1:6640');
    expect(config.ovs.bridge_mappings).to.deep.equal({});
    expect(config.agent.tunnel_types).to.deep.equal([]);
    expect(config.agent.report_interval).to.equal(30);
    expect(config.agent.vxlan_udp_port).to.equal(4789);
    expect(config.securitygroup.firewall_driver).to.equal('noop');
  });

  it("reads Debian's packaged file: lists, dicts, booleans, comments and continuation lines", () => {
    const f = file('a.ini', [
      '[DEFAULT]', '# a comment', '[agent]', 'tunnel_types = vxlan,gre', 'l2_population = True', 'report_interval: 12.5',
      '[ovs]', 'integration_bridge = br-int', 'local_ip = 127.0.0.1',
      'bridge_mappings = physnet1:br-eth1,', '  physnet2:br-eth2', '; another comment',
      '[securitygroup]', 'firewall_driver = openvswitch', 'enable_ipset = false', '',
    ].join('\n'));
    const { config } = loadConfig({ files: [f], env: {} });
    expect(config.agent.tunnel_types).to.deep.equal(['vxlan', 'gre']);
    expect(config.agent.l2_population).to.equal(true);
    expect(config.agent.report_interval).to.equal(12.5);
    expect(config.ovs.local_ip).to.equal('127.0.0.1');
    expect(config.ovs.bridge_mappings).to.deep.equal({ physnet1: 'br-eth1', physnet2: 'br-eth2' });
    expect(config.securitygroup.firewall_driver).to.equal('openvswitch');
    expect(config.securitygroup).to.not.have.property('enable_ipset');
  });

  it('reads the [oslo_messaging_rabbit] queue options the servers of a cloud share, and hands them to the Neutron control plane', async () => {
    const f = file('rabbit.ini', [
      '[DEFAULT]', 'transport_url = rabbit://u:p@127.0.0.1:1/', '[ovs_agent]', 'control_plane = neutron',
      '[oslo_messaging_rabbit]', 'rabbit_quorum_queue = true', 'rabbit_quorum_delivery_limit = 4', 'rabbit_transient_queues_ttl = 600', '',
    ].join('\n'));
    const { config, warnings } = loadConfig({ files: [f], env: {} });
    expect(warnings).to.deep.equal([]);
    expect(config.oslo_messaging_rabbit).to.include({
      rabbit_quorum_queue: true, rabbit_quorum_delivery_limit: 4, rabbit_transient_queues_ttl: 600, amqp_durable_queues: false, rabbit_ha_queues: false,
    });
    const cp = await createControlPlane(config, silentLogger);
    expect((cp as unknown as { declaration: unknown }).declaration).to.deep.equal({
      exchange: { durable: true, autoDelete: false },
      queue: { durable: true, autoDelete: false, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 4 } },
    });
    const both = file('both.ini', ['[DEFAULT]', 'transport_url = rabbit://u:p@127.0.0.1:1/', '[oslo_messaging_rabbit]', 'rabbit_quorum_queue = true', 'rabbit_ha_queues = true', ''].join('\n'));
    const bad = loadConfig({ files: [both], env: {} }).config;
    bad.ovs_agent.control_plane = 'neutron';
    const err = await createControlPlane(bad, silentLogger).catch((e: unknown) => e);
    expect((err as Error).message).to.match(/rabbit_quorum_queue and rabbit_ha_queues are both enabled/);
  });

  it('merges several files in order, then environment, then command line', () => {
    const a = file('m1.ini', '[ovs]\nintegration_bridge = br-a\ntunnel_bridge = br-ta\ndatapath_type = netdev\n');
    const b = file('m2.ini', '[ovs]\nintegration_bridge = br-b\n');
    const { config } = loadConfig({
      files: [a, b],
      env: { OVS_AGENT_OVS_TUNNEL_BRIDGE: 'br-env', OVS_AGENT_AGENT_POLLING_INTERVAL: '5' },
      overrides: { 'agent.polling_interval': 7 },
    });
    expect(config.ovs.integration_bridge).to.equal('br-b');
    expect(config.ovs.tunnel_bridge).to.equal('br-env');
    expect(config.ovs.datapath_type).to.equal('netdev');
    expect(config.agent.polling_interval).to.equal(7);
  });

  it('warns about unknown options, naming file and line', () => {
    const f = file('u.ini', '[ovs]\nintegration_bridge = br-int\nno_such_option = 1\n[nosection]\nx = 2\n');
    const { warnings } = loadConfig({ files: [f], env: {} });
    expect(warnings).to.have.length(2);
    expect(warnings[0]).to.include('[ovs] no_such_option').and.include(`${f}:3`);
    expect(warnings[1]).to.include('[nosection]').and.include(f);
  });

  for (const [text, line, what] of [
    ['[ovs]\n\nof_listen_port = seventy\n', 3, 'of_listen_port'],
    ['[agent]\ntunnel_types = vxlan,ipip\n', 2, 'tunnel_types'],
    ['[ovs]\nbridge_mappings = physnet1\n', 2, 'bridge_mappings'],
    ['[ovs]\nlocal_ip = 10.0.0.300\n', 2, 'local_ip'],
    ['[agent]\nl2_population = maybe\n', 2, 'l2_population'],
    ['[ovs]\ndatapath_type = kernel\n', 2, 'datapath_type'],
  ] as const) {
    it(`rejects an invalid ${what} with option, file and line`, () => {
      const f = file(`bad-${what}.ini`, text);
      let err: unknown;
      try { loadConfig({ files: [f], env: {} }); } catch (e) { err = e; }
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).message).to.include(what).and.include(`${f}:${line}`);
      expect((err as ConfigError).code).to.equal('CONFIG_INVALID');
    });
  }

  it('rejects syntax errors and an invalid environment value', () => {
    const f = file('syntax.ini', '[ovs]\nthis line has no equals sign\n');
    expect(() => loadConfig({ files: [f], env: {} })).to.throw(ConfigError, `${f}:2`);
    expect(() => loadConfig({ env: { OVS_AGENT_OVS_OF_LISTEN_PORT: 'x' } })).to.throw(ConfigError, 'OVS_AGENT_OVS_OF_LISTEN_PORT');
  });

  it('requires local_ip with tunnel_types, as Neutron does at start-up', () => {
    const f = file('tun.ini', '[agent]\ntunnel_types = vxlan\n');
    expect(() => loadConfig({ files: [f], env: {} })).to.throw(ConfigError, 'local_ip');
  });

  it('parses options before any section as an error', () => {
    expect(() => parseIni('a = b\n', 'x.ini')).to.throw('x.ini:1');
  });
});
