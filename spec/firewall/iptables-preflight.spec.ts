import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HYBRID_TOOLS, hybridPreflight, NFT_TOOLS } from '../../lib/firewall/iptables/preflight.js';

describe('iptables_hybrid start-up checks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hybrid-preflight-'));
  const bin = join(dir, 'bin');
  const sys = join(dir, 'sys');
  mkdirSync(bin);
  mkdirSync(join(sys, 'net/bridge'), { recursive: true });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names every tool it cannot find', () => {
    symlinkSync('/usr/sbin/ipset', join(bin, 'ipset'));
    expect(() => hybridPreflight({ PATH: bin }, sys, [])).to.throw(/needs iptables-save, iptables-restore, ip6tables-save, ip6tables-restore, conntrack on the PATH/);
  });

  it('warns when bridged frames bypass iptables, and is quiet when they do not', () => {
    for (const t of HYBRID_TOOLS) if (t !== 'ipset') symlinkSync(`/usr/sbin/${t}`, join(bin, t));
    writeFileSync(join(sys, 'net/bridge/bridge-nf-call-iptables'), '0\n');
    expect(hybridPreflight({ PATH: bin }, sys, [])).to.deep.equal([
      'net.bridge.bridge-nf-call-iptables = 0: bridged VM traffic bypasses iptables and is NOT filtered; set it to 1',
      'net.bridge.bridge-nf-call-ip6tables does not exist (br_netfilter not loaded): bridged VM traffic bypasses iptables and is NOT filtered',
    ]);
    writeFileSync(join(sys, 'net/bridge/bridge-nf-call-iptables'), '1\n');
    writeFileSync(join(sys, 'net/bridge/bridge-nf-call-ip6tables'), '1\n');
    expect(hybridPreflight({ PATH: bin }, sys, [])).to.deep.equal([]);
  });

  it('the nftables backend needs nft and conntrack, not the iptables tools', () => {
    const only = join(dir, 'nft-bin');
    mkdirSync(only);
    symlinkSync('/usr/sbin/conntrack', join(only, 'conntrack'));
    expect(() => hybridPreflight({ PATH: only }, sys, [], NFT_TOOLS)).to.throw(/needs nft on the PATH/);
    symlinkSync('/usr/sbin/nft', join(only, 'nft'));
    expect(hybridPreflight({ PATH: only }, sys, [], NFT_TOOLS)).to.deep.equal([]);
  });
});
