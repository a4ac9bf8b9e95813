/**
 * Loads the agent's configuration as oslo.config does (docs/configuration.md,
 * "How the files are read"): defaults, then each `--config-file` or
 * `--config-dir` in order (later files win per option; a multi-valued option
 * gathers every value), then environment variables
 * (`OVS_AGENT_<SECTION>_<OPTION>`, e.g. OVS_AGENT_OVS_LOCAL_IP), then
 * command-line overrides. Section names other than DEFAULT are read in lower
 * case, deprecated names and sections stand for their option, and `$name` /
 * `${section.name}` in a value is replaced by that option's value. Every
 * option Neutron's agent reads is in the inventory (inventory.ts): one this
 * agent does not honour is warned about, or refused, when set; options and
 * sections no one reads are warned about once per file, with their lines.
 * A value that does not parse is an error naming the option and where it
 * was written.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { parseIni } from './ini.js';
import { BY_SECTION, INVENTORY, namesOf, normalizeSection, type InventoryEntry } from './inventory.js';
import { OPTIONS, type OptionSpec } from './options.js';
import { ConfigError, convert, copyDefault, invalid, where, type ValueSource } from './values.js';

export { ConfigError, convert, type ValueSource } from './values.js';

export interface AgentConfig {
  DEFAULT: {
    host: string; debug: boolean; log_file: string | undefined; log_dir: string | undefined; transport_url: string; control_exchange: string;
    rpc_response_timeout: number; rpc_response_max_timeout: number; rpc_resources_processing_step: number;
  };
  ovs: {
    integration_bridge: string; tunnel_bridge: string; int_peer_patch_port: string; tun_peer_patch_port: string;
    local_ip: string | undefined; bridge_mappings: Record<string, string>; datapath_type: 'system' | 'netdev';
    vhostuser_socket_dir: string; of_listen_address: string; of_listen_port: number; of_connect_timeout: number;
    of_inactivity_probe: number;
    ovsdb_connection: string; ovsdb_timeout: number; bridge_mac_table_size: number;
    igmp_snooping_enable: boolean; [other: string]: unknown;
  };
  agent: {
    polling_interval: number; tunnel_types: Array<'gre' | 'vxlan' | 'geneve'>;
    vxlan_udp_port: number; l2_population: boolean; arp_responder: boolean; dont_fragment: boolean;
    tunnel_csum: boolean; dscp: number | undefined; dscp_inherit: boolean;
    drop_flows_on_start: boolean; report_interval: number; log_agent_heartbeats: boolean;
    /** Only `qos` is accepted (options.ts). */
    extensions: Array<'qos' | 'trunk'>;
    [other: string]: unknown;
  };
  securitygroup: {
    firewall_driver: string; enable_security_group: boolean; permitted_ethertypes: string[];
  };
  oslo_messaging_rabbit: {
    ssl: boolean; ssl_version: string; ssl_ca_file: string | undefined; ssl_cert_file: string | undefined; ssl_key_file: string | undefined;
    ssl_enforce_hostname_verification: boolean; ssl_enforce_fips_mode: boolean;
    heartbeat_timeout_threshold: number; rabbit_retry_interval: number; rabbit_retry_backoff: number; rabbit_interval_max: number;
    rabbit_transient_queues_ttl: number; amqp_durable_queues: boolean; amqp_auto_delete: boolean; rabbit_ha_queues: boolean;
    rabbit_quorum_queue: boolean; rabbit_quorum_delivery_limit: number; rabbit_quroum_max_memory_length: number;
    rabbit_quroum_max_memory_bytes: number;
  };
  ovs_agent: {
    control_plane: 'local' | 'neutron'; state_file: string; status_socket: string; ovs_rundir: string;
    openflow_channel: 'mgmt' | 'controller'; metrics_address: string | undefined;
    hybrid_backend: 'iptables' | 'nftables';
  };
}

/** A config file given with its contents (not read from disk), e.g. by a caller that already has them. */
export interface ConfigText {
  file: string;
  text: string;
}

/** A `--config-dir`: its `*.conf` files, in name order, read where it stands among the files. */
export interface ConfigDir {
  dir: string;
}

