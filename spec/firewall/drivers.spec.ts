import { expect } from 'chai';
import { createFirewallFromConfig } from '../../lib/agent/firewall-config.js';
import { loadConfig } from '../../lib/config/index.js';
import { createFirewall, FirewallConfigError, resolveFirewallDriver } from '../../lib/firewall/index.js';
import { HybridIptablesFirewall } from '../../lib/firewall/iptables/index.js';
import { NftHybridFirewall } from '../../lib/firewall/nftables/index.js';
import { silentLogger } from '../../lib/log.js';

/**
 * `[securitygroup] firewall_driver` by every name Neutron 21 loads: the
 * entry points of `neutron.agent.firewall_drivers` (python3-neutron's
 * entry_points.txt) and the class paths `importutils.import_class` finds.
 */
describe('firewall driver names', () => {
  const supported: Array<[string, string]> = [
    ['openvswitch', 'openvswitch'],
    ['neutron.agent.linux.openvswitch_firewall.OVSFirewallDriver', 'openvswitch'],
    ['neutron.agent.linux.openvswitch_firewall.firewall.OVSFirewallDriver', 'openvswitch'],
    ['noop', 'noop'],
    ['neutron.agent.firewall.NoopFirewallDriver', 'noop'],
    ['', 'noop'],
    ['iptables_hybrid', 'iptables_hybrid'],
    ['neutron.agent.linux.iptables_firewall.OVSHybridIptablesFirewallDriver', 'iptables_hybrid'],
  ];
  for (const [name, driver] of supported) {
    it(`${JSON.stringify(name)} is the ${driver} driver`, () => {
      expect(resolveFirewallDriver(name)).to.include({ kind: 'supported', driver });
      expect(createFirewall(name).driver).to.equal(driver);
    });
  }

  const unsupported: Array<[string, string]> = [
    ['iptables', 'iptables'],
    ['neutron.agent.linux.iptables_firewall.IptablesFirewallDriver', 'iptables'],
  ];
  for (const [name, driver] of unsupported) {
    it(`${JSON.stringify(name)} is Neutron's ${driver} driver, refused: it filters nothing with Open vSwitch`, () => {
      expect(resolveFirewallDriver(name)).to.include({ kind: 'unsupported', driver });
      expect(() => createFirewall(name, {}, '/etc/x.ini:3')).to.throw(FirewallConfigError,
        `[securitygroup] firewall_driver = ${name} (set at /etc/x.ini:3): the ${driver} driver`).and.match(/not supported with Open vSwitch/);
    });
  }

  // Names Neutron could not load either: entry-point syntax, other case, the abstract base, a typo.
  for (const name of ['OpenVSwitch', 'neutron.agent.linux.openvswitch_firewall:OVSFirewallDriver', 'neutron.agent.firewall.FirewallDriver',
    'openvswitch ', 'ovs', 'neutron.agent.linux.iptables_firewall.firewall.NoopFirewallDriver']) {
    it(`${JSON.stringify(name)} is unknown`, () => {
      expect(() => resolveFirewallDriver(name)).to.throw(/unknown firewall_driver/);
      expect(() => createFirewall(name)).to.throw(FirewallConfigError, /\[securitygroup\] firewall_driver = .*unknown firewall_driver/);
    });
  }

  describe('from openvswitch_agent.ini', () => {
    const fw = (lines: string[]) => {
      const { config } = loadConfig({ files: [{ file: '/etc/neutron/ovs.ini', text: ['[securitygroup]', ...lines, ''].join('\n') }], env: {} });
      return createFirewallFromConfig(config, silentLogger);
    };

    it('names the option, the file and line of an unsupported driver', () => {
      expect(() => fw(['firewall_driver = iptables'])).to.throw(
        '[securitygroup] firewall_driver = iptables (set at /etc/neutron/ovs.ini:2): the iptables driver ' +
        '(neutron.agent.linux.iptables_firewall.IptablesFirewallDriver) is not supported with Open vSwitch');
    });

    it('iptables_hybrid filters on the Linux bridge and leaves anti-spoofing on br-int to the agent', () => {
      const f = fw(['firewall_driver = neutron.agent.linux.iptables_firewall.OVSHybridIptablesFirewallDriver']);
      expect(f.driver).to.equal('iptables_hybrid');
      expect(f.providesArpSpoofingProtection).to.equal(false);
      expect(f.ovsHybridPlug).to.equal(true);
    });

    it('[ovs_agent] hybrid_backend: iptables by default, nftables when asked, anything else refused naming the option', () => {
      const f = fw(['firewall_driver = iptables_hybrid']);
      expect(f).to.be.instanceOf(HybridIptablesFirewall).and.not.be.instanceOf(NftHybridFirewall);
      const withBackend = (v: string) => {
        const { config } = loadConfig({ files: [{ file: '/etc/neutron/ovs.ini', text: `[securitygroup]\nfirewall_driver = iptables_hybrid\n[ovs_agent]\nhybrid_backend = ${v}\n` }], env: {} });
        return createFirewallFromConfig(config, silentLogger);
      };
      const n = withBackend('nftables');
      expect(n).to.be.instanceOf(NftHybridFirewall);
      expect(n.driver).to.equal('iptables_hybrid');
      expect(n.ovsHybridPlug).to.equal(true);
      expect(() => withBackend('ebtables')).to.throw(/hybrid_backend.*"ebtables" is not one of iptables, nftables/);
    });

    it('the openvswitch driver by its class path filters and protects ports itself', () => {
      const f = fw(['firewall_driver = neutron.agent.linux.openvswitch_firewall.OVSFirewallDriver']);
      expect(f.driver).to.equal('openvswitch');
      expect(f.providesArpSpoofingProtection).to.equal(true);
    });

    it('noop (and unset) leave anti-spoofing to the agent', () => {
      for (const f of [fw(['firewall_driver = noop']), fw([])]) {
        expect(f.driver).to.equal('noop');
        expect(f.providesArpSpoofingProtection).to.equal(false);
      }
    });

    it('enable_security_group = false filters nothing; the named driver still decides anti-spoofing, as in Neutron', () => {
      const ovs = fw(['firewall_driver = openvswitch', 'enable_security_group = false']);
      expect(ovs.driver).to.equal('noop');
      expect(ovs.providesArpSpoofingProtection).to.equal(true);
      const noop = fw(['firewall_driver = noop', 'enable_security_group = false']);
      expect(noop.providesArpSpoofingProtection).to.equal(false);
      // Neutron loads the driver even then: a name it cannot load stops it.
      expect(() => fw(['firewall_driver = bogus', 'enable_security_group = false'])).to.throw(/unknown firewall_driver "bogus"/);
    });
  });
});
