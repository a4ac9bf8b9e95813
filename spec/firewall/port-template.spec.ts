/**
 * Ports' flows are stamped from templates (lib/firewall/port-template.ts):
 * the builders run once per shape with placeholders, and each port gets the
 * template's keys with its own bytes in. Stamped flows must be exactly what
 * the builders give for the same port: the same keys (byte for byte, and
 * one-byte strings) and instructions that encode the same, in the same order.
 */
import { expect } from 'chai';
import type { AddressPair, NetworkType } from '../../lib/control-plane/types.js';
import { filteredPortBaseFlows, type PortMode } from '../../lib/firewall/base-flows.js';
import { dlType } from '../../lib/firewall/flow-parts.js';
import type { FirewallPort } from '../../lib/firewall/index.js';
import { PortTemplates } from '../../lib/firewall/port-template.js';
import {
  conjunctionAcceptFlows, conjunctionPortFlows, normalizeRule, plainRuleFlows, type NormalizedRule,
} from '../../lib/firewall/rules.js';
import { instructionBytes } from '../../lib/flows/actions.js';
import { flowText, type DesiredFlow } from '../../lib/flows/flow.js';
import { prng } from '../support/prng.js';

function spelled(flows: readonly DesiredFlow[]): string[] {
  return flows.map((f) => `${Buffer.from(f.key, 'latin1').toString('hex')} ${Buffer.from(instructionBytes(f.instructions), 'latin1').toString('hex')}  ${flowText(f)}`);
}

function randomPort(r: () => number, i: number): FirewallPort {
  const int = (n: number): number => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  const mac = (): string => `fa:16:3e:${hex(int(256))}:${hex(int(256))}:${hex(int(256))}`;
  const v4 = (): string => `10.${int(256)}.${int(256)}.${1 + int(254)}`;
  const v6 = (): string => `2001:db8:${int(0xffff).toString(16)}::${(1 + int(0xfffe)).toString(16)}`;
  const aaps: AddressPair[] = [];
  // Most ports have none; some have pairs with blocks, /0 and MACs of their own.
  if (r() < 0.3) {
    for (let k = 1 + int(3); k > 0; k--) {
      aaps.push({ ipAddress: pick([v4(), `${v4()}/32`, '10.9.0.0/16', '0.0.0.0/0', v6(), '2001:db8:9::/48', '::/0']), macAddress: r() < 0.5 ? mac() : '' });
    }
  }
  const networkType = pick(['vlan', 'flat', 'vxlan', 'geneve'] as NetworkType[]);
  return {
    portId: `port-${i}`,
    ofport: 1 + int(65000),
    lvid: 1 + int(4094),
    macAddress: r() < 0.1 ? mac().toUpperCase() : mac(),
    fixedIps: pick([[v4()], [v6()], [v4(), v6()], [], [v4(), v4()]]),
    allowedAddressPairs: aaps,
    portSecurityEnabled: true,
    securityGroups: [],
    networkType,
    segmentationId: networkType === 'flat' || r() < 0.1 ? undefined : 1 + int(4000),
  };
}

describe('firewall port templates', () => {
  for (const permitted of [[], ['0x4008', '0x88cc']]) {
    it(`stamps every port's base flows as the builders build them (permitted ethertypes: ${permitted.join(', ') || 'none'})`, () => {
      const r = prng(permitted.length + 7);
      const opts = { permittedEthertypes: permitted.map((et) => dlType(et)) };
      const templates = new PortTemplates(opts);
      let stamped = 0;
      for (let i = 0; i < 400; i++) {
        const p = randomPort(r, i);
        const mode: PortMode = r() < 0.3 ? 'stateless' : 'stateful';
        const got = templates.baseFlows(p, mode);
        const want = filteredPortBaseFlows(p, opts, mode);
        expect(spelled(got), `port ${i}: ${JSON.stringify(p)} ${mode}`).to.deep.equal(spelled(want));
        // One byte per char: a key that holds a placeholder's char, or is a two-byte string, would not.
        for (const f of got) expect(Buffer.byteLength(f.key, 'latin1')).to.equal(f.key.length);
        stamped += got.length;
      }
      expect(stamped).to.be.greaterThan(400 * 30);
    });
  }

  it("rebases a port's rule flows onto its ofport as the builders build them", () => {
    const r = prng(3);
    const int = (n: number): number => Math.floor(r() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
    const templates = new PortTemplates({ permittedEthertypes: [] });
    for (let shape = 0; shape < 60; shape++) {
      const rules: NormalizedRule[] = [];
      for (let k = 1 + int(6); k > 0; k--) {
        const ethertype = pick(['IPv4', 'IPv6'] as const);
        const protocol = pick([undefined, 'tcp', 'udp', 'icmp', '112']);
        const lo = 1 + int(60000);
        rules.push(normalizeRule({
          securityGroupId: 'sg', direction: pick(['ingress', 'egress'] as const), ethertype, protocol,
          portRangeMin: protocol === 'tcp' || protocol === 'udp' ? lo : protocol === 'icmp' ? int(256) : undefined,
          portRangeMax: protocol === 'tcp' || protocol === 'udp' ? lo + int(2000) : undefined,
          remoteIpPrefix: r() < 0.3 ? (ethertype === 'IPv4' ? '192.168.0.0/16' : '2001:db8::/32') : undefined,
        }));
      }
      const stateless = r() < 0.3;
      const conj = 8 * (1 + int(1000));
      const build = (ofport: number): DesiredFlow[] => [
        ...rules.flatMap((rule) => plainRuleFlows(rule, ofport, stateless)),
        ...rules.flatMap((rule) => conjunctionPortFlows({ rule, conjIds: [conj, conj + 8] }, ofport, stateless)),
        ...rules.flatMap((rule) => conjunctionAcceptFlows(conj + 2, rule.direction, rule.ethertype, ofport, stateless)),
      ];
      for (let n = 0; n < 5; n++) {
        const ofport = 1 + int(65000);
        const got = templates.ruleFlows(ofport, `shape ${shape}`, [], build);
        expect(spelled(got), `shape ${shape}, ofport ${ofport}`).to.deep.equal(spelled(build(ofport)));
      }
    }
  });
});
