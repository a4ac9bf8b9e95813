import { expect } from 'chai';
import { formatAddress, parseConnectAddress, parseListenAddress } from '@ovs-agent/openflow';
import { OpenFlowConnectionError } from '@ovs-agent/openflow';
import { SentWindow } from '../../../protocol/openflow/connection/sent-window.js';

describe('openflow connection: addresses', () => {
  it('parses the OVS spellings of connect and listen addresses', () => {
    expect(parseConnectAddress('tcp:127.0.0.1:6653')).to.deep.equal({ kind: 'tcp', host: '127.0.0.1', port: 6653 });
    expect(parseConnectAddress('tcp:10.0.0.1')).to.deep.equal({ kind: 'tcp', host: '10.0.0.1', port: 6653 });
    expect(parseConnectAddress('tcp:[::1]:6633')).to.deep.equal({ kind: 'tcp', host: '::1', port: 6633 });
    expect(parseConnectAddress('unix:/run/openvswitch/br-int.mgmt')).to.deep.equal({ kind: 'unix', path: '/run/openvswitch/br-int.mgmt' });
    expect(parseListenAddress('ptcp:0:127.0.0.1')).to.deep.equal({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('ptcp:6633')).to.deep.equal({ kind: 'tcp', host: '127.0.0.1', port: 6633 });
    expect(parseListenAddress('ptcp:')).to.deep.equal({ kind: 'tcp', host: '127.0.0.1', port: 6633 });
    expect(formatAddress({ kind: 'tcp', host: '::1', port: 6653 })).to.equal('tcp:[::1]:6653');
  });

  it('rejects malformed addresses with BAD_ADDRESS naming the address', () => {
    for (const bad of ['ssl:1.2.3.4:6653', 'tcp:1.2.3.4:99999', 'tcp::6653', 'unix:', 'tcp:[::1', 'tcp:h:x']) {
      expect(() => parseConnectAddress(bad), bad).to.throw(OpenFlowConnectionError, bad).with.property('code', 'OF_CONN_BAD_ADDRESS');
    }
    expect(() => parseListenAddress('tcp:1.2.3.4:1')).to.throw(OpenFlowConnectionError).with.property('code', 'OF_CONN_BAD_ADDRESS');
  });
});

describe('openflow connection: SentWindow', () => {
  it('remembers the last N xids, forgets older ones, and releases confirmed ranges', () => {
    const w = new SentWindow<string>(5);
    expect(w.capacity).to.equal(8);
    for (let xid = 1; xid <= 20; xid++) w.record(xid, `m${xid}`);
    expect(w.get(20)).to.equal('m20');
    expect(w.get(13)).to.equal('m13');
    expect(w.get(12), 'overwritten by xid 20').to.equal(undefined);
    w.release(14, 17);
    expect([w.get(14), w.get(15), w.get(17), w.get(18)]).to.deep.equal(['m14', undefined, undefined, 'm18']);
  });

  it('handles xids that wrap around 2^32', () => {
    const w = new SentWindow<number>(16);
    const xids = [0xfffffffe, 0xffffffff, 1, 2];
    for (const x of xids) w.record(x, x);
    expect(xids.map((x) => w.get(x))).to.deep.equal(xids);
    w.release(0xfffffffd, 1);
    expect(xids.map((x) => w.get(x))).to.deep.equal([undefined, undefined, undefined, 2]);
  });

  it('starts small and grows to N only while unconfirmed messages fill it', () => {
    const w = new SentWindow<number>(64, 4);
    expect(w.capacity).to.equal(64);
    // Confirmed as they go: the ring never needs more than its 4 slots, and still answers for the recent ones.
    for (let xid = 1; xid <= 100; xid++) {
      w.record(xid, xid);
      w.release(xid - 2, xid - 1);
    }
    expect([w.get(100), w.get(99)]).to.deep.equal([100, undefined]);
    // 50 unconfirmed: all remembered (grown to 64), across the wrap at 2^32 too.
    const start = 0xffffffff - 20;
    for (let i = 0; i < 50; i++) w.record((start + i) >>> 0, i);
    expect(Array.from({ length: 50 }, (_, i) => w.get((start + i) >>> 0))).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
    // Past N unconfirmed, the oldest are overwritten as before.
    for (let i = 50; i < 80; i++) w.record((start + i) >>> 0, i);
    expect([w.get(start), w.get((start + 15) >>> 0), w.get((start + 16) >>> 0), w.get((start + 79) >>> 0)]).to.deep.equal([undefined, undefined, 16, 79]);
  });

  it('grows as many times as a slot needs: two unconfirmed xids 8 apart in a ring of 4', () => {
    const w = new SentWindow<string>(64, 4);
    w.record(1, 'a');
    w.record(9, 'b');
    expect([w.get(1), w.get(9)]).to.deep.equal(['a', 'b']);
  });
});
