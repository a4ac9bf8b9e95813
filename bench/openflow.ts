/**
 * `npm run bench -- openflow [--quick]`: installing Neutron-like flows into a
 * real ovs-vswitchd over OpenFlow 1.3/TCP, ours against the peers in the same
 * run on the same flows:
 *
 *  - the wire limit: the same flow-mods encoded beforehand into one buffer and
 *    written by a minimal client (below, independent of the library), then a
 *    barrier. It measures ovs-vswitchd alone; our target is 1.2x of it.
 *  - `ovs-ofctl -O OpenFlow13 [--bundle] add-flows` on the same flows, written
 *    to a file in ovs-ofctl syntax. ovs-ofctl's time includes reading and
 *    parsing that file (and its own start and connection); ours is given two
 *    ways: pre-parsed (the FlowMods built before the clock starts, as the
 *    agent sends flows it has built itself) and from text (`*_from_text`:
 *    reading the same file, our `parseFlow` of every line, encoding and
 *    sending, on an open session), so the comparison of like with like is
 *    the from-text one.
 *  - os-ken 2.5 (Debian's, bench/peers/osken_install.py) as a second
 *    controller of the bridge, sending the same flow-mods back to back and one
 *    barrier: os-ken as fast as it goes.
 *
 * Also deleting by cookie, modifying 10,000 flows, and the codec alone.
 * Every install is checked by flow count; the first run also checks that our
 * flows and ovs-ofctl's are the same flows (`dump-flows` compared).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OFP_VERSION, OFPBF } from '@ovs-agent/openflow';
import { decodeMessage, encodeMessage } from '@ovs-agent/openflow';
import type { FlowMod, OpenFlowMessage } from '@ovs-agent/openflow';
import { OfWriter } from '@ovs-agent/openflow';
import { connectSwitch, type OpenFlowSwitch } from '@ovs-agent/openflow';
import { parseFlow, parseFlowFile } from '@ovs-agent/openflow';
import { OvsSandbox } from '../testing/sandbox.js';
import type { BenchSuite, Metric } from './report.js';
import { metric, newResult, timeIt } from './report.js';
import { OskenPeer, writeOskenFlows } from './peers/osken.js';
import { CODEC_SAMPLE, type CodecRates } from './_codec-sample.js';

const HERE = dirname(fileURLToPath(import.meta.url));

const BRIDGE = 'br0';
const VLAN_PRESENT = 0x1000;
const COOKIE_A = 0xa1n;
const COOKIE_B = 0xb2n;

const mac = (i: number): string =>
  `fa:16:3e:${((i >>> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >>> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
const ipv4 = (i: number): string => `10.${(i >>> 16) & 0xff}.${(i >>> 8) & 0xff}.${i & 0xff}`;

/**
 * Neutron-like flows in ovs-ofctl syntax, cycling through four shapes: local
 * VLAN tagging at ingress (in_port + MAC → push_vlan, set_field vlan_vid,
 * goto_table), delivery by VLAN and MAC (pop_vlan, output), register-based
 * forwarding (reg5/reg6 → set_field eth_dst, output) and a firewall-like IPv4
 * check (reg5 + MAC + nw_src → set_field reg6, goto_table). Every flow is
 * distinct (its MAC, reg5 or address comes from its index). Half carry
 * cookie A, half cookie B.
 */
function neutronFlowText(n: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = `cookie=0x${(i % 2 === 0 ? COOKIE_A : COOKIE_B).toString(16)}`;
    const port = 1 + (i % 64);
    const vid = 1 + (i % 4000);
    switch (i % 4) {
      case 0:
        lines.push(`${c},table=0,priority=10,in_port=${port},dl_src=${mac(i)},actions=push_vlan:0x8100,set_field:${VLAN_PRESENT | vid}->vlan_vid,goto_table:60`);
        break;
      case 1:
        lines.push(`${c},table=60,priority=20,dl_vlan=${vid},dl_dst=${mac(i)},actions=pop_vlan,output:${port}`);
        break;
      case 2:
        lines.push(`${c},table=60,priority=30,reg5=${i},reg6=${vid},actions=set_field:${mac(i)}->eth_dst,output:${port}`);
        break;
      default:
        lines.push(`${c},table=71,priority=65,ip,reg5=${port},dl_src=${mac(i)},nw_src=${ipv4(i)},actions=set_field:${vid}->reg6,goto_table:73`);
    }
  }
  return lines;
}

