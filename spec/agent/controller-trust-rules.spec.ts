import { expect } from 'chai';
import { isLoopback, listenAddressWarning, newSwitchDescription, refusalLog } from '../../lib/agent/ovs/controller-trust.js';
import type { Logger } from '../../lib/log.js';

describe('controller trust: the rules without a switch', () => {
  it('tells loopback listen addresses from the others', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a), a).to.equal(true);
    for (const a of ['0.0.0.0', '::', '10.0.0.1', '192.0.2.7', '2001:db8::1', '::ffff:10.0.0.1']) expect(isLoopback(a), a).to.equal(false);
  });

  it('warns about a listener reachable from other hosts, naming the address, the port and the risk', () => {
    expect(listenAddressWarning('127.0.0.1', 6633)).to.equal(undefined);
    const w = listenAddressWarning('0.0.0.0', 6633)!;
    expect(w).to.match(/of_listen_address = 0\.0\.0\.0/).and.match(/port 6633/).and.match(/no authentication and no TLS/);
  });

  it('makes a different switch description at every start, short enough for OFPMP_DESC', () => {
    const a = newSwitchDescription();
    expect(a).to.match(/^ovs-agent [0-9a-f]{24}$/);
    expect(a.length).to.be.below(256);
    expect(newSwitchDescription()).to.not.equal(a);
  });

  it('logs at most a burst of refusals per window, then how many more there were', async () => {
    const warnings: string[] = [];
    const log = { warn: (m: string) => warnings.push(m), info: () => undefined, debug: () => undefined, error: () => undefined } as unknown as Logger;
    const r = refusalLog(log, 3, 100);
    for (let i = 0; i < 20; i++) r.refused(new Error(`peer ${i} refused`));
    expect(warnings).to.deep.equal(['peer 0 refused', 'peer 1 refused', 'peer 2 refused']);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(warnings.slice(3)).to.deep.equal(['17 more OpenFlow peers refused or failing their handshake in the last 0.1 s']);
    r.refused(new Error('peer 20 refused'));
    expect(warnings.at(-1)).to.equal('peer 20 refused');
  });
});
