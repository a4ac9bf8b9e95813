/**
 * The drop-in promise checked against the original: Debian's
 * neutron-openvswitch-agent 21 and ovs-agent, each started on a fresh OVS
 * sandbox from the same settings, must leave the same bridges behind: per
 * bridge the same flows (table, priority, match, actions; cookies and
 * counters left out, ports named rather than numbered), and the same
 * Bridge, Port, Interface and Controller rows (what the agents write; the
 * columns ovs-vswitchd fills in left out).
 *
 * Neutron's agent sets its bridges up before it looks for the message bus,
 * so it runs here with none (its transport_url points at a closed port):
 * the state compared is the one it has when it starts talking to RabbitMQ,
 * which it then retries forever; it is stopped by pid. Without RabbitMQ
 * it never gets to its firewall, so both run with `firewall_driver = noop`
 * (the firewall's flows are compared with Neutron's own driver in
 * spec/firewall/neutron-oracle).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runAgent, type RunningAgent } from '../../lib/agent/run.js';
import { loadConfig } from '../../lib/config/index.js';
import { silentLogger } from '../../lib/log.js';
import { descendants, freePort } from '../../testing/neutron-env.js';
import { OvsSandbox, pidAlive } from '../../testing/sandbox.js';

const BRIDGES = ['br-int', 'br-tun', 'br-eth1'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Columns ovs-vswitchd (not an agent) writes, and row identities. */
const NOT_WRITTEN_BY_AGENTS = new Set([
  '_uuid', '_version', 'datapath_id', 'datapath_version', 'status', 'rstp_status', 'statistics', 'rstp_statistics',
  'ofport', 'ifindex', 'mac_in_use', 'link_state', 'link_speed', 'link_resets', 'admin_state', 'duplex', 'mtu',
  'lacp_current', 'bfd_status', 'cfm_fault', 'cfm_fault_status', 'cfm_flap_count', 'cfm_health', 'cfm_remote_mpids',
  'cfm_remote_opstate', 'error', 'is_connected', 'role', 'bond_active_slave',
]);

type Value = string | number | boolean | Value[] | { [k: string]: Value };

/** An OVSDB JSON value as plain data: sets sorted, maps as objects, uuids through `ref` (to names). */
function plain(v: unknown, ref: (uuid: string) => string): Value {
  if (Array.isArray(v)) {
    const [tag, body] = v as [string, unknown];
    if (tag === 'uuid') return ref(body as string);
    if (tag === 'set') return (body as unknown[]).map((x) => plain(x, ref)).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    if (tag === 'map') {
      return Object.fromEntries((body as Array<[unknown, unknown]>).map(([k, x]) => [String(plain(k, ref)), plain(x, ref)])
        .sort(([a], [b]) => (a < b ? -1 : 1)));
    }
  }
  return v as Value;
}

/**
 * The Bridge, Port, Interface and Controller rows of the agents' bridges,
 * keyed by name (controllers by bridge), references by name, the
 * controller's port left out (each agent listens on one of its own).
 */
async function ovsdbRows(sb: OvsSandbox): Promise<Record<string, Record<string, Record<string, Value>>>> {
  const tables: Record<string, Array<Record<string, unknown>>> = {};
  for (const table of ['Bridge', 'Port', 'Interface', 'Controller']) {
    const t = JSON.parse(await sb.ovsdbClient('dump', '--format=json', 'Open_vSwitch', table)) as { headings: string[]; data: unknown[][] };
    tables[table] = t.data.map((row) => Object.fromEntries(t.headings.map((h, i) => [h, row[i]])));
  }
  const names = new Map<string, string>();
  const uuidOf = (row: Record<string, unknown>) => (row._uuid as [string, string])[1];
  for (const table of ['Port', 'Interface', 'Bridge']) for (const row of tables[table]) names.set(uuidOf(row), String(row.name));
  for (const br of tables.Bridge) {
    const ctl = plain(br.controller, (u) => u) as string[] | string;
    for (const u of Array.isArray(ctl) ? ctl : [ctl]) names.set(u, `controller of ${String(br.name)}`);
  }
  const ref = (u: string) => names.get(u) ?? `unknown ${u}`;
  const out: Record<string, Record<string, Record<string, Value>>> = {};
  for (const [table, rows] of Object.entries(tables)) {
    out[table] = {};
    for (const row of rows) {
      const cols: Record<string, Value> = {};
      for (const [k, v] of Object.entries(row)) if (!NOT_WRITTEN_BY_AGENTS.has(k)) cols[k] = plain(v, ref);
      if (table === 'Controller') cols.target = String(cols.target).replace(/:\d+$/, ':<port>');
      out[table][names.get(uuidOf(row)) ?? uuidOf(row)] = cols;
    }
  }
  return out;
}