// ---------------------------------------------------------------------------
// The wire limit: a minimal client, deliberately not the library.

function encodeAll(msgs: OpenFlowMessage[], version: number): Buffer {
  const w = new OfWriter(1 << 20);
  let xid = 1;
  for (const m of msgs) encodeMessage(w, { ...m, xid: m.xid ?? xid++ }, version);
  return w.take();
}

/** Connects, exchanges HELLO, and returns a function that writes bytes and waits for the barrier reply with `xid`. */
async function rawClient(port: number): Promise<{ socket: Socket; run(bytes: Buffer, barrierXid: number): Promise<OpenFlowMessage[]> }> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((r) => socket.once('connect', r));
  let buf: Buffer = Buffer.alloc(0);
  let waiting: { xid: number; replies: OpenFlowMessage[]; done(m: OpenFlowMessage[]): void; fail(e: Error): void } | undefined;
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 8 && buf.length >= buf.readUInt16BE(2)) {
      const len = buf.readUInt16BE(2);
      const msg = buf.subarray(0, len);
      buf = buf.subarray(len);
      const type = msg[1];
      // ovs-vswitchd drops a peer that ignores its echo requests.
      if (type === 2) {
        const reply = Buffer.from(msg);
        reply[1] = 3;
        socket.write(reply);
        continue;
      }
      if (!waiting) continue;
      // Keep errors and bundle replies for the check; stop at the barrier reply.
      if (type === 1 || type === 4 || type === 33) waiting.replies.push(decodeMessage(msg));
      if (type === 21 && msg.readUInt32BE(4) === waiting.xid) {
        const w = waiting;
        waiting = undefined;
        w.done(w.replies);
      }
    }
  });
  let closed: Error | undefined;
  socket.on('close', () => {
    closed = new Error('wire client: ovs-vswitchd closed the connection');
    waiting?.fail(closed);
  });
  socket.write(encodeAll([{ type: 'hello', versions: [OFP_VERSION.OF13] }], OFP_VERSION.OF13));
  return {
    socket,
    run: (bytes, xid) => new Promise((done, fail) => {
      if (closed) return fail(closed);
      waiting = { xid, replies: [], done, fail };
      socket.write(bytes);
    }),
  };
}

// ---------------------------------------------------------------------------

/** ovs-ofctl with a timeout that fits 100,000 flows on a loaded machine (the sandbox's default is 30 s). */
function ofctl(sb: OvsSandbox, args: string[], input?: string): Promise<string> {
  return sb.run('ovs-ofctl', args, { timeoutMs: 600_000, ...(input === undefined ? {} : { input }) });
}

async function flowCount(sb: OvsSandbox): Promise<number> {
  const out = await ofctl(sb, ['-O', 'OpenFlow13', 'dump-aggregate', BRIDGE]);
  const m = /flow_count=(\d+)/.exec(out);
  if (!m) throw new Error(`no flow_count in: ${out}`);
  return Number(m[1]);
}

async function expectCount(sb: OvsSandbox, want: number, what: string): Promise<void> {
  const got = await flowCount(sb);
  if (got !== want) throw new Error(`${what}: ${got} flows installed, expected ${want}`);
}

async function clearFlows(sw: OpenFlowSwitch, sb: OvsSandbox): Promise<void> {
  sw.deleteFlows();
  await sw.barrier();
  await expectCount(sb, 0, 'after deleting all flows');
  // ovs-vswitchd frees deleted rules after an RCU grace period; let that pass before the next timing.
  await new Promise((r) => setTimeout(r, 300));
}

async function sortedDump(sb: OvsSandbox): Promise<string> {
  return ofctl(sb, ['-O', 'OpenFlow13', '--no-stats', '--sort', 'dump-flows', BRIDGE]);
}

