import { expect } from 'chai';
import { LocalVlanManager, VlanPoolExhaustedError } from '../../lib/agent/local-vlans.js';

describe('agent local VLAN manager', () => {
  it('gives each network its own id, low first, and takes it back with reclaim', () => {
    const m = new LocalVlanManager();
    expect(m.provision('a', 'vlan', 100, 'physnet1').lvid).to.equal(1);
    expect(m.provision('b', 'vxlan', 1000).lvid).to.equal(2);
    expect(m.provision('a', 'vlan', 100, 'physnet1').lvid, 'same network, same id').to.equal(1);
    expect(m.reclaim('a')?.lvid).to.equal(1);
    expect(m.get('a')).to.equal(undefined);
    expect(m.provision('c', 'flat', undefined, 'physnet1').lvid, 'reclaimed id reused').to.equal(1);
  });

  it('reuses the ids read back from Port rows after a restart and keeps them from other networks', () => {
    const m = new LocalVlanManager();
    m.addHint('net-b', 1000, 7);
    m.addHint('net-a', 100, 1);
    expect(m.provision('net-new', 'vxlan', 5).lvid, 'hinted ids are reserved').to.equal(2);
    expect(m.provision('net-b', 'vxlan', 1000).lvid).to.equal(7);
    expect(m.provision('net-a', 'vlan', 100).lvid).to.equal(1);
    m.addHint('net-x', 1, 9);
    m.releaseUnusedHints();
    expect(m.provision('net-y', 'vxlan', 6).lvid).to.equal(3);
  });

  it('ignores a hint for a segmentation id the network no longer has', () => {
    const m = new LocalVlanManager();
    m.addHint('net-a', 100, 5);
    expect(m.provision('net-a', 'vlan', 200).lvid).to.equal(1);
  });

  it('fails only the network that finds the pool exhausted', () => {
    const m = new LocalVlanManager(2);
    m.provision('a', 'vxlan', 1);
    m.provision('b', 'vxlan', 2);
    expect(() => m.provision('c', 'vxlan', 3)).to.throw(VlanPoolExhaustedError, 'network c');
    expect(m.get('a')?.lvid).to.equal(1);
    m.reclaim('a');
    expect(m.provision('c', 'vxlan', 3).lvid).to.equal(1);
  });

  it('can hand out all 4094 ids and no more', () => {
    const m = new LocalVlanManager();
    const ids = new Set<number>();
    for (let i = 0; i < 4094; i++) ids.add(m.provision(`n${i}`, 'vxlan', i + 1).lvid);
    expect(ids.size).to.equal(4094);
    expect(Math.min(...ids)).to.equal(1);
    expect(Math.max(...ids)).to.equal(4094);
    expect(() => m.provision('one-more', 'vxlan', 9999)).to.throw(VlanPoolExhaustedError);
  });
});
