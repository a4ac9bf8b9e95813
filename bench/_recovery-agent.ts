/**
 * The agent under bench/recovery.ts, as a process of its own started inside
 * the sandbox's network namespace (`ip netns exec`), so that in controller
 * mode ovs-vswitchd reaches its listener on the namespace's 127.0.0.1, as on
 * a hypervisor. OVSDB and the management sockets are unix sockets, reached
 * from any namespace.
 *
 * argv[2]: JSON { db, rundir, state, mode: 'mgmt' | 'controller',
 * firewall: boolean, detection: 'events' | 'poll', listenPort }.
 * IPC: answers 'status' with { active, firstSyncDone, idle }; 'stop' stops
 * the agent (flows stay) and exits.
 */
import { runAgent } from '../lib/agent/run.js';
import { loadConfig } from '../lib/config/index.js';
import { silentLogger } from '../lib/log.js';

interface Args {
  db: string;
  rundir: string;
  state: string;
  mode: 'mgmt' | 'controller';
  firewall: boolean;
  detection: 'events' | 'poll';
  listenPort: number;
}

const args = JSON.parse(process.argv[2]) as Args;
const config = loadConfig({
  env: {},
  overrides: {
    'ovs.ovsdb_connection': args.db, 'ovs.datapath_type': 'netdev', 'ovs.bridge_mappings': 'physnet1:br-eth1',
    'ovs_agent.state_file': args.state, 'ovs_agent.ovs_rundir': args.rundir, 'ovs_agent.openflow_channel': args.mode,
    'ovs.of_listen_port': args.listenPort, 'agent.report_interval': 0, 'agent.polling_interval': 2,
    'securitygroup.firewall_driver': args.firewall ? 'openvswitch' : 'noop', 'DEFAULT.host': 'bench-recovery',
  },
}).config;
const running = await runAgent({ config, logger: silentLogger, statusSocket: false, restartDetection: args.detection });
process.on('message', (m: unknown) => {
  if (m === 'status') {
    // whenIdle() resolves at once when the agent is idle; otherwise the immediate wins.
    void Promise.race([running.agent.whenIdle().then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]).then((idle) => {
      const s = running.agent.status();
      process.send!({ active: running.agent.portCounts().ACTIVE, firstSyncDone: s.firstSyncDone, idle, ovsState: s.ovsState });
    });
  } else if (m === 'stop') {
    void running.stop().then(() => process.exit(0));
  }
});
process.send!('started');
