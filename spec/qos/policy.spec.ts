import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { decodeResource } from '../../lib/control-plane/neutron/ovo.js';
import { parseQosPolicies } from '../../lib/control-plane/local/qos.js';
import { planPortQos } from '../../lib/qos/port-qos.js';
import type { PortDetails, QosPolicy } from '../../lib/model/index.js';
import { SYSTEM_PYTHON } from '../../testing/neutron-firewall-oracle.js';

/**
 * What a QoS policy asks of a port (lib/qos/port-qos.ts), the QosPolicy
 * object as neutron-server sends it (made here by python3-neutron's own
 * QosPolicy.obj_to_primitive), and the local file's `qosPolicies`.
 */
const PID = 'a0000000-0000-4000-8000-000000000001';

function details(over: Partial<PortDetails>): PortDetails {
  return {
    portId: 'p1', networkId: 'n1', macAddress: 'fa:16:3e:00:00:01', adminStateUp: true, networkType: 'local', fixedIps: [],
    allowedAddressPairs: [], portSecurityEnabled: true, securityGroups: [], deviceOwner: 'compute:nova', ...over,
  };
}

describe('QoS policies', function () {
  this.timeout(60_000); // importing python3-neutron takes seconds on a loaded machine
  it('decodes the QosPolicy 1.10 primitive python3-neutron makes, every rule type', () => {
    const script = `
import json
from neutron.objects.qos import policy, rule
pid = '${PID}'
r = lambda n: 'a0000000-0000-4000-8000-0000000000b%d' % n
p = policy.QosPolicy(id=pid, project_id='p', name='gold', shared=False, is_default=False, rules=[
    rule.QosBandwidthLimitRule(id=r(1), qos_policy_id=pid, max_kbps=1000, max_burst_kbps=100, direction='ingress'),
    rule.QosDscpMarkingRule(id=r(2), qos_policy_id=pid, dscp_mark=26),
    rule.QosMinimumBandwidthRule(id=r(3), qos_policy_id=pid, min_kbps=500, direction='egress'),
    rule.QosPacketRateLimitRule(id=r(4), qos_policy_id=pid, max_kpps=10, max_burst_kpps=0, direction='egress'),
    rule.QosMinimumPacketRateRule(id=r(5), qos_policy_id=pid, min_kpps=7, direction='any')])
print(json.dumps(p.obj_to_primitive(target_version='1.10')))`;
    const primitive: unknown = JSON.parse(execFileSync(SYSTEM_PYTHON, ['-c', script], { encoding: 'utf8' }));
    const r = (n: number) => `a0000000-0000-4000-8000-0000000000b${n}`;
    expect(decodeResource(primitive)).to.deep.equal({
      kind: 'QosPolicy', id: PID, revision: 0, rules: [
        { type: 'bandwidth_limit', id: r(1), maxKbps: 1000, maxBurstKbps: 100, direction: 'ingress' },
        { type: 'dscp_marking', id: r(2), dscpMark: 26 },
        { type: 'minimum_bandwidth', id: r(3), minKbps: 500, direction: 'egress' },
        { type: 'packet_rate_limit', id: r(4), maxKpps: 10, maxBurstKpps: 0, direction: 'egress' },
        { type: 'minimum_packet_rate', id: r(5), minKpps: 7, direction: 'any' },
      ],
    });
  });

  it('plans a port: egress burst 80 % of the rate when none is given; what is not enforced said with why', () => {
    const policy: QosPolicy = { id: PID, rules: [
      { type: 'bandwidth_limit', id: 'e', maxKbps: 1001, maxBurstKbps: 0, direction: 'egress' },
      { type: 'bandwidth_limit', id: 'i', maxKbps: 2000, maxBurstKbps: 0, direction: 'ingress' },
      { type: 'packet_rate_limit', id: 'p', maxKpps: 1, maxBurstKpps: 0, direction: 'ingress' },
      { type: 'minimum_packet_rate', id: 'm', minKpps: 1, direction: 'any' },
    ] };
    const plan = planPortQos(details({ qosPolicyId: PID, qosPolicy: policy }));
    expect(plan.settings).to.deep.equal({ egress: { rateKbps: 1001, burstKbps: 800 }, ingress: { maxKbps: 2000, burstKbps: 0 } });
    expect(plan.notEnforced.map((n) => n.rule.id)).to.deep.equal(['p']);
    expect(plan.notEnforced[0].why).to.include('meters');
  });

  it('a rule of a type this agent does not know is kept as unsupported and planned as not enforced, naming its type', () => {
    // Neutron's driver warns "Unsupported QoS rule type" and skips such a rule; a newer server may send one.
    const primitive = {
      'versioned_object.name': 'QosPolicy', 'versioned_object.namespace': 'versionedobjects', 'versioned_object.version': '1.10',
      'versioned_object.data': { id: PID, revision_number: 3, rules: [
        { 'versioned_object.name': 'QosFancyRule', 'versioned_object.namespace': 'versionedobjects', 'versioned_object.version': '1.0',
          'versioned_object.data': { id: 'r-fancy', qos_policy_id: PID } },
      ] },
    };
    const decoded = decodeResource(primitive);
    expect(decoded).to.deep.equal({ kind: 'QosPolicy', id: PID, revision: 3, rules: [{ type: 'unsupported', id: 'r-fancy', objectName: 'QosFancyRule' }] });
    const policy: QosPolicy = { id: PID, rules: [{ type: 'unsupported', id: 'r-fancy', objectName: 'QosFancyRule' }] };
    const plan = planPortQos(details({ qosPolicyId: PID, qosPolicy: policy }));
    expect(plan.settings).to.deep.equal({});
    expect(plan.notEnforced.map((n) => n.rule.id)).to.deep.equal(['r-fancy']);
    expect(plan.notEnforced[0].why).to.include('QosFancyRule');
  });

  it('a network\'s policy: on a VM port and a router gateway, not on a DHCP or router interface port; a port\'s own policy always', () => {
    const policy: QosPolicy = { id: PID, rules: [{ type: 'dscp_marking', id: 'd', dscpMark: 10 }] };
    const net = (owner: string) => planPortQos(details({ networkQosPolicyId: PID, qosPolicy: policy, deviceOwner: owner })).settings.dscp;
    expect(net('compute:nova')).to.equal(10);
    expect(net('network:router_gateway')).to.equal(10);
    expect(net('network:dhcp')).to.equal(undefined);
    expect(net('network:router_interface')).to.equal(undefined);
    expect(planPortQos(details({ qosPolicyId: PID, qosPolicy: policy, deviceOwner: 'network:dhcp' })).settings.dscp).to.equal(10);
  });

  it('the local file\'s qosPolicies: a bad rule is refused naming its path', () => {
    expect(() => parseQosPolicies([{ id: 'x', rules: [{ type: 'dscp_marking', dscpMark: 27 }] }], 'f.json'))
      .to.throw(/f\.json: qosPolicies\[0\]\.rules\[0\]\.dscpMark: 27 is not a valid DSCP mark/);
    expect(() => parseQosPolicies([{ id: 'x', rules: [{ type: 'bandwidth_limit', maxKbps: 1, direction: 'up' }] }], 'f.json'))
      .to.throw(/rules\[0\]\.direction: must be egress or ingress/);
    expect(() => parseQosPolicies([{ id: 'x', rules: [{ type: 'shaping' }] }], 'f.json')).to.throw(/rules\[0\]\.type: must be one of bandwidth_limit/);
  });
});
