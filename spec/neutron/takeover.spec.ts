/**
 * The takeover procedure of the README, run as an operator would run it on a
 * hypervisor: Debian's neutron-openvswitch-agent 21 wires VMs (real network
 * namespaces on veth pairs, the `openvswitch` firewall with a security group
 * that admits its own members), traffic flows between them, the reference
 * agent is stopped and ovs-agent started from the same configuration file,
 * against the same neutron-server and RabbitMQ.
 *
 * What must hold while ovs-agent takes over: not one packet of a long-lived
 * ping lost, a long-lived TCP connection keeps echoing every line, every new
 * TCP connection is accepted, the ports stay ACTIVE; and afterwards every
 * flow on br-int is ovs-agent's own (none of the reference agent's cookies
 * left).
 *
 * The sandbox's daemons, and both agents (ovs-vswitchd connects to the
 * agent's OpenFlow controller on the namespace's loopback), run in a network namespace of their own, so the
 * VMs' veth pairs are real devices; RabbitMQ, on the host's loopback, is
 * reached from there through a relay over a unix socket (file system
 * sockets cross network namespaces).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { readStatus } from '../../lib/agent/status-socket.js';
import { freePort, type NeutronEnv } from '../../testing/neutron-env.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { stopFamily } from '../../testing/process-family.js';
import { portStatus, until, type ApiPort } from './helpers/neutron-agent.js';
import { sharedNeutronEnv } from './helpers/shared-env.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROOT = new URL('../../', import.meta.url).pathname;
const HOST = 'takeover-host';
const VMS = 6;

/** A long-lived ping: every echo request's sequence number and whether its reply came. */
class LongPing {
  private out = '';
  private readonly child: ChildProcess;

  constructor(ns: string, to: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, 'ping', '-i', '0.05', '-n', to], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
  }

  /** Stops it; the requests sent and the sequence numbers of those never answered. */
  async stop(): Promise<{ sent: number; lost: number[] }> {
    // Replies to the last requests are waited for before ping is told to stop.
    await sleep(1000);
    const closed = new Promise((r) => this.child.on('close', r));
    this.child.kill('SIGINT');
    await closed;
    const sent = Number(/(\d+) packets transmitted/.exec(this.out)?.[1] ?? NaN);
    const answered = new Set([...this.out.matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1])));
    const lost: number[] = [];
    for (let seq = 1; seq <= sent; seq++) if (!answered.has(seq)) lost.push(seq);
    return { sent, lost };
  }
}

/** One TCP connection kept open, a numbered line written every 50 ms, each expected back (an echo server). */
class LongTcp {
  private readonly child: ChildProcess;
  private sent = 0;
  private echoed = '';
  private timer: NodeJS.Timeout;
  private exit: string | undefined;

  constructor(ns: string, to: string, port: number) {
    this.child = spawn('ip', ['netns', 'exec', ns, 'socat', '-', `TCP:${to}:${port},connect-timeout=2`], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.echoed += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.exit = `${this.exit ?? ''}${d.toString()}`));
    this.child.on('close', (code) => (this.exit = `${this.exit ?? ''} exited ${code}`));
    this.timer = setInterval(() => this.child.stdin!.write(`${++this.sent}\n`), 50);
  }

  async stop(): Promise<{ sent: number; echoed: number; missing: number[]; exit: string | undefined }> {
    clearInterval(this.timer);
    await sleep(1000);
    const exit = this.exit;
    const got = new Set(this.echoed.split('\n').filter(Boolean).map(Number));
    const missing: number[] = [];
    for (let i = 1; i <= this.sent; i++) if (!got.has(i)) missing.push(i);
    await stopFamily(this.child?.pid, 1000);
    return { sent: this.sent, echoed: got.size, missing, exit };
  }
}

/**
 * One fresh TCP connection carrying `line` to an echo server: what came
 * back, or the error. socat half-closes after the line, the server's `cat`
 * then ends, and the connection closes.
 */
async function echoOnce(ns: string, to: string, port: number, line: string): Promise<string> {
  const child = execFile('ip', ['netns', 'exec', ns, 'socat', '-T3', '-', `TCP:${to}:${port},connect-timeout=3`], { timeout: 10_000 });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin!.end(`${line}\n`);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`socat to ${to}:${port} exited ${code}: ${err.trim()}`);
  return out.trim();
}

