/**
 * The options Neutron's agent reads and this one does not honour are never
 * taken silently (issue 16, item 3): refused at start, naming the option and
 * where it was set, or warned about; at their default they pass quietly.
 */
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../lib/config/index.js';

const load = (text: string) => loadConfig({ files: [{ file: '/etc/neutron/x.ini', text }], env: {} });

describe('options not honoured', () => {
  it('refuses [agent] extensions other than qos (here log), naming file and line and the one accepted', () => {
    let err: unknown;
    try {
      load('[DEFAULT]\n[agent]\nextensions = qos,log\n');
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as ConfigError).code).to.equal('CONFIG_INVALID');
    expect(load('[agent]\nextensions = qos\n').config.agent.extensions).to.deep.equal(['qos']);
    expect((err as Error).message).to.include('[agent] extensions').and.include('/etc/neutron/x.ini:3').and.include('"log" is not one of qos');
  });

  it('refuses enable_distributed_routing = true under [AGENT] too (oslo reads section names in lower case)', () => {
    expect(() => load('[AGENT]\nenable_distributed_routing = True\n')).to.throw(ConfigError, /enable_distributed_routing.*x\.ini:2/);
  });

  it('passes a refused option at its default, and warns about a harmless value', () => {
    expect(load('[agent]\nextensions =\nenable_distributed_routing = false\n').warnings).to.deep.equal([]);
    const { warnings } = load('[oslo_messaging_rabbit]\nrabbit_login_method = PLAIN\n');
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('rabbit_login_method').and.include('x.ini:2').and.include('not honoured');
  });

  it('warns about an ignored option once, with where and what it means', () => {
    const { warnings } = load('[agent]\nroot_helper = sudo neutron-rootwrap /etc/neutron/rootwrap.conf\n[ovs]\nof_request_timeout = 10\n');
    expect(warnings).to.deep.equal([
      '[agent] root_helper at /etc/neutron/x.ini:2 is not honoured: ovs-agent uses no root helper: it speaks OVSDB and OpenFlow itself (and runs iptables_hybrid\'s netfilter tools itself, as root)',
      '[ovs] of_request_timeout at /etc/neutron/x.ini:4 is not honoured: an OpenFlow request gives up after 60 s (fixed), or when its session is lost',
    ]);
  });

  it("reports neutron-server's options of neutron.conf in one line a file", () => {
    const { warnings } = load('[DEFAULT]\ncore_plugin = ml2\nauth_strategy = keystone\n');
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('core_plugin (line 2)').and.include('auth_strategy (line 3)');
  });
});

describe('$ interpolation and secrets', () => {
  it('never quotes a secret value whose "$" names no option (a password holding $)', () => {
    let message = '';
    try {
      load('[DEFAULT]\ntransport_url = rabbit://u:Pa$swordXyz@127.0.0.1:5672/\n');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.include('transport_url').and.include('x.ini:2').and.include('$$');
    expect(message).to.not.match(/swordXyz|Pa\$/);
  });

  it('reads $$ in a password as a literal $', () => {
    expect(load('[DEFAULT]\ntransport_url = rabbit://u:Pa$$sw@127.0.0.1:5672/\n').config.DEFAULT.transport_url).to.equal('rabbit://u:Pa$sw@127.0.0.1:5672/');
  });
});
