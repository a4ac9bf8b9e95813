/**
 * Commands for an L2 agent on the Open_vSwitch database (ovsdbapp-like),
 * built on the replica. `openVswitch(remote)` starts a replica with the
 * tables they need and returns both.
 */
import type { ClientOptions } from '../client.js';
import type { OpenVSwitchTables } from '../models/index.js';
import { Replica } from '../replica/replica.js';
import type { ReplicaOptions } from '../replica/replica.js';
import { VSWITCH_COMMAND_TABLES, VswitchCommands } from './vswitch.js';

export { OvsdbCommandError, VSWITCH_COMMAND_TABLES, VswitchCommands } from './vswitch.js';
export type { BridgeOptions, CommandOptions, ControllerSpec, PortOptions, StringMap } from './vswitch.js';

/** Starts a replica of what the commands need (plus `extra` tables) and returns it with the commands. */
export async function openVswitch(
  remote: string,
  options: ClientOptions & Partial<Omit<ReplicaOptions<OpenVSwitchTables>, 'remote'>> = {},
): Promise<{ replica: Replica<OpenVSwitchTables>; commands: VswitchCommands }> {
  const replica = await Replica.start<OpenVSwitchTables>({ ...options, remote, tables: { ...VSWITCH_COMMAND_TABLES, ...options.tables } });
  return { replica, commands: new VswitchCommands(replica) };
}
