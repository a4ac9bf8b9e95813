/**
 * Captures the OpenFlow bytes ovs-ofctl really sends. A passive unix-socket
 * server plays a minimal switch (HELLO for OF1.3/1.4, FEATURES/ECHO/BARRIER
 * replies, empty multipart replies) while `ovs-ofctl <cmd> unix:SOCK ...`
 * talks to it; every message ovs-ofctl sent is returned as bytes, in order.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const HELLO_13_14 = Buffer.from('04000010000000000001000800000030', 'hex');

function reply(version: number, type: number, xid: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(8 + body.length);
  b[0] = version;
  b[1] = type;
  b.writeUInt16BE(b.length, 2);
  b.writeUInt32BE(xid, 4);
  body.copy(b, 8);
  return b;
}

/** Answers the requests ovs-ofctl waits for; returns nothing for the rest. */
function answer(msg: Buffer): Buffer | undefined {
  const version = msg[0];
  const type = msg[1];
  const xid = msg.readUInt32BE(4);
  switch (type) {
    case 2: // ECHO_REQUEST
      return reply(version, 3, xid, msg.subarray(8));
    case 5: {
      // FEATURES_REQUEST: datapath 1, 256 buffers, 254 tables.
      const body = Buffer.alloc(24);
      body.writeBigUInt64BE(1n, 0);
      body.writeUInt32BE(256, 8);
      body[12] = 254;
      body.writeUInt32BE(0x4f, 16);
      return reply(version, 6, xid, body);
    }
    case 7: // GET_CONFIG_REQUEST
      return reply(version, 8, xid, Buffer.from('0000ffff', 'hex'));
    case 18: {
      // TABLE_FEATURES cannot be empty: describe one table without properties.
      if (msg.readUInt16BE(8) === 12) {
        const body = Buffer.alloc(8 + 64);
        body.writeUInt16BE(12, 0);
        body.writeUInt16BE(64, 8);
        body.write('classifier', 16, 'latin1');
        body.writeUInt32BE(1000000, 68);
        return reply(version, 19, xid, body);
      }
      // DESC and AGGREGATE replies have fixed sizes; PORT_DESC describes one port, "p1" = 1.
      const mpType = msg.readUInt16BE(8);
      if (mpType === 0 || mpType === 2) {
        const body = Buffer.alloc(8 + (mpType === 0 ? 1056 : 24));
        body.writeUInt16BE(mpType, 0);
        return reply(version, 19, xid, body);
      }
      if (mpType === 13) {
        const body = Buffer.alloc(8 + 64);
        body.writeUInt16BE(13, 0);
        body.writeUInt32BE(1, 8);
        Buffer.from('aabbccddeeff', 'hex').copy(body, 16);
        body.write('p1', 24, 'latin1');
        return reply(version, 19, xid, body);
      }
      // Other MULTIPART_REQUESTs: an empty reply of the same kind.
      const body = Buffer.alloc(8);
      msg.copy(body, 0, 8, 10);
      return reply(version, 19, xid, body);
    }
    case 20: // BARRIER_REQUEST
      return reply(version, 21, xid);
    case 24: // ROLE_REQUEST
      return reply(version, 25, xid, msg.subarray(8));
    case 33: {
      // OF1.4 BUNDLE_CONTROL: acknowledge with the matching *_REPLY (request type + 1).
      const body = Buffer.from(msg.subarray(8));
      body.writeUInt16BE(body.readUInt16BE(4) + 1, 4);
      return reply(version, 33, xid, body);
    }
    case 4: {
      // ONF bundle control in OF1.3 (experimenter ONF, exp_type 2300): same acknowledgement.
      if (msg.length >= 24 && msg.readUInt32BE(8) === 0x4f4e4600 && msg.readUInt32BE(12) === 2300) {
        const body = Buffer.from(msg.subarray(8));
        body.writeUInt16BE(body.readUInt16BE(12) + 1, 12);
        return reply(version, 4, xid, body);
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

export interface Capture {
  /** Messages ovs-ofctl sent after its HELLO, in order. */
  messages: Buffer[];
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs `ovs-ofctl -O <proto> [options] <cmd> unix:SOCK ...args` against the fake switch and records what it sent. */
export async function captureOfctl(
  cmd: string,
  args: string[],
  opts: { protocol?: string; options?: string[] } = {},
): Promise<Capture> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ofcap-'));
  const sock = path.join(dir, 'sw.sock');
  const messages: Buffer[] = [];
  const server = net.createServer((conn) => {
    let pending = Buffer.alloc(0);
    conn.write(HELLO_13_14);
    conn.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 8) {
        const len = pending.readUInt16BE(2);
        if (len < 8 || pending.length < len) break;
        const msg = Buffer.from(pending.subarray(0, len));
        pending = pending.subarray(len);
        if (msg[1] !== 0) messages.push(msg);
        const out = answer(msg);
        if (out) conn.write(out);
      }
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  try {
    const child = spawn('ovs-ofctl', ['--no-names', '-O', opts.protocol ?? 'OpenFlow13', ...(opts.options ?? []), cmd, `unix:${sock}`, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(timer);
    return { messages, stdout, stderr, code };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
}
