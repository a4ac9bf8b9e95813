/** Frames to and from pcap files (libpcap format, Ethernet link type), and tshark's reading of them: the packet specs' oracles. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const LINKTYPE_ETHERNET = 1;

/** Writes frames as a pcap file. */
export function writePcap(file: string, frames: Buffer[]): void {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  const parts: Buffer[] = [head];
  for (const f of frames) {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, f);
  }
  writeFileSync(file, Buffer.concat(parts));
}

/** The frames of a pcap file (either byte order, microsecond timestamps). */
export function readPcap(file: string): Buffer[] {
  const b = readFileSync(file);
  if (b.length < 24) return [];
  const le = b.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const out: Buffer[] = [];
  for (let at = 24; at + 16 <= b.length;) {
    const len = u32(at + 8);
    out.push(b.subarray(at + 16, at + 16 + len));
    at += 16 + len;
  }
  return out;
}

/** tshark's value of each field for each frame, with checksum validation on. */
export function tsharkFields(file: string, fields: string[]): Record<string, string>[] {
  const args = ['-r', file, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,',
    '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
    ...fields.flatMap((f) => ['-e', f])];
  const out = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => l !== '').map((l) => {
    const values = l.split('\t');
    const row: Record<string, string> = {};
    fields.forEach((f, i) => {
      if (values[i] !== undefined && values[i] !== '') row[f] = values[i];
    });
    return row;
  });
}