export interface LoadOptions {
  /** `--config-file`s and `--config-dir`s in command-line order: paths, files given with their text, or directories. */
  files?: Array<string | ConfigText | ConfigDir>;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** `section.option` → value, from the command line (highest precedence). */
  overrides?: Record<string, string | number | boolean | string[]>;
}

export interface LoadedConfig {
  config: AgentConfig;
  warnings: string[];
  /** The value of any option of the inventory, honoured or not (undefined for a name no option has). */
  value(section: string, name: string): unknown;
}

const ENV_PREFIX = 'OVS_AGENT_';

function readConfigFile(file: string): ConfigText {
  try {
    return { file, text: readFileSync(file, 'utf8') };
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`, 'CONFIG_UNREADABLE', { file });
  }
}

/** oslo.config's --config-dir: the directory's `*.conf` files in name order (a missing directory is an error, as oslo's). */
function configDirFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new ConfigError(`cannot read config directory ${dir}: ${(err as Error).message}`, 'CONFIG_UNREADABLE', { file: dir });
  }
  return names.filter((n) => n.endsWith('.conf')).sort().map((n) => join(dir, n));
}

/** One value as written: its text and where. */
interface Written {
  value: string;
  file: string;
  line: number;
}

/** One parsed file: normalized section → option → every value written for it, in file order. */
type ParsedFile = Map<string, Map<string, Written[]>> & { written?: Map<string, string> };

function parseFile(file: string, text: string): ParsedFile {
  let doc;
  try {
    doc = parseIni(text, file);
  } catch (err) {
    const e = err as Error & { line?: number };
    throw new ConfigError(e.message, 'CONFIG_SYNTAX', { file, line: e.line });
  }
  const out: ParsedFile = new Map();
  out.written = new Map();
  for (const [written, entries] of doc) {
    // [OVS] and [ovs] are one section for oslo.config: their values merge in line order.
    const section = normalizeSection(written);
    if (!out.written.has(section)) out.written.set(section, written);
    let opts = out.get(section);
    if (!opts) out.set(section, (opts = new Map()));
    for (const [name, v] of entries) {
      const all = [...(v.earlier ?? []), v].map((x) => ({ value: x.value, file, line: x.line }));
      const prev = opts.get(name);
      opts.set(name, prev ? [...prev, ...all].sort((p, q) => p.line - q.line) : all);
    }
  }
  return out;
}

/** What the files say of one option: the value that wins (every value of a multi-valued one) and where. */
interface FileValue {
  raw: string | string[];
  src: ValueSource;
}

/** The file values of an option, as oslo.config's _get_file_value finds them (the last file first; in a file, its own name first). */
function fileValue(e: InventoryEntry, files: readonly ParsedFile[], warnings: string[]): FileValue | undefined {
  const names = namesOf(e);
  const multi = e.spec.type.kind === 'multi';
  let gathered: Written[] = [];
  for (let i = files.length - 1; i >= 0; i--) {
    const found = names.map((n) => ({ n, values: files[i].get(n.section)?.get(n.name) })).filter((f) => f.values);
    if (!found.length) continue;
    for (const { n, values } of found) {
      if (n.section === e.section && n.name === e.name) continue;
      const at = `${values![0].file}:${values![0].line}`;
      if (!multi && found[0].n !== n) {
        warnings.push(`deprecated option [${n.section}] ${n.name} at ${at} ignored: [${e.section}] ${e.name} is set in the same file`);
      } else {
        warnings.push(n.note ? `option [${n.section}] ${n.name} at ${at} read as [${e.section}] ${e.name}: ${n.note}`
          : `deprecated option [${n.section}] ${n.name} at ${at}: use [${e.section}] ${e.name}`);
      }
    }
    if (!multi) {
      const last = found[0].values![found[0].values!.length - 1];
      return { raw: last.value, src: { file: last.file, line: last.line } };
    }
    // As oslo.config: each name found is put in front of what was gathered, so in a file deprecated names' values come first.
    for (const f of found) gathered = [...f.values!, ...gathered];
  }
  if (!gathered.length) return undefined;
  return { raw: gathered.map((w) => w.value), src: { file: gathered[0].file, line: gathered[0].line } };
}

/** `$name`, `${name}`, `${section.name}` and `$$` (oslo.config's string.Template, names case-insensitive). */
const TEMPLATE = /\$(?:(\$)|([_a-z][._a-z0-9]*)|\{([_a-z][._a-z0-9]*)\})/gi;

/** A value as `$name` shows it (Python's str() of what oslo.config holds). */
function templateText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (Array.isArray(v)) return `[${v.map((x) => `'${String(x)}'`).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `'${k}': '${String(x)}'`).join(', ')}}`;
  return String(v);
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const warnings: string[] = [];
  const env = opts.env ?? process.env;

  const files: ParsedFile[] = [];
  for (const entry of opts.files ?? []) {
    const texts = typeof entry === 'string' ? [readConfigFile(entry)]
      : 'dir' in entry ? configDirFiles(entry.dir).map(readConfigFile) : [entry];
    for (const { file, text } of texts) files.push(parseFile(file, text));
  }

  // Options and sections that no option is read under: one warning a file, with their lines.
  const claimed = new Set<string>();
  const claimedSections = new Set<string>();
  for (const e of INVENTORY) {
    for (const n of namesOf(e)) {
      claimed.add(`${n.section}\0${n.name}`);
      claimedSections.add(n.section);
    }
  }
  for (const f of files) {
    const unknown: string[] = [];
    const sections: string[] = [];
    let file = '';
    for (const [section, entries] of f) {
      for (const values of entries.values()) file = values[0].file;
      if (!entries.size) continue;
      if (!claimedSections.has(section)) {
        sections.push(`[${f.written?.get(section) ?? section}]`);
        continue;
      }
      for (const [name, values] of entries) {
        if (!claimed.has(`${section}\0${name}`)) unknown.push(`unknown option [${section}] ${name} at ${file}:${values[values.length - 1].line} (ignored)`);
      }
    }
    warnings.push(...unknown);
    if (sections.length) warnings.push(`${file}: sections ignored (not used by the agent): ${sections.join(' ')}`);
  }

  // The raw value of each option that is not its default, and where it came from (files, then environment, then command line).
  const given = new Map<InventoryEntry, FileValue>();
  for (const e of INVENTORY) {
    const v = fileValue(e, files, warnings);
    if (v) given.set(e, v);
  }
  const entryOf = (section: string, name: string): InventoryEntry | undefined => BY_SECTION.get(section)?.get(name);
  for (const e of INVENTORY) {
    if (e.status !== 'honoured') continue;
    const key = `${ENV_PREFIX}${e.section.toUpperCase()}_${e.name.toUpperCase()}`;
    const raw = env[key];
    if (raw !== undefined) given.set(e, { raw, src: { file: `environment ${key}` } });
  }
  for (const [dotted, raw] of Object.entries(opts.overrides ?? {})) {
    const dot = dotted.indexOf('.');
    const section = dot < 0 ? 'DEFAULT' : normalizeSection(dotted.slice(0, dot));
    const name = dot < 0 ? dotted : dotted.slice(dot + 1);
    const e = entryOf(section, name) ?? INVENTORY.find((x) => namesOf(x).some((n) => n.section === section && n.name === name));
    if (!e) throw new ConfigError(`unknown option ${dotted} on the command line`, 'CONFIG_INVALID', { file: 'command line' });
    given.set(e, { raw: typeof raw === 'string' || Array.isArray(raw) ? raw : String(raw), src: { file: `command line --${dotted}` } });
    if (typeof raw === 'boolean' || typeof raw === 'number') given.get(e)!.raw = String(raw);
  }

  // Values, interpolated and converted on first use (a `$name` may name any option, in any order).
  const resolved = new Map<InventoryEntry, unknown>();
  const resolving = new Set<InventoryEntry>();
  const valueOf = (e: InventoryEntry): unknown => {
    if (resolved.has(e)) return resolved.get(e);
    const g = given.get(e);
    let v: unknown;
    if (!g) {
      v = e.section === 'DEFAULT' && e.name === 'host' ? hostname()
        : e.section === 'ovs_agent' && e.name === 'ovs_rundir' && env.OVS_RUNDIR ? env.OVS_RUNDIR : copyDefault(e.spec.default);
    } else {
      if (resolving.has(e)) throw invalid(e.section, e.name, g.src, 'its value refers to itself through $ substitution');
      resolving.add(e);
      const sub = (text: string): string => text.replace(/\\\$/g, '$$$$').replace(TEMPLATE, (whole, dollar: string, bare: string, braced: string) => {
        if (dollar) return '$';
        const ref = bare ?? braced;
        const dot = ref.indexOf('.');
        const target = dot > 0 ? entryOf(normalizeSection(ref.slice(0, dot)), ref.slice(dot + 1)) ?? entryOf('DEFAULT', ref)
          : entryOf(e.section, ref) ?? entryOf('DEFAULT', ref);
        if (!target) {
          // A password may hold a `$`: a secret option's value is never quoted, not even the name after it.
          throw invalid(e.section, e.name, g.src, e.spec.secret ? 'a "$" in its value names no option (write $$ for a literal $; the value is not shown: it may hold a password)'
            : `${whole} names no option (write $$ for a literal $)`);
        }
        return templateText(valueOf(target));
      });
      const raw = Array.isArray(g.raw) ? g.raw.map(sub) : sub(g.raw);
      v = convert(e.section, e.name, e.spec, raw, g.src);
      resolving.delete(e);
    }
    resolved.set(e, v);
    return v;
  };

  const values: Record<string, Record<string, unknown>> = {};
  const origin = new Map<string, ValueSource>();
  for (const [section, specs] of Object.entries(OPTIONS as Record<string, Record<string, OptionSpec>>)) {
    values[section] = {};
    for (const name of Object.keys(specs)) {
      const e = entryOf(section, name)!;
      values[section][name] = valueOf(e);
      const g = given.get(e);
      if (g) origin.set(`${section}.${name}`, g.src);
    }
  }

  // The options this agent does not honour: warned about, or refused, when set to anything but their default.
  const serverOptions = new Map<string, string[]>();
  for (const [e, g] of given) {
    // A partly honoured option's unsupported values are warned about where it is applied.
    if (e.status === 'honoured' || e.status === 'partial') continue;
    if (e.status === 'server') {
      // neutron.conf carries many: one line a file.
      serverOptions.set(g.src.file, [...serverOptions.get(g.src.file) ?? [], `${e.name} (line ${g.src.line ?? '-'})`]);
      continue;
    }
    const v = valueOf(e);
    if (JSON.stringify(v) === JSON.stringify(e.spec.default)) continue;
    const at = where(g.src);
    if (e.status === 'refused' && !(e.harmless ?? []).some((h) => JSON.stringify(h) === JSON.stringify(v))) {
      throw new ConfigError(`[${e.section}] ${e.name} (set at ${at}) is not supported by ovs-agent: ${e.meaning}`, 'CONFIG_INVALID', g.src);
    }
    warnings.push(`[${e.section}] ${e.name} at ${at} is not honoured: ${e.meaning}`);
  }

  for (const [file, names] of serverOptions) {
    warnings.push(`${file}: [DEFAULT] options of neutron-server or of other Neutron agents, not used by this agent (nor by Neutron's): ${names.join(', ')}`);
  }
  resolveChoices(values, origin, warnings);
  const config = values as unknown as AgentConfig;
  origins.set(config, origin);
  validate(config, origin);
  const value = (section: string, name: string): unknown => {
    const e = entryOf(normalizeSection(section), name);
    return e ? valueOf(e) : undefined;
  };
  return { config, warnings, value };
}

/**
 * The defaults that depend on other options: the control plane is local when a
 * desired-state file is named and neutron otherwise (Neutron's own files start
 * Neutron's agent); the OpenFlow channel is Neutron's (a controller the
 * bridges connect to) with neutron, the bridges' management sockets with the
 * local plane.
 */
function resolveChoices(values: Record<string, Record<string, unknown>>, origin: Map<string, ValueSource>, warnings: string[]): void {
  const a = values.ovs_agent;
  if (!origin.has('ovs_agent.control_plane')) a.control_plane = origin.has('ovs_agent.state_file') ? 'local' : 'neutron';
  else if (a.control_plane === 'neutron' && origin.has('ovs_agent.state_file')) {
    warnings.push(`[ovs_agent] state_file at ${where(origin.get('ovs_agent.state_file')!)} is not used: control_plane is neutron `
      + `(set at ${where(origin.get('ovs_agent.control_plane')!)})`);
  }
  if (!origin.has('ovs_agent.openflow_channel')) a.openflow_channel = a.control_plane === 'neutron' ? 'controller' : 'mgmt';
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