/** A new TCP connection every 200 ms, each carrying one line that must come back. */
class NewConnections {
  private running = true;
  readonly results: Array<{ ok: boolean; detail: string }> = [];
  private readonly done: Promise<void>;

  constructor(ns: string, to: string, port: number) {
    this.done = (async () => {
      while (this.running) {
        const started = Date.now();
        try {
          const echoed = await echoOnce(ns, to, port, 'hello');
          this.results.push({ ok: echoed === 'hello', detail: `echoed ${JSON.stringify(echoed)}` });
        } catch (err) {
          this.results.push({ ok: false, detail: (err as Error).message.trim() });
        }
        await sleep(Math.max(0, 200 - (Date.now() - started)));
      }
    })();
  }

  async stop(): Promise<Array<{ ok: boolean; detail: string }>> {
    this.running = false;
    await this.done;
    return this.results;
  }
}

describe('taking a host over from neutron-openvswitch-agent, traffic flowing @integration', function () {
  this.timeout(400_000);
  let env: NeutronEnv;
  let sb: OvsSandbox | undefined;
  const sbOf = (): OvsSandbox => sb!;
  const children: ChildProcess[] = [];
  const namespaces: string[] = [];
  const suffix = Math.random().toString(36).slice(2, 6);
  const vmNs = (n: number) => `tko${n}-${suffix}`;
  let reference: ChildProcess | undefined;
  let ours: ChildProcess | undefined;
  let logDir = '';

  const inNs = (ns: string, ...cmd: string[]) => run('ip', ['netns', 'exec', ns, ...cmd], { timeout: 10_000 });

  function spawnLogged(name: string, file: string, args: string[]): ChildProcess {
    const fd = openSync(join(logDir, `${name}.log`), 'a');
    try {
      const child = spawn(file, args, { cwd: ROOT, stdio: ['ignore', fd, fd], env: { ...process.env, OVS_RUNDIR: sb!.rundir, OVS_DBDIR: sb!.dir } });
      children.push(child);
      return child;
    } finally {
      closeSync(fd);
    }
  }

  const logTail = (name: string, n = 20) => {
    try {
      const lines = readFileSync(join(logDir, `${name}.log`), 'utf8').split('\n');
      const trouble = lines.filter((l) => /WARNING|ERROR|"level":"(warn|error)"/.test(l)).slice(0, 30);
      return [...trouble, '...', ...lines.slice(-n)].join('\n');
    } catch {
      return '(no log)';
    }
  };

  /** br-int's flows' cookies (ovs-ofctl, the oracle). */
  async function cookies(): Promise<Set<string>> {
    const out = await sb!.ofctl('dump-flows', 'br-int');
    return new Set([...out.matchAll(/cookie=(0x[0-9a-f]+)/g)].map((m) => m[1]));
  }

  before(async function () {
    this.timeout(180_000);
    env = await sharedNeutronEnv();
    sb = await OvsSandbox.start({ devices: 'netns' });
    logDir = sb.dir;
    await sb.vsctl('add-br', 'br-eth1', '--', 'set', 'bridge', 'br-eth1', 'datapath_type=netdev');
    // Neutron's agent refuses a tunnel local_ip the host does not have.
    await run('ip', ['netns', 'exec', sb.netns!, 'ip', 'addr', 'add', '192.0.2.77/32', 'dev', 'lo']);

    // RabbitMQ into the sandbox's namespace: host loopback ⇄ unix socket ⇄ the namespace's loopback.
    const amqpPort = env.rabbit.port;
    const relaySock = join(sb.dir, 'amqp-relay.sock');
    children.push(spawn('socat', [`UNIX-LISTEN:${relaySock},fork,unlink-early`, `TCP:127.0.0.1:${amqpPort}`], { stdio: 'ignore' }));
    await until(() => existsSync(relaySock), 'the host side of the RabbitMQ relay', 5000, 20);
    children.push(spawn('ip', ['netns', 'exec', sb.netns!, 'socat', `TCP-LISTEN:${amqpPort},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${relaySock}`], { stdio: 'ignore' }));

    // The network, a security group that admits its own members (remote-group flows, conjunctions), the ports.
    const { network } = await env.api.post<{ network: { id: string } }>('/networks', { network: { name: `takeover-${suffix}`, 'provider:network_type': 'vxlan' } });
    await env.api.post('/subnets', { subnet: { network_id: network.id, cidr: '10.77.0.0/24', ip_version: 4, enable_dhcp: false } });
    const { security_group: sg } = await env.api.post<{ security_group: { id: string } }>('/security-groups', { security_group: { name: `takeover-${suffix}` } });
    for (const protocol of ['icmp', 'tcp']) {
      await env.api.post('/security-group-rules', { security_group_rule: { security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', protocol, remote_group_id: sg.id } });
    }
    sgId = sg.id;
    networkId = network.id;
  });

  let sgId = '';
  let networkId = '';

  /** Ports bound to this host (its agent must be alive, or binding fails) and their VMs, plugged on br-int as os-vif plugs them. */
  async function makeVms(): Promise<ApiPort[]> {
    const sb = sbOf();
    const { ports } = await env.api.post<{ ports: ApiPort[] }>('/ports', {
      ports: Array.from({ length: VMS }, (_, i) => ({
        network_id: networkId, 'binding:host_id': HOST, device_owner: 'compute:nova', device_id: `vm-tko-${i + 1}`, security_groups: [sgId],
      })),
    });

    // The VMs: a namespace each, a veth pair plugged on br-int as os-vif plugs it.
    for (const [i, port] of ports.entries()) {
      const n = i + 1;
      const ns = vmNs(n);
      const dev = `tko${n}${suffix}`;
      await run('ip', ['netns', 'add', ns]);
      namespaces.push(ns);
      await run('ip', ['link', 'add', dev, 'type', 'veth', 'peer', 'name', `tko${n}v${suffix}`]);
      await run('ip', ['link', 'set', dev, 'netns', sb.netns!]);
      await run('ip', ['link', 'set', `tko${n}v${suffix}`, 'netns', ns]);
      await inNs(ns, 'ip', 'link', 'set', `tko${n}v${suffix}`, 'name', 'eth0');
      await inNs(ns, 'ip', 'link', 'set', 'eth0', 'address', port.mac_address);
      await inNs(ns, 'ip', 'addr', 'add', `${port.fixed_ips[0].ip_address}/24`, 'dev', 'eth0');
      await inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
      await inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
      // The userspace datapath does not fill in checksums the kernel left to the NIC.
      await inNs(ns, 'ethtool', '-K', 'eth0', 'tx', 'off');
      await run('ip', ['netns', 'exec', sb.netns!, 'ip', 'link', 'set', dev, 'up']);
      await sb.vsctl('--may-exist', 'add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev');
      await sb.vsctl('add-port', 'br-int', dev, '--', 'set', 'Interface', dev,
        `external_ids:iface-id=${port.id}`, `external_ids:attached-mac=${port.mac_address}`, 'external_ids:iface-status=active', `external_ids:vm-uuid=vm-tko-${n}`);
    }
    return ports;
  }

  after(async function () {
    this.timeout(60_000);
    await stopFamily(ours?.pid);
    await stopFamily(reference?.pid);
    for (const c of children) await stopFamily(c.pid, 2000);
    for (const ns of namespaces) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    await sb?.stop();
  });

  it('loses no packet of a long-lived ping, keeps an established TCP connection and accepts every new one while ovs-agent replaces the reference agent', async () => {
    const ofPort = await freePort();
    const ini = join(sb!.dir, 'agent.ini');
    const statusSock = join(sb!.dir, 'ovs-agent-status.sock');
    // One file for both agents: Neutron's options (ovs-agent's defaults make it Neutron's agent with them), and the
    // sandbox's paths for ours in a section Neutron's agent does not read.
    writeFileSync(ini, `[DEFAULT]
host = ${HOST}
transport_url = ${env.transportUrl}
[ovs]
ovsdb_connection = ${sb!.dbRemote}
datapath_type = netdev
integration_bridge = br-int
bridge_mappings = physnet1:br-eth1
local_ip = 192.0.2.77
of_listen_port = ${ofPort}
[agent]
tunnel_types = vxlan
report_interval = 5
root_helper = env
[securitygroup]
firewall_driver = openvswitch
[ovs_agent]
ovs_rundir = ${sb!.rundir}
status_socket = ${statusSock}
`);
    reference = spawnLogged('reference', 'ip', ['netns', 'exec', sb!.netns!, '/usr/bin/python3', '/usr/bin/neutron-openvswitch-agent', '--config-file', ini]);
    let ports: ApiPort[] = [];
    try {
      await until(async () => {
        const { agents } = await env.api.get<{ agents: Array<{ alive: boolean; agent_type: string }> }>(`/agents?host=${HOST}`);
        return agents.some((a) => a.alive && a.agent_type === 'Open vSwitch agent');
      }, 'neutron-openvswitch-agent alive in GET /v2.0/agents', 120_000, 250);
      ports = await makeVms();
      await until(async () => {
        for (const p of ports) if ((await portStatus(env, p.id)) !== 'ACTIVE') return false;
        return true;
      }, `every port ACTIVE, wired by neutron-openvswitch-agent`, 120_000, 250);
      // Wired is not yet filtered everywhere: wait until the group's members reach each other.
      await until(async () => {
        await inNs(vmNs(1), 'ping', '-c1', '-W1', ports[1].fixed_ips[0].ip_address);
        await inNs(vmNs(3), 'ping', '-c1', '-W1', ports[3].fixed_ips[0].ip_address);
        return true;
      }, 'vm1 → vm2 and vm3 → vm4 answered under the reference agent', 60_000, 250);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- reference agent ---\n${logTail('reference')}`, { cause: err });
    }
    const ip = (n: number) => ports[n - 1].fixed_ips[0].ip_address;
    const referenceCookies = await cookies();

    children.push(spawn('ip', ['netns', 'exec', vmNs(2), 'socat', 'TCP-LISTEN:5000,reuseaddr,fork', 'EXEC:cat'], { stdio: 'ignore' }));
    children.push(spawn('ip', ['netns', 'exec', vmNs(5), 'socat', 'TCP-LISTEN:5001,reuseaddr,fork', 'EXEC:cat'], { stdio: 'ignore' }));
    await until(async () => (await echoOnce(vmNs(4), ip(5), 5001, 'ready')) === 'ready' && (await echoOnce(vmNs(3), ip(2), 5000, 'ready')) === 'ready',
      'the echo servers', 10_000, 100);

    const ping = new LongPing(vmNs(1), ip(2));
    const tcp = new LongTcp(vmNs(3), ip(2), 5000);
    const fresh = new NewConnections(vmNs(4), ip(5), 5001);
    await sleep(2000);

    // The takeover: stop the reference agent (its flows stay), start ovs-agent on the same file.
    await stopFamily(reference?.pid);
    reference = undefined;
    await sleep(1000);
    const takeoverAt = Date.now();
    ours = spawnLogged('ovs-agent', 'ip', ['netns', 'exec', sb!.netns!, process.execPath, '--import', 'tsx', join(ROOT, 'bin/ovs-agent.ts'), 'run', '--config-file', ini]);
    try {
      await until(async () => {
        const s = await readStatus(statusSock, 2000);
        return s.firstSyncDone && s.ports.filter((p) => p.state === 'ACTIVE').length === VMS;
      }, 'ovs-agent: first full sync done, every port ACTIVE', 120_000, 200);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- ovs-agent ---\n${logTail('ovs-agent')}`, { cause: err });
    }
    const syncedAfterS = (Date.now() - takeoverAt) / 1000;
    await sleep(3000);

    const pinged = await ping.stop();
    const echoed = await tcp.stop();
    const fresher = await fresh.stop();
    const ourCookies = await cookies();
    const statuses = await Promise.all(ports.map((p) => portStatus(env, p.id)));

    console.log(`      takeover: ovs-agent's first full sync ${syncedAfterS.toFixed(1)} s after its start; ${pinged.sent} pings, ${pinged.lost.length} lost; ` +
      `${echoed.sent} lines on the long-lived connection, ${echoed.missing.length} missing; ${fresher.length} new connections, ${fresher.filter((r) => !r.ok).length} failed`);
    expect(pinged.sent, 'echo requests sent over the takeover').to.be.greaterThan(60);
    expect(pinged.lost, `pings lost (of ${pinged.sent})`).to.deep.equal([]);
    expect(echoed.exit, 'the long-lived connection still open').to.equal(undefined);
    expect(echoed.sent).to.be.greaterThan(60);
    expect(echoed.missing, `lines not echoed on the long-lived connection (of ${echoed.sent})`).to.deep.equal([]);
    expect(fresher.length, 'new connections tried').to.be.greaterThan(10);
    expect(fresher.filter((r) => !r.ok), 'new connections that failed').to.deep.equal([]);
    expect(statuses, 'ports in the API').to.deep.equal(ports.map(() => 'ACTIVE'));
    expect([...ourCookies].filter((c) => referenceCookies.has(c)), 'the reference agent\'s cookies left on br-int').to.deep.equal([]);
  });
});
