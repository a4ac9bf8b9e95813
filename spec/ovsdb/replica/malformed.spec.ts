// A live replica fed bad data by a scripted server: an ill-typed update or
// bytes that are not JSON must leave the replica as it was (no partial
// application), be reported, and end in a reconnection that resynchronizes.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { OvsdbProtocolError } from '@ovs-agent/ovsdb';
import { Replica } from '@ovs-agent/ovsdb';
import type { ReplicaRow, ResyncInfo, RowEvent } from '@ovs-agent/ovsdb';
import { FakeServer } from '../core/fake-server.js';
import type { FakePeer } from '../core/fake-server.js';

const SCHEMA = JSON.parse(readFileSync('/usr/share/openvswitch/vswitch.ovsschema', 'utf8')) as unknown;
const ZERO = '00000000-0000-0000-0000-000000000000';
const B1 = '11111111-1111-1111-1111-111111111111';
const B2 = '22222222-2222-2222-2222-222222222222';

/** Plays ovsdb-server for one connection: answers get_schema and the monitor with `rows`; returns the monitor id. */
async function serve(peer: FakePeer, rows: Record<string, { initial: Record<string, unknown> }>): Promise<unknown> {
  for (;;) {
    const req = await peer.next();
    if (req.method === 'get_schema') {
      peer.send(JSON.stringify({ id: req.id, result: SCHEMA, error: null }));
    } else if (req.method === 'monitor_cond_since') {
      peer.send(JSON.stringify({ id: req.id, result: [false, ZERO, { Bridge: rows }], error: null }));
      return req.params[1];
    } else {
      throw new Error(`unexpected request ${req.method}`);
    }
  }
}

function once<T>(r: Replica, event: 'resync' | 'error'): Promise<T> {
  return new Promise((resolve) => r.once(event, resolve as (v: unknown) => void));
}

describe('ovsdb replica fed malformed data by the server', () => {
  let fake: FakeServer;
  let replica: Replica | undefined;
  beforeEach(async () => {
    fake = await FakeServer.start();
  });
  afterEach(async () => {
    await replica?.close();
    replica = undefined;
    await fake.stop();
  });

  it('rejects an ill-typed update whole, keeps its rows, reconnects and resyncs', async () => {
    const starting = Replica.start({ remote: fake.remote, tables: { Bridge: { columns: ['name', 'stp_enable'] } }, backoffMs: 20, inactivityProbeMs: 0 });
    const first = await fake.accepted();
    const monitorId = await serve(first, { [B1]: { initial: { name: 'br0' } }, [B2]: { initial: { name: 'br1' } } });
    replica = await starting;
    const r = replica;
    const br0 = r.get('Bridge', B1)!;
    const br1 = r.get('Bridge', B2)!;
    const events: RowEvent[] = [];
    r.watchAll((e) => events.push(e));

    // B1's change is well-formed, B2's is not: neither may be applied.
    const failed = once<Error>(r, 'error');
    const resynced = once<ResyncInfo>(r, 'resync');
    first.send(
      JSON.stringify({
        id: null,
        method: 'update3',
        params: [monitorId, '33333333-3333-3333-3333-333333333333', { Bridge: { [B1]: { modify: { stp_enable: true } }, [B2]: { modify: { name: 42 } } } }],
      }),
    );
    const err = await failed;
    expect(err).to.be.instanceOf(OvsdbProtocolError);
    expect(err.message).to.contain('Bridge').and.to.contain('name');
    expect(r.get('Bridge', B1)).to.equal(br0);
    expect(r.get('Bridge', B2)).to.equal(br1);
    expect(br0.stp_enable).to.equal(false);
    expect(events).to.deep.equal([]);

    // The replica drops that connection and starts over; the server now holds another state.
    const second = await fake.accepted();
    await serve(second, { [B1]: { initial: { name: 'br0', stp_enable: true } } });
    const info = await resynced;
    expect(info).to.deep.include({ reconnects: 1, found: false, changes: 2 });
    expect(events.map((e) => `${e.kind} ${(e.row as ReplicaRow).name}`).sort()).to.deep.equal(['delete br1', 'update br0']);
    expect(r.get('Bridge', B1)!.stp_enable).to.equal(true);
    expect(r.table('Bridge').size).to.equal(1);
  });

  it('survives bytes that are not JSON in the middle of the stream, and resyncs', async () => {
    const starting = Replica.start({ remote: fake.remote, tables: { Bridge: { columns: ['name'] } }, backoffMs: 20, inactivityProbeMs: 0 });
    const first = await fake.accepted();
    await serve(first, { [B1]: { initial: { name: 'br0' } } });
    replica = await starting;
    const r = replica;
    const row = r.get('Bridge', B1);
    const resynced = once<ResyncInfo>(r, 'resync');
    first.send('{"id": null, "method": "update3", "params": [nope]}');
    const second = await fake.accepted();
    expect(r.get('Bridge', B1)).to.equal(row);
    await serve(second, { [B1]: { initial: { name: 'br0' } }, [B2]: { initial: { name: 'br9' } } });
    const info = await resynced;
    expect(info).to.deep.include({ reconnects: 1, changes: 1 });
    expect(r.get('Bridge', B1)).to.equal(row);
    expect(r.get('Bridge', B2)!.name).to.equal('br9');
  });
});