/** Each bridge's flows as ovs-ofctl prints them with port names, without statistics, the bridge's cookie written `<cookie>`. */
async function flowsOf(sb: OvsSandbox): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const br of BRIDGES) {
    const dump = await sb.ofctl('-O', 'OpenFlow13', '--names', '--no-stats', 'dump-flows', br);
    out[br] = dump.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('OFPST_FLOW')).map((line) => {
      const cookie = /^cookie=(0x[0-9a-f]+), /.exec(line)?.[1];
      const body = cookie ? line.slice(`cookie=${cookie}, `.length) : line;
      return cookie ? body.split(cookie).join('<cookie>') : body;
    }).sort();
  }
  return out;
}

async function stopFamily(child: ChildProcess): Promise<void> {
  if (!child.pid) return;
  const family = [child.pid, ...descendants(child.pid)];
  child.kill('SIGTERM');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && family.some(pidAlive)) await sleep(50);
  for (const pid of family) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  while (family.some(pidAlive)) await sleep(20);
}

describe('ovs-agent leaves the bridges Debian\'s neutron-openvswitch-agent 21 leaves @integration', function () {
  this.timeout(120_000);
  const sandboxes: OvsSandbox[] = [];
  let reference: ChildProcess | undefined;
  let ours: RunningAgent | undefined;
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'reference-agent-'));
  });
  after(async () => {
    if (reference) await stopFamily(reference);
    await ours?.stop();
    for (const sb of sandboxes) await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const sandbox = async () => {
    const sb = await OvsSandbox.start();
    sandboxes.push(sb);
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    return sb;
  };

  it('the same flows per bridge and the same Bridge, Port, Interface and Controller rows', async () => {
    // --- Neutron's agent
    const ref = await sandbox();
    const ofPort = await freePort();
    const closedPort = await freePort();
    const ini = join(dir, 'reference.ini');
    writeFileSync(ini, `[DEFAULT]
host = reference-host
transport_url = rabbit://guest:guest@127.0.0.1:${closedPort}/
[ovs]
ovsdb_connection = ${ref.dbRemote}
datapath_type = netdev
integration_bridge = br-int
bridge_mappings = physnet1:br-eth1
local_ip = 127.0.0.1
of_listen_port = ${ofPort}
[agent]
root_helper = env
tunnel_types = vxlan
report_interval = 0
[securitygroup]
firewall_driver = noop
`);
    const log = join(dir, 'reference.log');
    const fd = openSync(log, 'w');
    try {
      reference = spawn('/usr/bin/python3', ['/usr/bin/neutron-openvswitch-agent', '--config-file', ini], {
        env: { ...process.env, OVS_RUNDIR: ref.rundir, OVS_DBDIR: ref.dir }, stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    // Bridges done, it turns to RabbitMQ (setup_rpc comes after setup_tunnel_br_flows), which is not there.
    const deadline = Date.now() + 90_000;
    while (!/impl_rabbit.*(Connection failed|unreachable)/.test(readFileSync(log, 'utf8'))) {
      if (reference.exitCode !== null) throw new Error(`neutron-openvswitch-agent exited (${reference.exitCode}):\n${readFileSync(log, 'utf8').slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`neutron-openvswitch-agent did not set its bridges up:\n${readFileSync(log, 'utf8').slice(-3000)}`);
      await sleep(200);
    }
    const theirs = { flows: await flowsOf(ref), rows: await ovsdbRows(ref) };
    await stopFamily(reference);
    reference = undefined;

    // --- ours, the same settings, on a fresh switch
    const sb = await sandbox();
    const state = join(dir, 'state.json');
    writeFileSync(state, JSON.stringify({ networks: [], ports: [] }));
    const config = loadConfig({ env: {}, overrides: {
      'DEFAULT.host': 'reference-host', 'ovs.ovsdb_connection': sb.dbRemote, 'ovs.datapath_type': 'netdev',
      'ovs.integration_bridge': 'br-int', 'ovs.bridge_mappings': 'physnet1:br-eth1', 'ovs.local_ip': '127.0.0.1',
      'ovs.of_listen_port': 0, 'ovs_agent.openflow_channel': 'controller', 'agent.tunnel_types': 'vxlan',
      'agent.report_interval': 0, 'securitygroup.firewall_driver': 'noop', 'ovs_agent.state_file': state,
      'ovs_agent.ovs_rundir': sb.rundir,
    } }).config;
    ours = await runAgent({ config, logger: silentLogger, statusSocket: false });
    const waitFirstSync = Date.now() + 30_000;
    while (!ours.agent.status().firstSyncDone) {
      if (Date.now() > waitFirstSync) throw new Error('ovs-agent: no first sync');
      await sleep(20);
    }
    await ours.agent.whenIdle();
    const mine = { flows: await flowsOf(sb), rows: await ovsdbRows(sb) };
    await ours.stop();
    ours = undefined;

    // Ours keeps its cookie in the bridge (docs/agent.md, "Agent restarts"); Neutron's has none to keep.
    for (const br of Object.values(mine.rows.Bridge)) {
      const ids = br.external_ids as Record<string, Value>;
      expect(ids['ovs-agent-cookie'], 'our cookie kept in the bridge').to.match(/^0x[0-9a-f]+$/);
      delete ids['ovs-agent-cookie'];
      // In controller mode, the description the switch proves itself with to our listener (docs/agent.md,
      // "The controller arrangement"): new at every start, so its value is checked, not compared.
      const other = br.other_config as Record<string, Value>;
      expect(other['dp-desc'], 'the switch description for the controller listener').to.match(/^ovs-agent [0-9a-f]{24}$/);
      delete other['dp-desc'];
    }
    // Every difference at once, so one run shows them all.
    const differences: string[] = [];
    for (const br of BRIDGES) {
      for (const f of theirs.flows[br]) if (!mine.flows[br].includes(f)) differences.push(`${br}: missing flow ${f}`);
      for (const f of mine.flows[br]) if (!theirs.flows[br].includes(f)) differences.push(`${br}: extra flow ${f}`);
    }
    for (const table of ['Bridge', 'Port', 'Interface', 'Controller']) {
      const names = new Set([...Object.keys(theirs.rows[table]), ...Object.keys(mine.rows[table])]);
      for (const name of names) {
        const [t, m] = [theirs.rows[table][name], mine.rows[table][name]];
        if (!t || !m) {
          differences.push(`${table} ${name}: ${t ? 'missing' : 'extra'} row`);
          continue;
        }
        for (const col of new Set([...Object.keys(t), ...Object.keys(m)])) {
          if (JSON.stringify(t[col]) !== JSON.stringify(m[col])) {
            differences.push(`${table} ${name} ${col}: ours ${JSON.stringify(m[col])}, Neutron's ${JSON.stringify(t[col])}`);
          }
        }
      }
    }
    expect(differences, 'differences from neutron-openvswitch-agent').to.deep.equal([]);
  });
});
