/**
 * A switch played on a socket with our own codec, OpenFlow 1.3: it sends
 * HELLO, answers FEATURES_REQUEST with the datapath id it claims, and then
 * plays along: echo, barriers, bundles (open/commit replies, adds
 * swallowed), multipart requests (empty dumps, its own DESC and PORT_DESC).
 * Whatever flow-mods it gets are counted, never applied anywhere.
 *
 * `FakeSwitch.dial` makes it a TCP client of a controller listener: a
 * process pretending to be a bridge (an impostor). `silent` sends nothing at
 * all, as a peer that only holds a connection open; `answering = false`
 * makes a handshaken one go quiet.
 */
import { connect, type Socket } from 'node:net';
import { OFP_VERSION, OFPP } from '@ovs-agent/openflow';
import { decodeMessage, encodeMessage } from '@ovs-agent/openflow';
import { MessageFramer } from '@ovs-agent/openflow';
import type { BundleCtrlType, OpenFlowMessage, Port } from '@ovs-agent/openflow';
import { OfWriter } from '@ovs-agent/openflow';

export interface FakeSwitchOptions {
  /** For `dial`. Default 127.0.0.1. */
  host?: string;
  /** Send nothing at all. */
  silent?: boolean;
  /** What it answers to OFPMP_DESC as dp_desc. Default "None", OVS's default. */
  dpDesc?: string;
  /** What it answers to PORT_DESC. Default: only LOCAL, named `localName`. */
  ports?: Port[];
  localName?: string;
}

export class FakeSwitch {
  /** Flow-mods it received, alone or inside bundles. */
  flowMods = 0;
  bundlesCommitted = 0;
  /** Set once its FEATURES_REPLY went out. */
  handshaken = false;
  /** Once false, it answers nothing more (a switch gone silent). */
  answering = true;
  readonly closed: Promise<void>;
  private readonly socket: Socket;

  constructor(socket: Socket, readonly datapathId: bigint, private readonly opts: FakeSwitchOptions = {}) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    if (opts.silent) return;
    this.send({ type: 'hello', versions: [OFP_VERSION.OF13] });
    const framer = new MessageFramer((buf) => this.onMessage(decodeMessage(buf)));
    socket.on('data', (chunk) => {
      try {
        framer.push(chunk);
      } catch {
        socket.destroy();
      }
    });
  }

  /** Connects to `port` and starts playing the switch `datapathId`. */
  static dial(port: number, datapathId: bigint, opts: FakeSwitchOptions = {}): Promise<FakeSwitch> {
    return new Promise((resolve, reject) => {
      const s = connect(port, opts.host ?? '127.0.0.1');
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new FakeSwitch(s, datapathId, opts));
      });
    });
  }

  get isOpen(): boolean {
    return !this.socket.destroyed;
  }

  close(): void {
    this.socket.destroy();
  }

  private send(m: OpenFlowMessage): void {
    if (this.socket.destroyed) return;
    const w = new OfWriter(256);
    encodeMessage(w, m, OFP_VERSION.OF13);
    this.socket.write(w.take());
  }

  private onMessage(m: OpenFlowMessage): void {
    if (!this.answering) return;
    const xid = m.xid;
    switch (m.type) {
      case 'features_request':
        this.send({ type: 'features_reply', xid, datapathId: this.datapathId, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f, reserved: 0 });
        this.handshaken = true;
        return;
      case 'echo_request':
        this.send({ type: 'echo_reply', xid, data: m.data });
        return;
      case 'barrier_request':
        this.send({ type: 'barrier_reply', xid });
        return;
      case 'flow_mod':
        this.flowMods++;
        return;
      case 'bundle_add_message':
        if (m.message.type === 'flow_mod') this.flowMods++;
        return;
      case 'bundle_control': {
        const replies: Partial<Record<BundleCtrlType, BundleCtrlType>> = {
          open_request: 'open_reply', close_request: 'close_reply', commit_request: 'commit_reply', discard_request: 'discard_reply',
        };
        const reply = replies[m.ctrlType];
        if (reply === 'commit_reply') this.bundlesCommitted++;
        if (reply) this.send({ type: 'bundle_control', xid, bundleId: m.bundleId, ctrlType: reply, flags: m.flags });
        return;
      }
      case 'multipart_request':
        this.send({ type: 'multipart_reply', xid, flags: 0, body: this.multipart(m.body.kind) });
        return;
      default:
        return;
    }
  }

  private multipart(kind: string): Extract<OpenFlowMessage, { type: 'multipart_reply' }>['body'] {
    switch (kind) {
      case 'desc':
        return { kind: 'desc', mfrDesc: 'Nicira, Inc.', hwDesc: 'Open vSwitch', swDesc: '3.1.0', serialNum: 'None', dpDesc: this.opts.dpDesc ?? 'None' };
      case 'port_desc':
        return { kind: 'port_desc', ports: this.opts.ports ?? [localPort(this.opts.localName ?? 'br-int')] };
      default:
        return { kind: 'flow', flows: [] };
    }
  }
}

/** A bridge's LOCAL port as PORT_DESC lists it. */
export function localPort(name: string, hwAddr = 'aa:55:aa:55:00:01'): Port {
  return { portNo: OFPP.LOCAL, hwAddr, name, config: 1, state: 1, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0 };
}
