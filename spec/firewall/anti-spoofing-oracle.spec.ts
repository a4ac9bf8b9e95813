/**
 * br-int's ARP/ND/MAC anti-spoofing flows (lib/bridges/anti-spoofing.ts)
 * against Neutron 21.0.0's own code: python3-neutron's
 * `setup_arp_spoofing_protection` over its native br_int
 * (testing/neutron_spoofing_oracle.py) and ours, step by step (ports
 * protected, addresses changed, port security turned off, ports gone), each
 * loaded into a real bridge: the two dump identically after every step.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { SpoofingPort } from '../../lib/bridges/anti-spoofing.js';
import { IntegrationBridge } from '../../lib/bridges/index.js';
import { SYSTEM_PYTHON } from '../../testing/neutron-firewall-oracle.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { changesToOfctlLines, takeChanges } from './helpers.js';

const ORACLE = join(dirname(fileURLToPath(import.meta.url)), '../../testing/neutron_spoofing_oracle.py');

interface Step {
  ports?: SpoofingPort[];
  removed?: number[];
}

function runNeutron(steps: Step[]): string[][] {
  const scenario = {
    steps: steps.map((s) => ({
      ports: (s.ports ?? []).map((p) => ({
        ofport: p.ofport, mac: p.macAddress, fixed_ips: p.fixedIps,
        allowed_address_pairs: p.allowedAddressPairs.map((a) => ({ ip_address: a.ipAddress, ...(a.macAddress ? { mac_address: a.macAddress } : {}) })),
        port_security_enabled: p.portSecurityEnabled, device_owner: p.deviceOwner,
      })),
      removed: s.removed ?? [],
    })),
  };
  return (JSON.parse(execFileSync(SYSTEM_PYTHON, [ORACLE], { input: JSON.stringify(scenario), encoding: 'utf8' })) as { steps: string[][] }).steps;
}

const port = (ofport: number, o: Partial<SpoofingPort> = {}): SpoofingPort => ({
  ofport, macAddress: `fa:16:3e:00:00:${ofport.toString(16).padStart(2, '0')}`, fixedIps: [`10.0.0.${ofport}`],
  allowedAddressPairs: [], portSecurityEnabled: true, deviceOwner: 'compute:nova', ...o,
});

const STEPS: Step[] = [
  {
    ports: [
      port(5, { fixedIps: ['10.0.0.5', '2001:db8::5'], allowedAddressPairs: [{ ipAddress: '10.0.9.7/24', macAddress: 'fa:16:3e:00:00:99' }, { ipAddress: '2001:db8:1::/64', macAddress: 'fa:16:3e:00:00:05' }] }),
      port(6),
      port(7, { portSecurityEnabled: false }),
      port(8, { deviceOwner: 'network:dhcp' }),
      port(9, { fixedIps: ['2001:db8::9'] }),
      port(10, { allowedAddressPairs: [{ ipAddress: '::/0', macAddress: 'fa:16:3e:00:00:0a' }] }),
      port(11, { fixedIps: [], allowedAddressPairs: [{ ipAddress: '10.0.0.0/8', macAddress: 'FA:16:3E:AA:BB:CC' }] }),
    ],
  },
  // An allowed address pair added, another port's pairs dropped.
  { ports: [port(6, { allowedAddressPairs: [{ ipAddress: '10.0.0.66', macAddress: 'fa:16:3e:00:00:66' }] }), port(5, { fixedIps: ['10.0.0.5', '2001:db8::5'] })] },
  // A /0 IPv4 pair: only the MAC flows stay. Port security turned off; a port becomes the network's.
  { ports: [port(6, { allowedAddressPairs: [{ ipAddress: '0.0.0.0/0', macAddress: 'fa:16:3e:00:00:66' }] }), port(9, { fixedIps: ['2001:db8::9'], portSecurityEnabled: false }), port(11, { deviceOwner: 'network:router_interface' })] },
  // Back to specific addresses; a port security turned on again; a port gone.
  { ports: [port(6, { fixedIps: ['10.0.0.6', '10.0.0.60'] }), port(7)], removed: [5] },
];

describe('ARP/ND/MAC anti-spoofing flows against Neutron 21.0.0\'s agent @integration', function () {
  this.timeout(60_000);
  let sb: OvsSandbox | undefined;
  let dir: string;

  before(async () => {
    sb = await OvsSandbox.start();
    dir = mkdtempSync(join(tmpdir(), 'spoof-oracle-'));
    for (const br of ['br-neutron', 'br-ours']) {
      await sb.vsctl('add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'fail_mode=secure', 'protocols=OpenFlow13');
    }
  });

  after(async () => {
    await sb?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function load(br: string, lines: string): Promise<void> {
    writeFileSync(join(dir, br), lines);
    await sb!.ofctl('-O', 'OpenFlow13', '--bundle', 'add-flows', br, join(dir, br));
  }

  async function dump(br: string): Promise<string[]> {
    const out = await sb!.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', br);
    return out.split('\n').filter((l) => l.includes('actions=')).map((l) => l.trim().replace(/^cookie=0x[0-9a-f]+, /, '')).sort();
  }

  it('installs, updates and removes the same flows as Neutron\'s setup_arp_spoofing_protection', async () => {
    const neutron = runNeutron(STEPS);
    const ours = new IntegrationBridge('br-ours', 0x1234n);
    const byOfport = new Map<number, string>();
    for (const [i, step] of STEPS.entries()) {
      for (const p of step.ports ?? []) {
        byOfport.set(p.ofport, `port-${p.ofport}`);
        ours.setPortAntiSpoofing(`port-${p.ofport}`, p);
      }
      for (const o of step.removed ?? []) ours.removePortAntiSpoofing(byOfport.get(o)!);
      await load('br-ours', changesToOfctlLines(takeChanges(ours.flows)));
      await sb!.ofctl('-O', 'OpenFlow13', 'del-flows', 'br-neutron');
      await load('br-neutron', `${neutron[i].join('\n')}\n`);
      const theirs = await dump('br-neutron');
      expect(await dump('br-ours'), `step ${i}`).to.deep.equal(theirs);
      expect(theirs.length, `step ${i}: Neutron installs flows`).to.be.greaterThan(5);
    }
  });
});
