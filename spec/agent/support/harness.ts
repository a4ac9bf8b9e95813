/**
 * Starts an agent on a sandbox the way bin/ovs-agent does, with a local
 * control-plane file, and helps tests plug ports the way nova does.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OvsAgent, type PassSummary } from '../../../lib/agent/agent.js';
import { ReplicaDatabase } from '../../../lib/agent/ovs/replica-database.js';
import type { FlowChannel, SwitchDatabase } from '../../../lib/agent/switch.js';
import { loadConfig, type AgentConfig } from '../../../lib/config/index.js';
import { LocalControlPlane } from '../../../lib/control-plane/local/index.js';
import type { ControlPlane } from '../../../lib/control-plane/types.js';
import { parseDumpLine, flowText } from '../../support/dump-lines.js';
import type { OvsSandbox } from '../../../testing/sandbox.js';
import { OpenFlowBridgeChannel } from '../../../lib/agent/ovs/openflow-channel.js';
import type { Firewall } from '../../../lib/firewall/index.js';
import type { Logger } from '../../../lib/log.js';

export interface HarnessOptions {
  overrides?: Record<string, string | number | boolean>;
  /** Wraps the control plane the agent sees (fault injection). */
  wrapControlPlane?: (cp: LocalControlPlane) => ControlPlane;
  /** Reuse another harness's state file (an agent restart). */
  stateFile?: string;
  channel?: (sb: OvsSandbox, bridge: string) => Promise<FlowChannel>;
  /** Wraps the OVSDB the agent writes through (fault injection); `db` stays the real replica. */
  wrapDb?: (db: ReplicaDatabase) => SwitchDatabase;
  /** The security-group firewall the agent drives (default: none). */
  firewall?: () => Firewall;
  /** Where the agent logs (default: nowhere). */
  logger?: Logger;
}

export class AgentHarness {
  agent!: OvsAgent;
  cp!: LocalControlPlane;
  db!: ReplicaDatabase;
  config!: AgentConfig;
  readonly dir: string;
  readonly stateFile: string;
  readonly passes: PassSummary[] = [];
  readonly errors: Error[] = [];
  readonly channels = new Map<string, FlowChannel>();

  constructor(readonly sb: OvsSandbox, private readonly opts: HarnessOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'agent-harness-'));
    this.stateFile = opts.stateFile ?? join(this.dir, 'state.json');
  }

  writeState(state: unknown): void {
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, typeof state === 'string' ? state : JSON.stringify(state, null, 2));
    renameSync(tmp, this.stateFile);
  }

  async start(): Promise<OvsAgent> {
    this.config = loadConfig({
      env: {},
      overrides: {
        'ovs.ovsdb_connection': this.sb.dbRemote, 'ovs.datapath_type': 'netdev', 'ovs_agent.state_file': this.stateFile,
        'ovs_agent.ovs_rundir': this.sb.rundir, 'agent.report_interval': 0, 'DEFAULT.host': 'test-host',
        ...this.opts.overrides,
      },
    }).config;
    this.db = await ReplicaDatabase.connect(this.sb.dbRemote);
    this.cp = new LocalControlPlane({ file: this.stateFile, debounceMs: 10, onError: (e) => this.errors.push(e) });
    const makeChannel = this.opts.channel ??
      ((sb: OvsSandbox, bridge: string) => OpenFlowBridgeChannel.connect(bridge, `unix:${sb.mgmtSocket(bridge)}`));
    this.agent = new OvsAgent({
      config: this.config, controlPlane: this.opts.wrapControlPlane?.(this.cp) ?? this.cp, db: this.opts.wrapDb?.(this.db) ?? this.db,
      openFlowChannel: async (bridge) => {
        const ch = await makeChannel(this.sb, bridge);
        this.channels.set(bridge, ch);
        return ch;
      },
      onPass: (s) => this.passes.push(s),
      firewall: this.opts.firewall?.(),
      logger: this.opts.logger,
    });
    await this.agent.start();
    return this.agent;
  }

  /** Stops the agent (flows stay on the switch) and its database connection. */
  async stopAgent(): Promise<void> {
    await this.agent?.stop();
    await this.db?.close();
  }

  async stop(): Promise<void> {
    await this.stopAgent();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Plugs a VM port as nova/os-vif does: an interface on br-int with iface-id and attached-mac. */
  async plug(name: string, portId: string, mac: string, bridge = 'br-int'): Promise<void> {
    await this.sb.vsctl('--', '--may-exist', 'add-port', bridge, name, '--', 'set', 'Interface', name,
      `external_ids:iface-id=${portId}`, `external_ids:attached-mac=${mac}`, 'external_ids:iface-status=active');
  }

  async unplug(name: string, bridge = 'br-int'): Promise<void> {
    await this.sb.vsctl('--', '--if-exists', 'del-port', bridge, name);
  }

  /** Waits until `cond` holds, checking after every pass and every 20 ms. */
  async until(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; status: ${JSON.stringify(this.agent.status().ports)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  portState(id: string): string | undefined {
    return this.agent.status().ports.find((p) => p.portId === id)?.state;
  }

  /** The bridge's flows as `table=N, priority=P,MATCH actions=A` lines plus their cookie, from ovs-ofctl (the oracle). */
  async flows(bridge: string): Promise<Array<{ text: string; cookie: bigint; duration: number }>> {
    const out = await this.sb.ofctl('-O', 'OpenFlow13', '--no-names', 'dump-flows', bridge);
    return out.split('\n').flatMap((line) => {
      const d = parseDumpLine(line);
      if (!d) return [];
      const duration = Number(/duration=([\d.]+)s/.exec(line)?.[1] ?? 'NaN');
      return [{ text: flowText(d.flow), cookie: d.cookie, duration }];
    });
  }

  async flowTexts(bridge: string): Promise<string[]> {
    return (await this.flows(bridge)).map((f) => f.text).sort();
  }

  async ofport(name: string): Promise<number> {
    for (;;) {
      const v = (await this.sb.vsctl('get', 'Interface', name, 'ofport')).trim();
      if (/^[1-9]\d*$/.test(v)) return Number(v);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
