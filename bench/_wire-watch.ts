/**
 * The agent bench's independent clock (a helper process, not a suite): OVS's
 * own tools watch the switch while the agent wires ports, and this process,
 * which runs nothing else, stamps what they print with its high-resolution
 * clock (ms since the epoch, fractional), so a busy agent in the benchmark's
 * process delays nothing that is measured.
 *
 *     node --import tsx bench/_wire-watch.ts DB_REMOTE MGMT_SOCKET RUNDIR
 *
 * - one RFC 7047 `monitor` of Interface (name, ofport) and Port (name, tag)
 *   on one connection to ovsdb-server, by a minimal JSON-RPC client written
 *   here (not protocol/ovsdb): when an interface got its ofport and when its
 *   port got its tag. One connection, because ovsdb-server sends the updates
 *   of one connection in commit order, so a tag is never seen before the
 *   ofport that preceded it (two `ovsdb-client monitor` processes, one per
 *   table, can report them the other way round on a loaded machine);
 * - `ovs-ofctl monitor watch:!initial` on the bridge: when a flow naming an
 *   ofport (`in_port=` or `reg5=`, as the firewall's per-port flows do) was added.
 *
 * stdout, one JSON object a line: `{"ready":true}` once both monitors have
 * their initial state, then `{"t":…,"kind":"ofport","name":…,"ofport":…,"m":…,"r":…}`,
 * `{"t":…,"kind":"tag","name":…,"tag":…,"m":…,"r":…}` (m: the OVSDB message, r: the read it came in), `{"t":…,"kind":"flow","ofports":[…]}`, and
 * `{"t":…,"kind":"paused"}` if the switch paused the flow monitor (its reports then come late).
 * Ends (its monitors with it) when its stdin closes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';

const [dbRemote, mgmtSocket, rundir] = process.argv.slice(2);
if (!rundir) throw new Error('usage: _wire-watch.ts DB_REMOTE MGMT_SOCKET RUNDIR');

const now = (): number => performance.timeOrigin + performance.now();
const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const children: ChildProcess[] = [];
let readyCount = 0;
const ready = (): void => {
  if (++readyCount === 2) out({ ready: true });
};

/** Calls `onLine(line, t)` for each line, `t` taken when its chunk arrived. */
function lines(stream: NodeJS.ReadableStream, onLine: (line: string, t: number) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const t = now();
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, nl), t);
      buf = buf.slice(nl + 1);
    }
  });
}

/** Splits a stream of back-to-back JSON texts (OVSDB's framing: no delimiter) into whole texts; `read` numbers the chunks. */
function jsonTexts(onText: (text: string, t: number, read: number) => void): (chunk: string) => void {
  let reads = 0;
  let buf = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = 0;
  return (chunk) => {
    const t = now();
    reads++;
    const from = buf.length;
    buf += chunk;
    for (let i = from; i < buf.length; i++) {
      const c = buf[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
      } else if (c === '"') {
        inString = true;
      } else if (c === '{' || c === '[') {
        if (depth++ === 0) start = i;
      } else if ((c === '}' || c === ']') && --depth === 0) {
        onText(buf.slice(start, i + 1), t, reads);
      }
    }
    if (depth === 0) buf = '';
  };
}

interface RowUpdate {
  new?: { name?: string; ofport?: unknown; tag?: unknown };
}

function ovsdbMonitor(): void {
  const path = dbRemote.replace(/^unix:/, '');
  const sock: Socket = connect(path);
  sock.setEncoding('utf8');
  const send = (o: object) => sock.write(JSON.stringify(o));
  // `m` numbers the messages and `r` the reads: two events of one message were sent together by
  // ovsdb-server; of two messages in one read, this process read the first late (no time between them).
  let messages = 0;
  const report = (tables: Record<string, Record<string, RowUpdate>>, t: number, r: number) => {
    const m = ++messages;
    for (const [table, kind] of [['Interface', 'ofport'], ['Port', 'tag']] as const) {
      for (const row of Object.values(tables[table] ?? {})) {
        const value = row.new?.[kind];
        // An empty optional column is ["set", []]; a value is a bare number.
        if (typeof row.new?.name === 'string' && typeof value === 'number' && value > 0) out({ t, kind, name: row.new.name, [kind]: value, m, r });
      }
    }
  };
  sock.on('data', jsonTexts((text, t, r) => {
    const msg = JSON.parse(text) as { id?: unknown; method?: string; params?: unknown[]; result?: unknown; error?: unknown };
    if (msg.method === 'echo') return void send({ id: msg.id, result: msg.params, error: null });
    if (msg.method === 'update') return report(msg.params![1] as Record<string, Record<string, RowUpdate>>, t, r);
    if (msg.id === 'watch') {
      if (msg.error) throw new Error(`monitor refused: ${JSON.stringify(msg.error)}`);
      report(msg.result as Record<string, Record<string, RowUpdate>>, t, r);
      ready();
    }
  }));
  sock.on('error', (err) => {
    process.stderr.write(`_wire-watch: ovsdb-server connection: ${err.message}\n`);
    stop();
  });
  send({
    id: 'watch', method: 'monitor',
    params: ['Open_vSwitch', null, { Interface: { columns: ['name', 'ofport'] }, Port: { columns: ['name', 'tag'] } }],
  });
}

function flowMonitor(): void {
  const child = spawn('ovs-ofctl', ['--no-names', 'monitor', `unix:${mgmtSocket}`, 'watch:!initial'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OVS_RUNDIR: rundir },
  });
  children.push(child);
  // The reply to its request comes on stdout; the switch's reports on stderr.
  lines(child.stdout!, (line) => {
    if (line.startsWith('NXST_FLOW_MONITOR reply')) ready();
  });
  lines(child.stderr!, (line, t) => {
    // A switch that has too many changes to report pauses the monitor: what follows is late, and the figure void.
    if (/PAUSED/.test(line)) out({ t, kind: 'paused' });
    if (!line.includes('event=ADDED')) return;
    const ofports = new Set<number>();
    for (const m of line.matchAll(/\b(?:in_port|reg5)=(0x[0-9a-f]+|\d+)/g)) ofports.add(Number(m[1]));
    if (ofports.size) out({ t, kind: 'flow', ofports: [...ofports] });
  });
}

function stop(): void {
  for (const c of children) c.kill('SIGKILL');
  process.exit(0);
}

ovsdbMonitor();
flowMonitor();
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
for (const c of children) c.on('exit', (code, signal) => {
  process.stderr.write(`_wire-watch: ${c.spawnargs.slice(0, 2).join(' ')} exited (${code ?? signal})\n`);
  stop();
});
