/**
 * The flow-monitor benchmark's anchor (bench/flow-monitor.ts): the least
 * work any client can do to watch a bridge's flow changes, so the fastest
 * any client can be on this machine. One Unix socket to the bridge's
 * management socket; HELLO and the ONF flow monitor request are encoded once
 * with our codec (setup, not measured); after that the stream is only split
 * into messages by the header's length, and of each flow monitor reply only
 * the update headers are read: length, event, and (for added/deleted) the
 * cookie at its fixed offset, which is all the benchmark needs to timestamp
 * a flow. No match, no instructions, no objects per update. Echo requests
 * are answered in place so the switch keeps the session.
 */
import { connect, type Socket } from 'node:net';
import { encodeMessage, EXPERIMENTER_ID, NXFME, NXFMF, OFP_VERSION, OFPP, OFPT, ONFMP, ONFT, OfWriter } from '@ovs-agent/openflow';

/** ofp_multipart_reply (16) + the ONF experimenter multipart header (8): where the updates start. */
const UPDATES_AT = 24;
/** The cookie's offset inside nx_flow_update_full. */
const COOKIE_AT = 16;

/** What the anchor calls for each flow added or deleted, and for pauses. */
export interface AnchorSink {
  update(event: 'added' | 'deleted', cookie: number): void;
  paused(): void;
  resumed(): void;
}

/** A running anchor watcher; `close()` ends its session. */
export interface Anchor {
  close(): void;
}

/** Connects to `path` and starts a monitor of table `tableId` (no initial flows); resolves once the switch accepted it. */
export function startAnchor(path: string, tableId: number, sink: AnchorSink): Promise<Anchor> {
  const sock: Socket = connect(path);
  const w = new OfWriter();
  encodeMessage(w, { type: 'hello', versions: [OFP_VERSION.OF13], xid: 1 });
  encodeMessage(w, { type: 'multipart_request', flags: 0, xid: 2, body: { kind: 'flow_monitor', monitors: [
    { id: 1, flags: NXFMF.ADD | NXFMF.DELETE | NXFMF.MODIFY | NXFMF.ACTIONS, outPort: OFPP.ANY, tableId, match: {} },
  ] } });
  const setup = w.take();
  return new Promise((resolve, reject) => {
    let started = false;
    let held: Buffer | undefined;
    sock.once('error', reject);
    sock.on('connect', () => sock.write(setup));
    sock.on('data', (chunk: Buffer) => {
      let buf = chunk;
      if (held) {
        buf = Buffer.concat([held, chunk]);
        held = undefined;
      }
      let pos = 0;
      while (buf.length - pos >= 8) {
        const len = (buf[pos + 2] << 8) | buf[pos + 3];
        if (len < 8) {
          sock.destroy();
          reject(new Error(`anchor: header length ${len}`));
          return;
        }
        if (buf.length - pos < len) break;
        const type = buf[pos + 1];
        if (type === OFPT.MULTIPART_REPLY && len >= UPDATES_AT && buf.readUInt32BE(pos + 16) === EXPERIMENTER_ID.ONF
          && buf.readUInt32BE(pos + 20) === ONFMP.FLOW_MONITOR) {
          if (!started && buf.readUInt32BE(pos + 4) === 2) {
            started = true;
            resolve({ close: () => sock.destroy() });
          }
          for (let at = pos + UPDATES_AT; at + 4 <= pos + len;) {
            const ulen = (buf[at] << 8) | buf[at + 1];
            if (ulen < 8) break;
            const event = (buf[at + 2] << 8) | buf[at + 3];
            if (event === NXFME.ADDED || event === NXFME.DELETED) {
              // Cookies here are below 2^32: the low word is the flow's number.
              sink.update(event === NXFME.ADDED ? 'added' : 'deleted', buf.readUInt32BE(at + COOKIE_AT + 4));
            }
            at += ulen;
          }
        } else if (type === OFPT.EXPERIMENTER && len >= 16 && buf.readUInt32BE(pos + 8) === EXPERIMENTER_ID.ONF) {
          const sub = buf.readUInt32BE(pos + 12);
          if (sub === ONFT.FLOW_MONITOR_PAUSED) sink.paused();
          else if (sub === ONFT.FLOW_MONITOR_RESUMED) sink.resumed();
        } else if (type === OFPT.ECHO_REQUEST) {
          const reply = Buffer.from(buf.subarray(pos, pos + len));
          reply[1] = OFPT.ECHO_REPLY;
          sock.write(reply);
        } else if (type === OFPT.ERROR && !started) {
          sock.destroy();
          reject(new Error('anchor: the switch refused the flow monitor request'));
          return;
        }
        pos += len;
      }
      if (pos < buf.length) held = Buffer.from(buf.subarray(pos));
    });
  });
}
