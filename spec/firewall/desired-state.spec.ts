import { expect } from 'chai';
import { parseAddressGroups, parseSecurityGroups, securityGroupInfoFor, type MemberPort } from '../../lib/control-plane/local/security-groups.js';

const FILE = '/etc/ovs-agent/state.json';

describe('firewall desired-state helpers', () => {
  it('parses security groups into the control-plane rule shape', () => {
    const groups = parseSecurityGroups(
      {
        web: {
          rules: [
            { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '10.0.0.0/8' },
            { direction: 'ingress', remoteGroupId: 'web' },
            { direction: 'egress', ethertype: 'IPv6', protocol: 58 },
          ],
        },
        db: { stateful: false },
      },
      FILE,
    );
    expect(groups.get('web')!.rules).to.deep.equal([
      { securityGroupId: 'web', direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '10.0.0.0/8' },
      { securityGroupId: 'web', direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'web' },
      { securityGroupId: 'web', direction: 'egress', ethertype: 'IPv6', protocol: '58' },
    ]);
    expect(groups.get('db')).to.deep.equal({ id: 'db', stateful: false, rules: [] });
  });

  it('names the path of every mistake', () => {
    const bad = (json: unknown, re: RegExp): void => {
      expect(() => parseSecurityGroups(json, FILE)).to.throw(re).with.property('code', 'STATE_FILE_INVALID');
    };
    bad([], /securityGroups: must be an object/);
    bad({ web: { rules: [{ direction: 'up' }] } }, /securityGroups\.web\.rules\[0\]\.direction: must be "ingress" or "egress"/);
    bad({ web: { rules: [{ direction: 'ingress', protocol: 'tpc' }] } }, /rules\[0\]\.protocol: unknown protocol "tpc"/);
    bad({ web: { rules: [{ direction: 'ingress', protocol: 'tcp', portRangeMin: 90, portRangeMax: 80 }] } }, /portRangeMax: must not be below/);
    bad({ web: { rules: [{ direction: 'ingress', remoteIpPrefix: '2001:db8::/32' }] } }, /remoteIpPrefix: is not an IPv4 prefix/);
    bad({ web: { rules: [{ direction: 'ingress', remoteIpPrefix: '10.0.0.0/8', remoteGroupId: 'x' }] } }, /only one of remoteIpPrefix/);
    expect(() => parseAddressGroups({ office: ['10.0.0.0/33'] }, FILE)).to.throw(/addressGroups\.office\[0\]: bad prefix length/);
  });

  it('computes members like sg_member_ips: fixed IPs and allowed pairs of group ports, address-group CIDRs, only used ethertypes', () => {
    const groups = parseSecurityGroups(
      {
        web: { rules: [{ direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'web' }, { direction: 'ingress', ethertype: 'IPv4', remoteAddressGroupId: 'office' }] },
        db: { rules: [] },
      },
      FILE,
    );
    const ports: MemberPort[] = [
      { id: 'a', mac: 'fa:16:3e:00:00:01', fixedIps: [{ ipAddress: '10.0.0.1' }, { ipAddress: '2001:db8::1' }], allowedAddressPairs: [{ macAddress: 'fa:16:3e:00:00:aa', ipAddress: '10.0.9.9' }], securityGroups: ['web'] },
      { id: 'b', mac: 'fa:16:3e:00:00:02', fixedIps: [{ ipAddress: '10.0.0.2' }], allowedAddressPairs: [], securityGroups: ['web', 'db'] },
      { id: 'c', mac: 'fa:16:3e:00:00:03', fixedIps: [{ ipAddress: '10.0.0.3' }], allowedAddressPairs: [], securityGroups: ['db'] },
    ];
    const info = securityGroupInfoFor([ports[0]], ports, groups, parseAddressGroups({ office: ['192.0.2.0/24'] }, FILE));
    expect(Object.keys(info.rules)).to.deep.equal(['web']);
    expect(info.members).to.deep.equal({
      web: {
        IPv4: [
          ['10.0.0.1', 'fa:16:3e:00:00:01'],
          ['10.0.9.9', 'fa:16:3e:00:00:aa'],
          ['10.0.0.2', 'fa:16:3e:00:00:02'],
        ],
        IPv6: [],
      },
      office: { IPv4: [['192.0.2.0/24', null]], IPv6: [] },
    });
  });
});
