/**
 * oslo.config's semantics for what operators write (issue 16, item 2),
 * checked against oslo.config itself: the same files and command line are
 * loaded by Debian's neutron-openvswitch-agent option set
 * (spec/config/oslo_values.py) and by loadConfig, and every option Neutron's
 * agent reads must come out with the same value: section names in any case,
 * `$name` / `${section.name}` / `$$` interpolation, --config-dir where it
 * stands among the --config-files, multi-valued options, deprecated names
 * and sections, later files winning.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { configSources, loadConfig } from '../../lib/config/index.js';
import { INVENTORY } from '../../lib/config/inventory.js';

const here = dirname(fileURLToPath(import.meta.url));

async function oslo(argv: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)('/usr/bin/python3', [join(here, 'oslo_values.py'), ...argv], { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

/**
 * JSON's view of a value, what both sides can be compared on: an unset string is '' in oslo.config (the rabbit ssl_*
 * files) and undefined here, both "not set" to the agent; [ovs] bridge_mappings is a list in oslo.config that
 * Neutron's agent turns into a dict, as the loader does.
 */
function plain(v: unknown, key = ''): unknown {
  if (v === undefined || v === null || v === '') return null;
  if (key === 'ovs.bridge_mappings' && !Array.isArray(v)) return Object.entries(v as object).map(([k, x]) => `${k}:${String(x)}`);
  if (Array.isArray(v)) return v.map((x) => plain(x));
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
  return v;
}

/**
 * The options whose values are compared: all that Neutron's agent and this one read, but for
 * those whose value is this agent's own by design (docs/configuration.md):
 */
const NOT_COMPARED = new Set([
  // The firewall: Neutron's default is none (iptables_hybrid in Debian's file); here noop, and the plain iptables driver is refused.
  'securitygroup.firewall_driver',
  // Types oslo.config has and the inventory of options not honoured does not model (their values are only warned about).
  'ovs.resource_provider_inventory_defaults', 'ovs.resource_provider_packet_processing_inventory_defaults',
  // Neutron's setup_logging() adds its own levels (os_ken's) to oslo.log's default after the files are read; the oracle stops before.
  'DEFAULT.default_log_levels',
]);

