/**
 * `[securitygroup] firewall_driver`: the names Neutron 21 accepts, resolved
 * as it resolves them (docs/firewall.md#driver-names). Neutron looks a name
 * up first as an entry point of `neutron.agent.firewall_drivers`, then as a
 * Python class path (`module.Class`, the module importable); so a driver has
 * its alias and the class path of every module that holds its class.
 */
/** The drivers this agent has (the Firewall implementations of firewall.ts). */
export type FirewallDriverName = 'openvswitch' | 'noop' | 'iptables_hybrid';

/** A driver Neutron has and this agent does not (yet). */
export type UnsupportedDriverName = 'iptables';

export type ResolvedDriver =
  | { kind: 'supported'; driver: FirewallDriverName; alias: string }
  | { kind: 'unsupported'; driver: UnsupportedDriverName; alias: string; classPath: string };

interface DriverEntry {
  alias: string;
  classPaths: readonly string[];
}

const SUPPORTED: ReadonlyArray<DriverEntry & { driver: FirewallDriverName }> = [
  {
    driver: 'openvswitch', alias: 'openvswitch',
    // The package re-exports the class of its `firewall` module.
    classPaths: ['neutron.agent.linux.openvswitch_firewall.OVSFirewallDriver', 'neutron.agent.linux.openvswitch_firewall.firewall.OVSFirewallDriver'],
  },
  { driver: 'noop', alias: 'noop', classPaths: ['neutron.agent.firewall.NoopFirewallDriver'] },
  { driver: 'iptables_hybrid', alias: 'iptables_hybrid', classPaths: ['neutron.agent.linux.iptables_firewall.OVSHybridIptablesFirewallDriver'] },
];

const UNSUPPORTED: ReadonlyArray<DriverEntry & { driver: UnsupportedDriverName }> = [
  // Filters on a Linux bridge OVS ports are never plugged into: with the OVS agent it would filter nothing.
  { driver: 'iptables', alias: 'iptables', classPaths: ['neutron.agent.linux.iptables_firewall.IptablesFirewallDriver'] },
];

export class FirewallDriverError extends Error {
  override readonly name = 'FirewallDriverError';
  constructor(message: string, readonly code: 'FW_DRIVER_UNSUPPORTED' | 'FW_DRIVER_UNKNOWN') {
    super(message);
  }
}

/**
 * What a `firewall_driver` value names; unset or empty is noop, as in
 * Neutron (`firewall_driver or 'noop'`). Names are matched exactly, as
 * stevedore and Python's import do. Anything Neutron could not load is
 * FW_DRIVER_UNKNOWN.
 */
export function resolveFirewallDriver(name: string | undefined): ResolvedDriver {
  const n = name || 'noop';
  for (const e of SUPPORTED) {
    if (n === e.alias || e.classPaths.includes(n)) return { kind: 'supported', driver: e.driver, alias: e.alias };
  }
  for (const e of UNSUPPORTED) {
    if (n === e.alias || e.classPaths.includes(n)) return { kind: 'unsupported', driver: e.driver, alias: e.alias, classPath: e.classPaths[0] };
  }
  throw new FirewallDriverError(`unknown firewall_driver ${JSON.stringify(n)}: Neutron's drivers are ${knownNames()}`, 'FW_DRIVER_UNKNOWN');
}

/**
 * The driver to run, or a FirewallDriverError naming the option, the value
 * and where it was set (`where`: file and line) and saying why not.
 */
export function supportedFirewallDriver(name: string | undefined, where?: string): FirewallDriverName {
  const prefix = `[securitygroup] firewall_driver = ${name ?? ''}${where ? ` (set at ${where})` : ''}: `;
  let r: ResolvedDriver;
  try {
    r = resolveFirewallDriver(name);
  } catch (err) {
    throw new FirewallDriverError(prefix + (err as Error).message, 'FW_DRIVER_UNKNOWN');
  }
  if (r.kind === 'supported') return r.driver;
  throw new FirewallDriverError(
    `${prefix}the ${r.alias} driver (${r.classPath}) is not supported with Open vSwitch (it filters taps on Linux bridges that this agent does not plug); use iptables_hybrid, openvswitch or noop`, 'FW_DRIVER_UNSUPPORTED');
}

function knownNames(): string {
  return [...SUPPORTED, ...UNSUPPORTED].map((e) => e.alias).join(', ') + ' (or their class paths)';
}
