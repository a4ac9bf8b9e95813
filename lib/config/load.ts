/**
 * Loads the agent's configuration as oslo.config does: defaults, then each
 * `--config-file` in order (later files win per option), then environment
 * variables (`OVS_AGENT_<SECTION>_<OPTION>`, e.g. OVS_AGENT_OVS_LOCAL_IP),
 * then command-line overrides. Unknown options are warnings; a value that
 * does not parse is an error naming the option and where it was written.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { parseIni } from './ini.js';
import { OPTIONS, type OptionSpec } from './options.js';

export interface AgentConfig {
  DEFAULT: {
    host: string; debug: boolean; log_file: string | undefined; log_dir: string | undefined; transport_url: string; control_exchange: string;
    rpc_response_timeout: number; rpc_response_max_timeout: number; rpc_resources_processing_step: number;
  };
  ovs: {
    integration_bridge: string; tunnel_bridge: string; int_peer_patch_port: string; tun_peer_patch_port: string;
    local_ip: string | undefined; bridge_mappings: Record<string, string>; datapath_type: 'system' | 'netdev';
    vhostuser_socket_dir: string; of_listen_address: string; of_listen_port: number; of_connect_timeout: number;
    of_request_timeout: number; of_inactivity_probe: number; openflow_processed_per_port: boolean;
    ovsdb_connection: string; ovsdb_timeout: number; ovsdb_debug: boolean; bridge_mac_table_size: number;
    igmp_snooping_enable: boolean; [other: string]: unknown;
  };
  agent: {
    polling_interval: number; minimize_polling: boolean; tunnel_types: Array<'gre' | 'vxlan' | 'geneve'>;
    vxlan_udp_port: number; l2_population: boolean; arp_responder: boolean; dont_fragment: boolean;
    tunnel_csum: boolean; dscp: number | undefined; dscp_inherit: boolean; enable_distributed_routing: boolean;
    drop_flows_on_start: boolean; report_interval: number; log_agent_heartbeats: boolean; extensions: string[];
    [other: string]: unknown;
  };
  securitygroup: {
    firewall_driver: string; enable_security_group: boolean; enable_ipset: boolean; permitted_ethertypes: string[];
  };
  oslo_messaging_rabbit: {
    ssl: boolean; ssl_version: string; ssl_ca_file: string | undefined; ssl_cert_file: string | undefined; ssl_key_file: string | undefined;
    ssl_enforce_hostname_verification: boolean; ssl_enforce_fips_mode: boolean;
    heartbeat_timeout_threshold: number; rabbit_retry_interval: number; rabbit_retry_backoff: number; rabbit_interval_max: number;
    rabbit_transient_queues_ttl: number; amqp_durable_queues: boolean; amqp_auto_delete: boolean; rabbit_ha_queues: boolean;
    rabbit_quorum_queue: boolean; rabbit_quorum_delivery_limit: number; rabbit_quorum_max_memory_length: number;
    rabbit_quorum_max_memory_bytes: number;
  };
  ovs_agent: {
    control_plane: 'local' | 'neutron'; state_file: string; status_socket: string; ovs_rundir: string;
    openflow_channel: 'mgmt' | 'controller';
  };
}

/** Where a value came from, for error messages. */
export interface ValueSource {
  file: string;
  line?: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(message: string, readonly code: 'CONFIG_INVALID' | 'CONFIG_SYNTAX' | 'CONFIG_UNREADABLE', readonly source?: ValueSource) {
    super(message);
  }
}

/** A config file given with its contents (not read from disk), e.g. by a caller that already has them. */
export interface ConfigText {
  file: string;
  text: string;
}

export interface LoadOptions {
  /** `--config-file`s in order: paths, or files given with their text. */
  files?: Array<string | ConfigText>;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** `section.option` → value, from the command line (highest precedence). */
  overrides?: Record<string, string | number | boolean | string[]>;
}

export interface LoadedConfig {
  config: AgentConfig;
  warnings: string[];
}

const ENV_PREFIX = 'OVS_AGENT_';

function where(src: ValueSource): string {
  return src.line ? `${src.file}:${src.line}` : src.file;
}