describe('oslo.config semantics, against oslo.config @integration', function () {
  this.timeout(120_000);
  let dir: string;
  const write = (name: string, lines: string[]): string => {
    const file = join(dir, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'oslo-semantics-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function same(argv: string[]): Promise<{ theirs: Record<string, unknown>; ours: ReturnType<typeof loadConfig> }> {
    const theirs = await oslo(argv);
    const ours = loadConfig({ files: configSources(argv), env: {} });
    const differ: string[] = [];
    let compared = 0;
    for (const e of INVENTORY) {
      const key = `${e.section}.${e.name}`;
      if (e.status === 'server' || NOT_COMPARED.has(key) || !(key in theirs)) continue;
      compared++;
      const a = JSON.stringify(plain(ours.value(e.section, e.name), key));
      const b = JSON.stringify(plain(theirs[key], key));
      if (a !== b) differ.push(`${key}: ours ${a}, oslo ${b}`);
    }
    expect(differ).to.deep.equal([]);
    expect(compared).to.be.above(120);
    return { theirs, ours };
  }

  it('reads [OVS], [Agent], [SecurityGroup] as their lower-case sections, merging with [ovs] in line order; [default] is not [DEFAULT]', async () => {
    const f = write('case.conf', ['[OVS]', 'local_ip = 10.1.0.1', 'bridge_mappings = a:br-a', '[Agent]', 'tunnel_types = vxlan,gre',
      '[ovs]', 'local_ip = 10.1.0.2', '[SecurityGroup]', 'enable_security_group = false', '[default]', 'host = lower-default']);
    const { ours } = await same(['--config-file', f]);
    expect(ours.config.ovs.local_ip).to.equal('10.1.0.2');
    expect(ours.config.agent.tunnel_types).to.deep.equal(['vxlan', 'gre']);
  });

  it('replaces $name, ${name}, ${section.name}, $$ and \\$ as oslo.config does', async () => {
    const f = write('interp.conf', ['[DEFAULT]', 'host = node-$control_exchange', 'control_exchange = nx',
      '[ovs]', 'integration_bridge = br-$$int', 'tunnel_bridge = ${integration_bridge}-tun', 'int_peer_patch_port = p-${OVS.tunnel_bridge}',
      'tun_peer_patch_port = x\\$y', 'bridge_mappings = phys:br-$host', 'local_ip = 10.0.0.9', '[agent]', 'report_interval = $polling_interval',
      'polling_interval = 7', 'tunnel_types = vxlan']);
    const { ours } = await same(['--config-file', f]);
    expect(ours.config.DEFAULT.host).to.equal('node-nx');
    expect(ours.config.ovs.tunnel_bridge).to.equal('br-$int-tun');
    expect(ours.config.ovs.bridge_mappings).to.deep.equal({ phys: 'br-node-nx' });
    expect(ours.config.agent.report_interval).to.equal(7);
  });

  it('refuses a $name no option has, as oslo.config fails to read it', async () => {
    const f = write('bad-interp.conf', ['[ovs]', 'integration_bridge = br-$nosuchoption']);
    const theirs = await oslo(['--config-file', f]);
    expect(theirs['ovs.integration_bridge']).to.have.property('error');
    expect(() => loadConfig({ files: [f], env: {} })).to.throw(/integration_bridge.*bad-interp\.conf:2.*\$nosuchoption/);
  });

  it('reads --config-dir where it stands among the --config-files, its *.conf files in name order; later files win', async () => {
    const first = write('first.conf', ['[ovs]', 'integration_bridge = br-first', 'tunnel_bridge = tun-first', 'int_peer_patch_port = int-first',
      '[agent]', 'polling_interval = 3']);
    write('d/b.conf', ['[ovs]', 'tunnel_bridge = tun-b', 'int_peer_patch_port = int-b']);
    write('d/a.conf', ['[ovs]', 'tunnel_bridge = tun-a', 'tun_peer_patch_port = tunp-a', '[agent]', 'polling_interval = 4']);
    write('d/z.ini', ['[ovs]', 'tunnel_bridge = not-read']);
    const last = write('last.conf', ['[ovs]', 'int_peer_patch_port = int-last']);
    const { ours } = await same(['--config-file', first, '--config-dir', join(dir, 'd'), '--config-file', last]);
    expect(ours.config.ovs).to.include({ integration_bridge: 'br-first', tunnel_bridge: 'tun-b', int_peer_patch_port: 'int-last', tun_peer_patch_port: 'tunp-a' });
    expect(ours.config.agent.polling_interval).to.equal(4);
  });

  it("reads deprecated names and sections: the option's own name wins in a file, the later file wins across files", async () => {
    const one = write('dep1.conf', ['[DEFAULT]', 'rabbit_ha_queues = true', 'kombu_ssl_version = TLSv1_1', 'rabbit_retry_backoff = 5',
      '[ovs]', 'ovs_integration_bridge = br-old', 'integration_bridge = br-new', '[oslo_messaging_rabbit]', 'rabbit_retry_backoff = 3',
      'kombu_ssl_version = TLSv1_2', 'rabbit_quroum_max_memory_length = 5']);
    const two = write('dep2.conf', ['[OVS]', 'ovs_integration_bridge = br-later']);
    const { ours } = await same(['--config-file', one, '--config-file', two]);
    expect(ours.config.ovs.integration_bridge).to.equal('br-later');
    expect(ours.config.oslo_messaging_rabbit).to.include({ rabbit_ha_queues: true, ssl_version: 'TLSv1_2', rabbit_retry_backoff: 3,
      rabbit_quroum_max_memory_length: 5 });
    expect(ours.warnings.join('\n')).to.include('deprecated option [DEFAULT] rabbit_ha_queues at')
      // kombu_ssl_version is an older name in [oslo_messaging_rabbit] only: in [DEFAULT] no option has it.
      .and.include('unknown option [DEFAULT] kombu_ssl_version');
  });

  it('gathers every value of a multi-valued option, across files and deprecated names, in order', async () => {
    const one = write('multi1.conf', ['[oslo_messaging_notifications]', 'driver = a', 'driver = b']);
    const two = write('multi2.conf', ['[DEFAULT]', 'notification_driver = d', '[oslo_messaging_notifications]', 'driver = c']);
    const { ours } = await same(['--config-file', one, '--config-file', two]);
    expect(ours.value('oslo_messaging_notifications', 'driver')).to.deep.equal(['a', 'b', 'd', 'c']);
  });

  it("reads Debian's shipped neutron.conf and openvswitch_agent.ini as oslo.config does", async () => {
    await same(['--config-file', '/etc/neutron/neutron.conf', '--config-file', '/etc/neutron/plugins/ml2/openvswitch_agent.ini']);
  });
});
