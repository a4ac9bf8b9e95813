/**
 * Records what a real ovs-vswitchd sends to its controller. A TCP listener
 * plays the controller of a sandbox bridge (`set-controller br0 tcp:...`);
 * the session provokes every kind of message the switch sends (features,
 * config, multipart replies, role and async replies, echo, errors, port
 * status, packet-in, flow-removed, bundle replies) and keeps the raw bytes
 * of each, by name.
 */
import net from 'node:net';
import {
  decodeMessage,
  encodeMessage,
  flowMod,
  flowStatsRequest,
  multipartRequest,
  OFP_VERSION,
  OFPBF,
  OFPFF,
  OFPG,
  OFPM,
  OFPP,
  OfWriter,
} from '@ovs-agent/openflow';
import type { OpenFlowMessage } from '@ovs-agent/openflow';
import { OvsSandbox } from '../../../../testing/sandbox.js';
import { apply, output } from './build.js';

/** A minimal controller-side session: frames messages and waits for replies by xid or type. */
export class Session {
  private pending = Buffer.alloc(0);
  private inbox: Buffer[] = [];
  private waiters: (() => void)[] = [];
  private readonly w = new OfWriter(4096);
  private closed = false;

  constructor(private readonly sock: net.Socket) {
    sock.on('data', (chunk) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 8) {
        const len = this.pending.readUInt16BE(2);
        if (this.pending.length < len) break;
        this.inbox.push(Buffer.from(this.pending.subarray(0, len)));
        this.pending = this.pending.subarray(len);
      }
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(msg: OpenFlowMessage, version: number = OFP_VERSION.OF13): void {
    this.w.reset();
    encodeMessage(this.w, msg, version);
    this.sock.write(this.w.take());
  }

  sendRaw(bytes: Buffer): void {
    this.sock.write(bytes);
  }

  /** The first received message matching `pred` (removed from the inbox). */
  async take(pred: (m: Buffer) => boolean, what: string, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex(pred);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  byXid(xid: number, what: string): Promise<Buffer> {
    return this.take((m) => m.readUInt32BE(4) === xid, what);
  }

  byType(type: number, what: string, timeoutMs?: number): Promise<Buffer> {
    return this.take((m) => m[1] === type, what, timeoutMs);
  }

  close(): void {
    this.sock.destroy();
  }
}

const T = { ERROR: 1, ECHO_REPLY: 3, PACKET_IN: 10, FLOW_REMOVED: 11, PORT_STATUS: 12, BARRIER_REPLY: 21 } as const;

/** An Ethernet/IPv4/UDP frame, as ovs-appctl netdev-dummy/receive takes it (hex). */
const PACKET_HEX =
  'fa163e000002fa163e000001080045000024000000004011f9c40a0000010a000002' + '04d2162e00100000' + '6869212121210a00';

export async function captureVswitchd(): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const sb = await OvsSandbox.start();
  const server = net.createServer();
  let session: Session | undefined;
  try {
    await sb.vsctl(
      'add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev', 'fail-mode=secure',
      '--', 'add-port', 'br0', 'p1', '--', 'set', 'interface', 'p1', 'ofport_request=1',
      '--', 'add-port', 'br0', 'p2', '--', 'set', 'interface', 'p2', 'ofport_request=2',
    );
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await sb.vsctl('set-controller', 'br0', `tcp:127.0.0.1:${port}`);
    const s = (session = new Session(await accepted));

    out.set('hello', await s.byType(0, 'HELLO'));
    s.send({ type: 'hello', xid: 1, versions: [OFP_VERSION.OF13] });
    const ask = async (name: string, msg: OpenFlowMessage): Promise<Buffer> => {
      s.send(msg);
      const reply = await s.byXid(msg.xid!, name);
      out.set(name, reply);
      return reply;
    };

    await ask('features_reply', { type: 'features_request', xid: 2 });
    await ask('get_config_reply', { type: 'get_config_request', xid: 3 });
    await ask('echo_reply', { type: 'echo_request', xid: 4, data: Buffer.from('ping') });
    await ask('role_reply', { type: 'role_request', xid: 5, role: 'master', generationId: 7n });
    s.send({ type: 'set_async', xid: 6, packetInMask: [0x7, 0x1], portStatusMask: [0x7, 0x7], flowRemovedMask: [0xf, 0x0] });
    await ask('get_async_reply', { type: 'get_async_request', xid: 7 });
    await ask('mp_desc', multipartRequest({ kind: 'desc' }, 8));
    await ask('mp_port_desc', multipartRequest({ kind: 'port_desc' }, 9));

    // Flows, a group and a meter to describe.
    s.send(flowMod({ xid: 10, tableId: 0, priority: 10, cookie: 0x11n, match: { in_port: 1 }, instructions: apply(output(OFPP.CONTROLLER, 128)) }));
    s.send(
      flowMod({
        xid: 11,
        tableId: 1,
        priority: 20,
        cookie: 0x22n,
        flags: OFPFF.SEND_FLOW_REM,
        match: { eth_type: 0x0800, ip_src: '10.0.0.1', reg0: { value: 5, mask: 0xff } },
        instructions: [...apply({ type: 'set_field', field: 'reg1', value: 9 }), { type: 'goto_table', tableId: 2 }],
      }),
    );
    s.send({ type: 'group_mod', xid: 12, command: 'add', groupType: 'select', groupId: 1, buckets: [{ weight: 10, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions: [output(2)] }] });
    s.send({ type: 'meter_mod', xid: 13, command: 'add', flags: 1 | 4, meterId: 1, bands: [{ type: 'drop', rate: 1000, burstSize: 100 }] });
    await ask('barrier_reply', { type: 'barrier_request', xid: 14 });

    await ask('mp_flow', flowStatsRequest({}, 15));
    await ask('mp_aggregate', multipartRequest({ kind: 'aggregate', tableId: 0xff, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: {} }, 16));
    await ask('mp_port_stats', multipartRequest({ kind: 'port_stats', portNo: 1 }, 17));
    await ask('mp_group_desc', multipartRequest({ kind: 'group_desc' }, 18));
    await ask('mp_group', multipartRequest({ kind: 'group', groupId: OFPG.ALL }, 19));
    await ask('mp_meter_config', multipartRequest({ kind: 'meter_config', meterId: OFPM.ALL }, 20));
    await ask('mp_meter', multipartRequest({ kind: 'meter', meterId: OFPM.ALL }, 21));
    // TABLE stats for 255 tables spans several replies with OFPMPF_MORE: keep the first.
    await ask('mp_table', multipartRequest({ kind: 'table' }, 22));

    // Errors: a bad table id, an output to a port that cannot exist, an unknown OXM field.
    await ask('error_bad_table', flowMod({ xid: 23, tableId: 0xfe + 1, instructions: [] }));
    await ask('error_bad_out_port', flowMod({ xid: 24, instructions: apply(output(0xffffff00 + 1)) }));
    const w = new OfWriter(256);
    encodeMessage(w, flowMod({ xid: 25, match: { in_port: 1 } }));
    const unknownField = w.take();
    unknownField.writeUInt32BE(0x80007804, 0x34); // OXM_OF field 60, 4 bytes: not a field OpenFlow 1.3 defines.
    s.sendRaw(unknownField);
    out.set('error_bad_field', await s.byXid(25, 'error_bad_field'));

    // A bundle whose second flow is bad: the commit fails with an ONF bundle error.
    const flags = OFPBF.ATOMIC | OFPBF.ORDERED;
    await ask('bundle_open_reply', { type: 'bundle_control', xid: 26, bundleId: 9, ctrlType: 'open_request', flags });
    s.send({ type: 'bundle_add_message', xid: 27, bundleId: 9, flags, message: flowMod({ priority: 1, match: { in_port: 2 } }) });
    s.send({ type: 'bundle_add_message', xid: 28, bundleId: 9, flags, message: flowMod({ tableId: 0xff, priority: 1 }) });
    s.send({ type: 'bundle_control', xid: 29, bundleId: 9, ctrlType: 'commit_request', flags });
    out.set('bundle_add_error', await s.byXid(28, 'error for the bad bundled flow'));
    // OVS rejects the bad flow when it is added; the commit then succeeds with the rest.
    out.set('bundle_commit_reply', await s.byXid(29, 'reply to the commit'));
    // Committing a bundle that does not exist: an ONF experimenter error in OpenFlow 1.3.
    await ask('error_bundle_bad_id', { type: 'bundle_control', xid: 31, bundleId: 77, ctrlType: 'commit_request', flags });
    // A conjunction mixed with other actions: a Nicira experimenter error.
    await ask(
      'error_nx_conjunction',
      flowMod({ xid: 32, instructions: apply({ type: 'conjunction', id: 1, clause: 1, nClauses: 2 }, output(1)) }),
    );

    // Asynchronous messages.
    await sb.vsctl('add-port', 'br0', 'p3', '--', 'set', 'interface', 'p3', 'ofport_request=3');
    out.set('port_status', await s.byType(T.PORT_STATUS, 'PORT_STATUS'));
    await sb.appctl('ovs-vswitchd', 'netdev-dummy/receive', 'p1', PACKET_HEX);
    out.set('packet_in', await s.byType(T.PACKET_IN, 'PACKET_IN'));
    s.send(flowMod({ xid: 30, command: 'delete', tableId: 1, cookie: 0x22n, cookieMask: 0xffn }));
    out.set('flow_removed', await s.byType(T.FLOW_REMOVED, 'FLOW_REMOVED'));
    return out;
  } finally {
    session?.close();
    server.close();
    await sb.stop();
  }
}

/**
 * An OpenFlow 1.4 PORT_DESC reply, PORT_STATUS and GET_ASYNC_REPLY (after our
 * OF1.4 SET_ASYNC), from ovs-vswitchd
 * talking to us as its controller in 1.4 (the bridge allows 1.3 and 1.4; we
 * offer only 1.4).
 */
export async function captureOf14Ports(): Promise<{ portDesc: Buffer; portStatus: Buffer; asyncReply: Buffer }> {
  const sb = await OvsSandbox.start();
  const server = net.createServer();
  let session: Session | undefined;
  try {
    await sb.vsctl(
      'add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev', 'fail-mode=secure',
      'protocols=OpenFlow13,OpenFlow14',
      '--', 'add-port', 'br0', 'p1', '--', 'set', 'interface', 'p1', 'ofport_request=1',
    );
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await sb.vsctl('set-controller', 'br0', `tcp:127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    const s = (session = new Session(await accepted));
    await s.byType(0, 'HELLO');
    s.send({ type: 'hello', xid: 1, versions: [OFP_VERSION.OF14] }, OFP_VERSION.OF14);
    s.send(multipartRequest({ kind: 'port_desc' }, 2), OFP_VERSION.OF14);
    const portDesc = await s.byXid(2, 'OF1.4 PORT_DESC reply');
    s.send({ type: 'set_async', xid: 3, packetInMask: [0x3, 0x1], portStatusMask: [0x7, 0x0], flowRemovedMask: [0x1, 0x2] }, OFP_VERSION.OF14);
    s.send({ type: 'get_async_request', xid: 4 }, OFP_VERSION.OF14);
    const asyncReply = await s.byXid(4, 'OF1.4 GET_ASYNC_REPLY');
    await sb.vsctl('add-port', 'br0', 'p2', '--', 'set', 'interface', 'p2', 'ofport_request=2');
    const portStatus = await s.byType(T.PORT_STATUS, 'OF1.4 PORT_STATUS');
    return { portDesc, portStatus, asyncReply };
  } finally {
    session?.close();
    server.close();
    await sb.stop();
  }
}

/** For logs: what a fixture is. */
export function describeFixture(bytes: Buffer): string {
  return decodeMessage(bytes).type;
}