function invalid(section: string, name: string, src: ValueSource, detail: string): ConfigError {
  return new ConfigError(`invalid value for [${section}] ${name} at ${where(src)}: ${detail}`, 'CONFIG_INVALID', src);
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function splitList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Converts one raw value according to its spec, as oslo.config's types do. */
export function convert(section: string, name: string, spec: OptionSpec, raw: unknown, src: ValueSource): unknown {
  const t = spec.type;
  const text = Array.isArray(raw) ? raw.join(',') : String(raw).trim();
  switch (t.kind) {
    case 'string':
      if (t.choices && !t.choices.includes(text)) throw invalid(section, name, src, `${JSON.stringify(text)} is not one of ${t.choices.join(', ')}`);
      return text;
    case 'int': {
      if (text === '' && spec.default === undefined) return undefined;
      if (!/^[+-]?\d+$/.test(text)) throw invalid(section, name, src, `${JSON.stringify(text)} is not an integer`);
      const n = Number(text);
      if (t.min !== undefined && n < t.min) throw invalid(section, name, src, `${n} is below the minimum ${t.min}`);
      if (t.max !== undefined && n > t.max) throw invalid(section, name, src, `${n} is above the maximum ${t.max}`);
      return n;
    }
    case 'float': {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) throw invalid(section, name, src, `${JSON.stringify(text)} is not a number`);
      if (t.min !== undefined && n < t.min) throw invalid(section, name, src, `${n} is below the minimum ${t.min}`);
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const l = text.toLowerCase();
      if (TRUE.has(l)) return true;
      if (FALSE.has(l)) return false;
      throw invalid(section, name, src, `${JSON.stringify(text)} is not a boolean (true/false)`);
    }
    case 'list': {
      const items = splitList(text);
      if (t.choices) {
        for (const item of items) {
          if (!t.choices.includes(item)) throw invalid(section, name, src, `${JSON.stringify(item)} is not one of ${t.choices.join(', ')}`);
        }
      }
      return items;
    }
    case 'dict': {
      // Keys are the operator's (physical network names): no prototype, so none is mistaken for a key.
      const out: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const item of splitList(text)) {
        const colon = item.indexOf(':');
        if (colon <= 0 || colon === item.length - 1) {
          throw invalid(section, name, src, `${JSON.stringify(item)} is not "key:value"`);
        }
        const key = item.slice(0, colon).trim();
        if (Object.hasOwn(out, key)) throw invalid(section, name, src, `key ${JSON.stringify(key)} appears twice`);
        out[key] = item.slice(colon + 1).trim();
      }
      return out;
    }
    case 'ip':
      if (text === '') return undefined;
      if (!isIP(text)) throw invalid(section, name, src, `${JSON.stringify(text)} is not an IP address`);
      return text;
  }
}

function defaults(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [section, opts] of Object.entries(OPTIONS)) {
    out[section] = {};
    for (const [name, spec] of Object.entries(opts as Record<string, OptionSpec>)) {
      const d = spec.default;
      out[section][name] = Array.isArray(d) ? [...d] : d && typeof d === 'object' ? { ...d } : d;
    }
  }
  out.DEFAULT.host = hostname();
  return out;
}

/**
 * section → option → spec. Section and option names come from files, the
 * environment and the command line: looked up in Maps, never as properties
 * of OPTIONS, so `constructor` or `__proto__` is an unknown name like any other.
 */
const SPECS: ReadonlyMap<string, ReadonlyMap<string, OptionSpec>> = new Map(
  Object.entries(OPTIONS).map(([section, opts]) => [section, new Map(Object.entries(opts as Record<string, OptionSpec>))]),
);

/** [section, option, environment variable] of every option. */
const ENV_KEYS: ReadonlyArray<readonly [string, string, string]> = [...SPECS].flatMap(([section, opts]) =>
  [...opts.keys()].map((name) => [section, name, `${ENV_PREFIX}${section.toUpperCase()}_${name.toUpperCase()}`] as const));

function specOf(section: string, name: string): OptionSpec | undefined {
  return SPECS.get(section)?.get(name);
}