/** Sends with the library (backpressure honoured), then awaits the barrier or the commit. */
async function installOurs(sw: OpenFlowSwitch, flows: FlowMod[], bundle: boolean): Promise<void> {
  if (bundle) {
    const txn = sw.bundle();
    await txn.addAll(flows);
    await txn.commit();
    return;
  }
  await sw.sendAll(flows);
  await sw.barrier();
}

const suite: BenchSuite = {
  async run({ quick }) {
    const n = quick ? 10_000 : 100_000;
    const runs = quick ? 3 : 5;
    const nModify = Math.min(10_000, n);
    // Our flow-mods come from the very lines the ovs-ofctl peers read, through the text module.
    const lines = neutronFlowText(n);
    const flowMods = lines.map((l) => parseFlow(l));
    const notes: string[] = [];

    const sb = await OvsSandbox.start();
    const dir = mkdtempSync(join(tmpdir(), 'of-bench-'));
    let sw: OpenFlowSwitch | undefined;
    let raw: Awaited<ReturnType<typeof rawClient>> | undefined;
    let osken: OskenPeer | undefined;
    try {
      // No in-band control: the bridge's hidden flows for it would be noise beside os-ken's TCP connection.
      await sb.vsctl('add-br', BRIDGE, '--', 'set', 'bridge', BRIDGE, 'datapath_type=netdev', 'fail_mode=secure',
        'protocols=OpenFlow13,OpenFlow14', 'other_config:disable-in-band=true');
      // os-ken starts (imports, reads the flows) while the rest is set up; its startup is never timed.
      const oskenFlows = join(dir, 'osken-flows.json');
      writeOskenFlows(oskenFlows, flowMods);
      osken = await OskenPeer.start(oskenFlows);
      // Everyone talks OpenFlow 1.3 over TCP to the bridge's own listener.
      const probe = (await import('node:net')).createServer();
      const port = await new Promise<number>((r) => probe.listen(0, '127.0.0.1', () => r((probe.address() as { port: number }).port)));
      await new Promise((r) => probe.close(r));
      // The bridge listens for us and the wire client, and connects to os-ken.
      await sb.vsctl('set-controller', BRIDGE, `ptcp:${port}:127.0.0.1`, `tcp:127.0.0.1:${osken.port}`);
      const target = `tcp:127.0.0.1:${port}`;
      for (let i = 0; ; i++) {
        try {
          sw = await connectSwitch(target, { reconnect: false, probeIntervalMs: 0, requestTimeoutMs: 300_000 });
          break;
        } catch (err) {
          if (i > 100) throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      raw = await rawClient(port);
      const flowFile = join(dir, 'flows.txt');
      writeFileSync(flowFile, `${lines.join('\n')}\n`);

      // The wire limit's bytes, encoded before any timing.
      const plainXid = n + 1;
      const plainBytes = encodeAll([...flowMods.map((f, i) => ({ ...f, xid: i + 1 })), { type: 'barrier_request', xid: plainXid }], OFP_VERSION.OF13);
      const bundleId = 0x7777;
      const flags = OFPBF.ATOMIC | OFPBF.ORDERED;
      const bundleXid = n + 3;
      const bundleBytes = encodeAll([
        { type: 'bundle_control', xid: n + 1, bundleId, ctrlType: 'open_request', flags },
        ...flowMods.map((f, i): OpenFlowMessage => ({ type: 'bundle_add_message', xid: i + 1, bundleId, flags, message: f })),
        { type: 'bundle_control', xid: n + 2, bundleId, ctrlType: 'commit_request', flags },
        { type: 'barrier_request', xid: bundleXid },
      ], OFP_VERSION.OF13);

      const rawRun = async (bytes: Buffer, xid: number): Promise<void> => {
        const replies = await raw!.run(bytes, xid);
        const errors = replies.filter((m) => m.type === 'error');
        if (errors.length > 0) throw new Error(`wire client: switch sent ${errors.length} errors: ${JSON.stringify(errors[0], (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
      };

      // Same-flows check: our install and ovs-ofctl's produce the same table.
      await installOurs(sw, flowMods, false);
      await expectCount(sb, n, 'ours');
      const oursDump = await sortedDump(sb);
      await clearFlows(sw, sb);
      await ofctl(sb, ['-O', 'OpenFlow13', 'add-flows', target, flowFile]);
      const ofctlDump = await sortedDump(sb);
      if (oursDump !== ofctlDump) throw new Error('our flows differ from the ones ovs-ofctl installs from the same file');
      notes.push(`same flows: dump-flows after our install equals dump-flows after ovs-ofctl add-flows (${n} flows)`);
      await clearFlows(sw, sb);

      // os-ken: connected and its flow-mods built (untimed), then one untimed
      // install checked against our table, which also warms it up.
      const oskenReady = await osken.ready();
      if (oskenReady.flows !== n) throw new Error(`os-ken built ${oskenReady.flows} flow-mods, expected ${n}`);
      await osken.install();
      await expectCount(sb, n, 'os-ken');
      if (await sortedDump(sb) !== oursDump) throw new Error('the flows os-ken installs differ from ours');
      notes.push(`same flows: dump-flows after os-ken's install equals dump-flows after ours (${n} flows)`);
      await clearFlows(sw, sb);

      const series: Record<string, number[]> = {
        ours: [], oursBundle: [], wire: [], wireBundle: [], ofctl: [], ofctlBundle: [],
        oursDelete: [], ofctlDelete: [], oursModify: [], ofctlModify: [], osken: [],
        oursText: [], oursTextBundle: [], oursTextModify: [],
      };
      // Modify: the first nModify flows get a new action; cookies dropped (no cookie match on modify).
      const modifyLines = lines.slice(0, nModify).map((l) => l.replace(/^cookie=[^,]*,/, '').replace(/actions=.*$/, 'actions=output:99'));
      const modified = modifyLines.map((l) => parseFlow(l, { command: 'modify_strict' }));
      const modifyText = `${modifyLines.join('\n')}\n`;
      const modifyFile = join(dir, 'modify.txt');
      writeFileSync(modifyFile, modifyText);
      /** Our side of a from-text comparison: the file read and every line parsed, inside the timing. */
      const fromText = (file: string, command?: 'modify_strict'): FlowMod[] => command
        ? readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => parseFlow(l, { command }))
        : parseFlowFile(readFileSync(file, 'utf8'));

      // Alternate the contenders within each run, so drift hits all alike.
      const oursPlain = async (): Promise<void> => {
        series.ours.push(await timeIt(() => installOurs(sw!, flowMods, false)));
        await expectCount(sb, n, 'ours');
        // Modify and delete on the table our install left.
        series.oursModify.push(await timeIt(async () => {
          for (const m of modified) sw!.send(m);
          await sw!.barrier();
        }));
        series.oursDelete.push(await timeIt(async () => {
          sw!.deleteFlows({ cookie: COOKIE_A });
          await sw!.barrier();
        }));
        await expectCount(sb, n - Math.ceil(n / 2), 'after our delete by cookie');
        await clearFlows(sw!, sb);
      };
      const wirePlain = async (): Promise<void> => {
        series.wire.push(await timeIt(() => rawRun(plainBytes, plainXid)));
        await expectCount(sb, n, 'wire limit');
        await clearFlows(sw!, sb);
      };
      const oursBundle = async (): Promise<void> => {
        series.oursBundle.push(await timeIt(() => installOurs(sw!, flowMods, true)));
        await expectCount(sb, n, 'ours, bundle');
        await clearFlows(sw!, sb);
      };
      const wireBundle = async (): Promise<void> => {
        series.wireBundle.push(await timeIt(() => rawRun(bundleBytes, bundleXid)));
        await expectCount(sb, n, 'wire limit, bundle');
        await clearFlows(sw!, sb);
      };
      const ofctlPeers = async (): Promise<void> => {
        series.ofctlBundle.push(await timeIt(() => ofctl(sb, ['-O', 'OpenFlow13', '--bundle', 'add-flows', target, flowFile])));
        await expectCount(sb, n, 'ovs-ofctl --bundle');
        await clearFlows(sw!, sb);
        series.ofctl.push(await timeIt(() => ofctl(sb, ['-O', 'OpenFlow13', 'add-flows', target, flowFile])));
        await expectCount(sb, n, 'ovs-ofctl');
        // mod-flows reads flows from a file only as "-" (stdin).
        series.ofctlModify.push(await timeIt(() => ofctl(sb, ['-O', 'OpenFlow13', '--strict', 'mod-flows', target, '-'], modifyText)));
        series.ofctlDelete.push(await timeIt(() => ofctl(sb, ['-O', 'OpenFlow13', 'del-flows', target, `cookie=0x${COOKIE_A.toString(16)}/-1`])));
        await expectCount(sb, n - Math.ceil(n / 2), 'after ovs-ofctl delete by cookie');
        await clearFlows(sw!, sb);
      };

      // From text: what ovs-ofctl does with the file, done by us on an open session.
      const oursText = async (): Promise<void> => {
        series.oursText.push(await timeIt(() => installOurs(sw!, fromText(flowFile), false)));
        await expectCount(sb, n, 'ours from text');
        series.oursTextModify.push(await timeIt(async () => {
          for (const m of fromText(modifyFile, 'modify_strict')) sw!.send(m);
          await sw!.barrier();
        }));
        await clearFlows(sw!, sb);
        series.oursTextBundle.push(await timeIt(() => installOurs(sw!, fromText(flowFile), true)));
        await expectCount(sb, n, 'ours from text, bundle');
        await clearFlows(sw!, sb);
      };

      const oskenPeer = async (): Promise<void> => {
        series.osken.push((await osken!.install()).seconds);
        await expectCount(sb, n, 'os-ken');
        await clearFlows(sw!, sb);
      };

      // Each pair side by side, the order flipped every run, so drift and
      // ovs-vswitchd's deferred cleanup of the previous table hit both alike.
      for (let r = 0; r < runs; r++) {
        const pairs = r % 2 === 0 ? [wirePlain, oursPlain, wireBundle, oursBundle] : [oursPlain, wirePlain, oursBundle, wireBundle];
        for (const step of pairs) await step();
        // ovs-ofctl and our from-text run side by side, the order flipped every run.
        for (const step of r % 2 === 0 ? [ofctlPeers, oursText] : [oursText, ofctlPeers]) await step();
        await oskenPeer();
      }

      const loadBefore = loadavg()[0];
      const codec = JSON.parse(execFileSync(process.execPath, ['--expose-gc', ...process.execArgv, join(HERE, '_codec-sample.ts'), flowFile, String(Math.max(runs, 5))], {
        encoding: 'utf8', maxBuffer: 1 << 20,
      })) as CodecRates;
      const loadAfter = loadavg()[0];
      const k = n / 1000;
      const metrics: Metric[] = [
        metric({ metric: `install_${k}k_flows`, unit: 's', ours: series.ours,
          peer: { name: 'wire limit: pre-encoded flow-mods + barrier, one write', samples: series.wire }, target: '<= 1.2' }),
        metric({ metric: `install_${k}k_flows_bundle`, unit: 's', ours: series.oursBundle,
          peer: { name: 'wire limit: pre-encoded bundle open/adds/commit + barrier', samples: series.wireBundle }, target: '<= 1.2' }),
        metric({ metric: `install_${k}k_flows_vs_ofctl`, unit: 's', ours: series.ours,
          peer: { name: 'ovs-ofctl -O OpenFlow13 add-flows', samples: series.ofctl }, target: '< 1',
          note: 'ours pre-parsed (FlowMods built before the clock); ovs-ofctl reads and parses its file inside its time: see the _from_text metric' }),
        metric({ metric: `install_${k}k_flows_from_text_vs_ofctl`, unit: 's', ours: series.oursText,
          peer: { name: 'ovs-ofctl -O OpenFlow13 add-flows', samples: series.ofctl }, target: '< 1',
          note: 'both from the same text file: ours reads it, parses it (parseFlowFile, as ovs-ofctl reads an add-flows file), encodes and sends (open session), then a barrier' }),
        metric({ metric: `install_${k}k_flows_bundle_vs_ofctl`, unit: 's', ours: series.oursBundle,
          peer: { name: 'ovs-ofctl -O OpenFlow13 --bundle add-flows', samples: series.ofctlBundle }, target: '< 1',
          note: 'ours pre-parsed; see the _from_text metric' }),
        metric({ metric: `install_${k}k_flows_bundle_from_text_vs_ofctl`, unit: 's', ours: series.oursTextBundle,
          peer: { name: 'ovs-ofctl -O OpenFlow13 --bundle add-flows', samples: series.ofctlBundle }, target: '< 1',
          note: 'both from the same text file (ours: read, parseFlowFile, encode, bundle, commit)' }),
        metric({ metric: `install_${k}k_flows_vs_osken`, unit: 's', ours: series.ours,
          peer: { name: 'os-ken 2.5.0 (send all, one barrier)', samples: series.osken }, target: '<= 0.1' }),
        metric({ metric: `delete_${Math.ceil(n / 2000)}k_flows_by_cookie`, unit: 's', ours: series.oursDelete,
          peer: { name: 'ovs-ofctl del-flows cookie=X/-1', samples: series.ofctlDelete }, target: '<= 1.2' }),
        metric({ metric: `modify_${nModify / 1000}k_flows`, unit: 's', ours: series.oursModify,
          peer: { name: 'ovs-ofctl --strict mod-flows', samples: series.ofctlModify }, target: '< 1',
          note: 'ours pre-parsed; ovs-ofctl parses the flows from its stdin inside its time: see the _from_text metric' }),
        metric({ metric: `modify_${nModify / 1000}k_flows_from_text`, unit: 's', ours: series.oursTextModify,
          peer: { name: 'ovs-ofctl --strict mod-flows', samples: series.ofctlModify }, target: '< 1',
          note: 'both from the same text (ours: read from a file and parsed with modify_strict; ovs-ofctl: the same lines on stdin)' }),
        metric({ metric: 'codec_encode_flow_mods', unit: 'flow-mods/s', ours: codec.encode.map((x) => x.wall), target: '>= 1000000',
          note: 'wall clock' }),
        metric({ metric: 'codec_encode_flow_mods_cpu', unit: 'flow-mods/CPU-s', ours: codec.encode.map((x) => x.cpu), target: '>= 1000000',
          note: 'per second of the process\'s CPU time' }),
        metric({ metric: 'codec_decode_flow_mods', unit: 'flow-mods/s', ours: codec.decode.map((x) => x.wall), note: 'wall clock' }),
        metric({ metric: 'codec_decode_flow_mods_cpu', unit: 'flow-mods/CPU-s', ours: codec.decode.map((x) => x.cpu),
          note: 'per second of the process\'s CPU time' }),
      ];
      notes.push(`${n} flows, ${runs} runs, OpenFlow 1.3 over TCP to the bridge's ptcp listener; times include the final barrier (bundle: commit and barrier)`);
      notes.push(`codec: ${codec.encode.length} samples of ${CODEC_SAMPLE.toLocaleString('en')}+ flow-mods each (the ${n} flows cycled, ` +
        `${codec.bytesPerFlowMod.toFixed(0)} bytes each) after a warm-up sample, in a fresh process (bench/_codec-sample.ts) reading the same flow file; load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after`);
      notes.push(`os-ken: ${oskenReady.buildSeconds.toFixed(2)} s to build its ${n} OFPFlowMod objects from the JSON, and its process startup and ` +
        'the bridge\'s connection to it, all before and outside the timing (as our parse of the flows is); its time runs from just before ' +
        'its first send_msg to its handler seeing the barrier reply, timed in the app (serializing included, as our encoding is)');
      notes.push(`socket writes for our last plain install: ${sw.connection!.stats.socketWrites} in total on the session`);
      return newResult('openflow', metrics, notes);
    } finally {
      raw?.socket.destroy();
      await osken?.stop().catch(() => undefined);
      await sw?.close().catch(() => undefined);
      await sb.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default suite;