function readConfigFile(file: string): ConfigText {
  try {
    return { file, text: readFileSync(file, 'utf8') };
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`, 'CONFIG_UNREADABLE', { file });
  }
}

/** `section\0name` of a deprecated name or section → the option it now is. */
const DEPRECATED = new Map<string, { section: string; name: string }>();
for (const [section, opts] of Object.entries(OPTIONS as Record<string, Record<string, OptionSpec>>)) {
  for (const [name, spec] of Object.entries(opts)) {
    for (const d of spec.deprecated ?? []) DEPRECATED.set(`${d.group ?? section}\0${d.name ?? name}`, { section, name });
  }
}

/** The option a deprecated section/name stands for, if any. */
function deprecatedOption(section: string, name: string): { section: string; name: string } | undefined {
  return DEPRECATED.get(`${section}\0${name}`);
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const values = defaults();
  // Where the bridges' .mgmt sockets are by default: $OVS_RUNDIR, as ovs-ofctl reads it.
  const rundir = (opts.env ?? process.env).OVS_RUNDIR;
  if (rundir) values.ovs_agent.ovs_rundir = rundir;
  const warnings: string[] = [];
  // Where each value that is not a default came from ("section.option" → source), for errors that span options.
  const origin = new Map<string, ValueSource>();
  const set = (section: string, name: string, value: unknown, src: ValueSource): void => {
    values[section][name] = value;
    origin.set(`${section}.${name}`, src);
  };

  for (const entry of opts.files ?? []) {
    const { file, text } = typeof entry === 'string' ? readConfigFile(entry) : entry;
    let doc;
    try {
      doc = parseIni(text, file);
    } catch (err) {
      const e = err as Error & { line?: number };
      throw new ConfigError(e.message, 'CONFIG_SYNTAX', { file, line: e.line });
    }
    const ignoredSections: string[] = [];
    for (const [section, entries] of doc) {
      if (!SPECS.has(section)) {
        // neutron.conf and friends carry many sections that are not the agent's business.
        ignoredSections.push(section);
        continue;
      }
      for (const [name, v] of entries) {
        const spec = specOf(section, name);
        const src = { file: v.file, line: v.line };
        if (spec) {
          set(section, name, convert(section, name, spec, v.value, src), src);
          continue;
        }
        const now = deprecatedOption(section, name);
        if (!now) {
          warnings.push(`unknown option [${section}] ${name} at ${v.file}:${v.line} (ignored)`);
          continue;
        }
        // As oslo.config: within one file the option's own name wins over a deprecated one.
        if (doc.get(now.section)?.has(now.name)) {
          warnings.push(`deprecated option [${section}] ${name} at ${v.file}:${v.line} ignored: [${now.section}] ${now.name} is set in the same file`);
          continue;
        }
        warnings.push(`deprecated option [${section}] ${name} at ${v.file}:${v.line}: use [${now.section}] ${now.name}`);
        set(now.section, now.name, convert(now.section, now.name, specOf(now.section, now.name)!, v.value, src), src);
      }
    }
    if (ignoredSections.length) warnings.push(`${file}: sections ignored (not used by the agent): ${ignoredSections.map((s) => `[${s}]`).join(' ')}`);
  }

  const env = opts.env ?? process.env;
  for (const [section, name, key] of ENV_KEYS) {
    const raw = env[key];
    if (raw === undefined) continue;
    set(section, name, convert(section, name, specOf(section, name)!, raw, { file: `environment ${key}` }), { file: `environment ${key}` });
  }

  for (const [dotted, raw] of Object.entries(opts.overrides ?? {})) {
    const dot = dotted.indexOf('.');
    const given = { section: dot < 0 ? 'DEFAULT' : dotted.slice(0, dot), name: dot < 0 ? dotted : dotted.slice(dot + 1) };
    const { section, name } = specOf(given.section, given.name) ? given : deprecatedOption(given.section, given.name) ?? given;
    const spec = specOf(section, name);
    if (!spec) throw new ConfigError(`unknown option ${dotted} on the command line`, 'CONFIG_INVALID', { file: 'command line' });
    set(section, name, convert(section, name, spec, raw, { file: `command line --${dotted}` }), { file: `command line --${dotted}` });
  }

  const config = values as unknown as AgentConfig;
  origins.set(config, origin);
  validate(config, origin);
  return { config, warnings };
}

/** Where each loaded configuration's options were set (only those not left at their default). */
const origins = new WeakMap<AgentConfig, ReadonlyMap<string, ValueSource>>();

/** Where `section.option` of a loaded configuration was set (`file:line`), for errors found after loading. */
export function optionSource(config: AgentConfig, option: string): string | undefined {
  const src = origins.get(config)?.get(option);
  return src ? where(src) : undefined;
}

/** Cross-option rules Neutron enforces at start-up; each error names where the option it blames was set. */
function validate(c: AgentConfig, origin: ReadonlyMap<string, ValueSource>): void {
  const fail = (option: string, message: string): never => {
    const src = origin.get(option);
    throw new ConfigError(src ? `${message} (set at ${where(src)})` : message, 'CONFIG_INVALID', src);
  };
  if (c.agent.tunnel_types.length && !c.ovs.local_ip) {
    fail('agent.tunnel_types', '[agent] tunnel_types is set but [ovs] local_ip is not: tunnels need a local endpoint address');
  }
  const bridges = Object.values(c.ovs.bridge_mappings);
  const dup = bridges.find((b, i) => bridges.indexOf(b) !== i);
  if (dup) fail('ovs.bridge_mappings', `[ovs] bridge_mappings maps two physical networks to bridge ${dup}`);
  if (bridges.includes(c.ovs.integration_bridge)) {
    fail('ovs.bridge_mappings', `[ovs] bridge_mappings uses the integration bridge ${c.ovs.integration_bridge}`);
  }
}
