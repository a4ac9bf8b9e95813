/**
 * The version-independent shapes of OpenFlow messages, actions and
 * instructions: discriminated unions tagged on `type` (and `kind` inside
 * multipart bodies). Numbers are uint32 or smaller; 64-bit quantities
 * (cookies, datapath ids, counters, metadata) are bigint. Ports are always
 * 32-bit OpenFlow 1.1+ numbers (OFPP.* for the reserved ones), also where a
 * Nicira action carries a 16-bit port on the wire.
 */
import type { AnyFieldValue, FieldName, Match } from './oxm-fields.js';
import type { OfWriter } from './writer.js';

export type { FieldName, Match, Masked, FieldValue, AnyFieldValue } from './oxm-fields.js';

// ---------------------------------------------------------------------------
// Actions

/** Bits [ofs, ofs + nBits) of a field, as in `NXM_NX_REG0[0..15]` / `reg0[0..15]`. */
export interface Subfield {
  field: FieldName;
  ofs: number;
  nBits: number;
}

/**
 * output: sends the packet to a port (`maxLen`: bytes sent to the controller when the port is
 * CONTROLLER).
 */
export interface OutputAction {
  type: 'output';
  port: number;
  /** Bytes to send when port is CONTROLLER (OFPCML.NO_BUFFER for the whole packet). */
  maxLen: number;
}
/** group: sends the packet to a group. */
export interface GroupAction {
  type: 'group';
  groupId: number;
}
/** set_queue: sends the packet through a queue of the output port. */
export interface SetQueueAction {
  type: 'set_queue';
  queueId: number;
}
/** An action with no argument (pop_vlan, copy TTLs, decrement TTLs...). */
export interface SimpleAction {
  type: 'copy_ttl_out' | 'copy_ttl_in' | 'dec_mpls_ttl' | 'pop_vlan' | 'pop_pbb' | 'dec_nw_ttl' | 'ct_clear' | 'exit';
}
/** set_mpls_ttl / set_nw_ttl: an action that sets a TTL. */
export interface TtlAction {
  type: 'set_mpls_ttl' | 'set_nw_ttl';
  ttl: number;
}
/** push_vlan / push_mpls / pop_mpls: an action that takes an ethertype. */
export interface EthertypeAction {
  /** push_vlan/push_mpls/push_pbb: the new tag's ethertype; pop_mpls: the ethertype after the pop. */
  type: 'push_vlan' | 'push_mpls' | 'pop_mpls' | 'push_pbb';
  ethertype: number;
}
/**
 * Sets a whole field (OFPAT_SET_FIELD), or with `mask` only the masked bits
 * (encoded as NXAST_REG_LOAD2 in OpenFlow 1.3, as OVS does).
 */
export interface SetFieldAction {
  type: 'set_field';
  field: FieldName;
  value: AnyFieldValue;
  mask?: AnyFieldValue;
}
/** NXAST_REG_LOAD: `load:value->dst` (a subfield of at most 64 bits). */
export interface RegLoadAction {
  type: 'reg_load';
  dst: Subfield;
  value: bigint;
}
/** NXAST_REG_MOVE: `move:src->dst` (equal widths). */
export interface RegMoveAction {
  type: 'reg_move';
  src: Subfield;
  dst: Subfield;
}
/** NXAST_RESUBMIT / RESUBMIT_TABLE / RESUBMIT_TABLE_CT. table 255 = the current table. */
export interface ResubmitAction {
  type: 'resubmit';
  port: number;
  table: number;
  ct: boolean;
}
/** NXAST_OUTPUT_REG: output to the port number held in `src`. */
export interface OutputRegAction {
  type: 'output_reg';
  src: Subfield;
  maxLen: number;
}
/** NXAST_CONJUNCTION. `clause` is 1-based as in the text syntax (wire is 0-based). */
export interface ConjunctionAction {
  type: 'conjunction';
  id: number;
  clause: number;
  nClauses: number;
}
/** note: an opaque annotation carried by a flow (Nicira), with no effect on packets. */
export interface NoteAction {
  type: 'note';
  data: Buffer;
}
/** NXAST_DEC_TTL_CNT_IDS: dec_ttl(id1,id2,...). */
export interface DecTtlAction {
  type: 'dec_ttl';
  controllerIds: number[];
}
/**
 * NXAST_CONTROLLER (when only maxLen/controllerId/reason are used) or
 * NXAST_CONTROLLER2 (when userdata, pause or meterId are set).
 */
export interface ControllerAction {
  type: 'controller';
  maxLen: number;
  controllerId: number;
  reason: number;
  userdata?: Buffer;
  pause?: boolean;
  meterId?: number;
}
/** NXAST_CT. zone is an immediate or a 16-bit subfield. recircTable 255 = no recirculation. */
export interface CtAction {
  type: 'ct';
  commit: boolean;
  force: boolean;
  zone: number | Subfield;
  recircTable: number;
  /** 0, or the ALG's well-known port (21 ftp, 69 tftp). */
  alg: number;
  /** Nested actions (`exec(...)` and `nat`): set_field of ct_mark/ct_label and a nat action. */
  actions: Action[];
}
/** NXAST_NAT, nested in ct. Absent addresses/ports mean "not specified". */
export interface NatAction {
  type: 'nat';
  /** NX_NAT_F bits: SRC, DST, PERSISTENT, PROTO_HASH, PROTO_RANDOM. */
  flags: number;
  ipv4Min?: string;
  ipv4Max?: string;
  ipv6Min?: string;
  ipv6Max?: string;
  protoMin?: number;
  protoMax?: number;
}
/** One field specification of a Nicira learn action: match, load or output. */
export type LearnSpec =
  | { kind: 'match_field'; src: Subfield; dst: Subfield }
  | { kind: 'match_immediate'; value: bigint; dst: Subfield }
  | { kind: 'load_field'; src: Subfield; dst: Subfield }
  | { kind: 'load_immediate'; value: bigint; dst: Subfield }
  | { kind: 'output_field'; src: Subfield };
/** NXAST_LEARN. */
export interface LearnAction {
  type: 'learn';
  idleTimeout: number;
  hardTimeout: number;
  priority: number;
  cookie: bigint;
  /** NX_LEARN_F bits. */
  flags: number;
  tableId: number;
  finIdleTimeout: number;
  finHardTimeout: number;
  specs: LearnSpec[];
}
/** NXAST_MULTIPATH. */
export interface MultipathAction {
  type: 'multipath';
  fields: number;
  basis: number;
  algorithm: number;
  maxLink: number;
  arg: number;
  dst: Subfield;
}
/** NXAST_SET_TUNNEL64. */
export interface SetTunnelAction {
  type: 'set_tunnel';
  tunId: bigint;
}
/** NXAST_CLONE. */
export interface CloneAction {
  type: 'clone';
  actions: Action[];
}
/** An experimenter action the codec does not model; `data` is everything after the experimenter id. */
export interface ExperimenterAction {
  type: 'experimenter';
  experimenter: number;
  data: Buffer;
}

/** Any action of an apply_actions or write_actions instruction, discriminated by `type`. */
export type Action =
  | OutputAction
  | GroupAction
  | SetQueueAction
  | SimpleAction
  | TtlAction
  | EthertypeAction
  | SetFieldAction
  | RegLoadAction
  | RegMoveAction
  | ResubmitAction
  | OutputRegAction
  | ConjunctionAction
  | NoteAction
  | DecTtlAction
  | ControllerAction
  | CtAction
  | NatAction
  | LearnAction
  | MultipathAction
  | SetTunnelAction
  | CloneAction
  | ExperimenterAction;

/** The `type` of every action the codec knows. */
export type ActionType = Action['type'];

// ---------------------------------------------------------------------------
// Instructions

/** Any instruction of a flow, discriminated by `type` (goto_table, apply_actions, write_metadata...). */
export type Instruction =
  | { type: 'goto_table'; tableId: number }
  | { type: 'write_metadata'; metadata: bigint; mask: bigint }
  | { type: 'write_actions'; actions: Action[] }
  | { type: 'apply_actions'; actions: Action[] }
  | { type: 'clear_actions' }
  | { type: 'meter'; meterId: number }
  | { type: 'experimenter'; experimenter: number; data: Buffer };

// ---------------------------------------------------------------------------
// Messages

interface MessageBase {
  /** Transaction id. Decoding always sets it; when encoding, absent means 0 unless the caller supplies one. */
  xid?: number;
}

/** OFPT_HELLO: opens a session, offering the versions we speak (version bitmap). */
export interface Hello extends MessageBase {
  type: 'hello';
  /** Versions from the OFPHET_VERSIONBITMAP element; empty when the hello has none. */
  versions: number[];
}

/**
 * OFPT_ERROR. For experimenter errors (errType 0xffff) errCode is the
 * exp_code and `experimenter` is set. `data` is the failed request's first
 * bytes (a view into the received buffer); see `decodeErrorRequest`.
 */
export interface ErrorMsg extends MessageBase {
  type: 'error';
  errType: number;
  errCode: number;
  experimenter?: number;
  data: Buffer;
}

/** OFPT_ECHO_REQUEST: a keepalive; the peer answers with the same data. */
export interface EchoRequest extends MessageBase {
  type: 'echo_request';
  data: Buffer;
}
/** OFPT_ECHO_REPLY: the answer to an echo request, carrying its data back. */
export interface EchoReply extends MessageBase {
  type: 'echo_reply';
  data: Buffer;
}

/** An experimenter message the codec does not model further. */
export interface Experimenter extends MessageBase {
  type: 'experimenter';
  experimenter: number;
  expType: number;
  data: Buffer;
}

/** OFPT_FEATURES_REQUEST: asks the switch for its datapath id and capabilities. */
export interface FeaturesRequest extends MessageBase {
  type: 'features_request';
}
/** OFPT_FEATURES_REPLY: the datapath id, buffer and table counts, capabilities. */
export interface FeaturesReply extends MessageBase {
  type: 'features_reply';
  datapathId: bigint;
  nBuffers: number;
  nTables: number;
  auxiliaryId: number;
  /** OFPC bits. */
  capabilities: number;
  reserved: number;
}

/** OFPT_GET_CONFIG_REQUEST: asks for the switch configuration. */
export interface GetConfigRequest extends MessageBase {
  type: 'get_config_request';
}
/** OFPT_GET_CONFIG_REPLY: the switch configuration flags and miss_send_len. */
export interface GetConfigReply extends MessageBase {
  type: 'get_config_reply';
  /** OFPC_FRAG_* value. */
  flags: number;
  missSendLen: number;
}
/** OFPT_SET_CONFIG: sets the switch configuration flags and miss_send_len. */
export interface SetConfig extends MessageBase {
  type: 'set_config';
  flags: number;
  missSendLen: number;
}

/** OFPT_PACKET_IN: a packet sent to the controller, with its reason, table, cookie and match. */
export interface PacketIn extends MessageBase {
  type: 'packet_in';
  bufferId: number;
  totalLen: number;
  /** OFPR value. */
  reason: number;
  tableId: number;
  cookie: bigint;
  match: Match;
  /** The packet (a view into the received buffer). */
  data: Buffer;
}

/** OFPT_PACKET_OUT: a packet for the switch to run through actions. */
export interface PacketOut extends MessageBase {
  type: 'packet_out';
  bufferId: number;
  inPort: number;
  actions: Action[];
  data: Buffer;
}

/** OFPT_FLOW_REMOVED: a flow with the send_flow_rem flag expired or was deleted. */
export interface FlowRemoved extends MessageBase {
  type: 'flow_removed';
  cookie: bigint;
  priority: number;
  /** OFPRR value. */
  reason: number;
  tableId: number;
  durationSec: number;
  durationNsec: number;
  idleTimeout: number;
  hardTimeout: number;
  packetCount: bigint;
  byteCount: bigint;
  match: Match;
}

/** ofp_port. */
export interface Port {
  portNo: number;
  hwAddr: string;
  name: string;
  /** OFPPC bits. */
  config: number;
  /** OFPPS bits. */
  state: number;
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  currSpeed: number;
  maxSpeed: number;
}

/** OFPT_PORT_STATUS: a port was added, deleted or changed. */
export interface PortStatus extends MessageBase {
  type: 'port_status';
  /** OFPPR value. */
  reason: number;
  port: Port;
}

/** OFPT_PORT_MOD: changes a port's configuration (up/down, no-flood...). */
export interface PortMod extends MessageBase {
  type: 'port_mod';
  portNo: number;
  hwAddr: string;
  config: number;
  mask: number;
  advertise: number;
}

/** What a flow-mod does (OFPFC_*): add, modify or delete, strict or not. */
export type FlowModCommand = 'add' | 'modify' | 'modify_strict' | 'delete' | 'delete_strict';

/** OFPT_FLOW_MOD: adds, modifies or deletes flows; what `flowMod()` and `parseFlow()` build. */
export interface FlowMod extends MessageBase {
  type: 'flow_mod';
  cookie: bigint;
  /** For modify/delete: which cookie bits must match (0n = any cookie). */
  cookieMask: bigint;
  tableId: number;
  command: FlowModCommand;
  idleTimeout: number;
  hardTimeout: number;
  priority: number;
  bufferId: number;
  /** For delete: only flows that output to this port (OFPP.ANY = any). */
  outPort: number;
  /** For delete: only flows that output to this group (OFPG.ANY = any). */
  outGroup: number;
  /** OFPFF bits. */
  flags: number;
  match: Match;
  /**
   * A match its sender already holds in OXM form: when set, the encoder has
   * it append the match's OXM TLVs (no ofp_match header, no padding) at
   * `w.pos` instead of encoding `match`, which is then read only by people
   * (errors, logs, tests) and may be worked out when read. The sender vouches
   * for the fields' prerequisites (a switch refuses a match without them).
   */
  writeOxm?(w: OfWriter): void;
  instructions: Instruction[];
}

/** What a group-mod does (OFPGC_*). */
export type GroupModCommand = 'add' | 'modify' | 'delete';
/** A group type (OFPGT_*): all, select, indirect, fast failover. */
export type GroupType = 'all' | 'select' | 'indirect' | 'ff';

/**
 * One bucket of a group: its actions, with the weight (select groups) and watched port/group (fast
 * failover).
 */
export interface Bucket {
  weight: number;
  watchPort: number;
  watchGroup: number;
  actions: Action[];
}

/** OFPT_GROUP_MOD: adds, modifies or deletes a group. */
export interface GroupMod extends MessageBase {
  type: 'group_mod';
  command: GroupModCommand;
  groupType: GroupType;
  groupId: number;
  buckets: Bucket[];
}

/** One band of a meter: drop or DSCP remark above a rate. */
export type MeterBand =
  | { type: 'drop'; rate: number; burstSize: number }
  | { type: 'dscp_remark'; rate: number; burstSize: number; precLevel: number }
  | { type: 'experimenter'; rate: number; burstSize: number; experimenter: number };

/** What a meter-mod does (OFPMC_*). */
export type MeterModCommand = 'add' | 'modify' | 'delete';

/** OFPT_METER_MOD: adds, modifies or deletes a meter. */
export interface MeterMod extends MessageBase {
  type: 'meter_mod';
  command: MeterModCommand;
  /** OFPMF bits. */
  flags: number;
  meterId: number;
  bands: MeterBand[];
}

/** OFPT_TABLE_MOD: sets a table's configuration. */
export interface TableMod extends MessageBase {
  type: 'table_mod';
  tableId: number;
  config: number;
}

/** Selection shared by flow and aggregate stats requests. */
export interface FlowStatsSelector {
  tableId: number;
  outPort: number;
  outGroup: number;
  cookie: bigint;
  cookieMask: bigint;
  match: Match;
}

/**
 * One monitor of a flow monitor request (Open vSwitch's flow monitor, in
 * OpenFlow 1.3 the ONF experimenter multipart 1870): which flows to watch
 * and which of their changes to report.
 */
export interface FlowMonitorRequest {
  /** Chosen by the controller, unique on its connection; a cancel names it. */
  id: number;
  /** NXFMF bits: which events (ADD, DELETE, MODIFY; at least one), INITIAL, ACTIONS, OWN. */
  flags: number;
  /** Only flows that output to this port; OFPP.ANY for any. */
  outPort: number;
  /** One table, or OFPTT.ALL. */
  tableId: number;
  /** Only flows whose match is at least as specific as this one ({} for all). */
  match: Match;
}

/**
 * A flow added, deleted or changed, as a flow monitor reports it (also the
 * flows that matched when the monitor started, as `added`, in the request's
 * reply when it asked for NXFMF.INITIAL).
 */
export interface FlowUpdateFull {
  event: 'added' | 'deleted' | 'modified';
  /** For `deleted`, why (OFPRR: delete, idle or hard timeout...); otherwise 0. */
  reason: number;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  tableId: number;
  cookie: bigint;
  match: Match;
  /** The flow's instructions when the monitor asked for NXFMF.ACTIONS; otherwise empty. */
  instructions: Instruction[];
}
/** A change made by this very connection (the monitor had NXFMF.OWN): the xid of the flow-mod that made it. */
export interface FlowUpdateAbbrev {
  event: 'abbrev';
  xid: number;
}
/** One flow update, discriminated by `event`. */
export type FlowUpdate = FlowUpdateFull | FlowUpdateAbbrev;

/** An instruction a table supports (table features): its OFPIT type, and the experimenter for experimenter ones. */
export interface InstructionId {
  type: number;
  experimenter?: number;
}
/** An action a table supports (table features): its OFPAT type, and the experimenter for experimenter ones. */
export interface ActionId {
  type: number;
  experimenter?: number;
}
/**
 * A match field named in table features: the 32-bit OXM header (class,
 * field, hasmask, length), the codec's name for it when it has one, and for
 * experimenter OXMs the experimenter id.
 */
export interface OxmId {
  header: number;
  field: FieldName | undefined;
  experimenter?: number;
}
/** One property of a table-features entry, discriminated by `type` (ofp_table_feature_prop_type). */
export type TableFeatureProp =
  | { type: 'instructions' | 'instructions_miss'; instructions: InstructionId[] }
  | { type: 'next_tables' | 'next_tables_miss'; tables: number[] }
  | { type: 'write_actions' | 'write_actions_miss' | 'apply_actions' | 'apply_actions_miss'; actions: ActionId[] }
  | {
      type: 'match' | 'wildcards' | 'write_setfield' | 'write_setfield_miss' | 'apply_setfield' | 'apply_setfield_miss';
      fields: OxmId[];
    }
  | { type: 'experimenter' | 'experimenter_miss'; experimenter: number; expType: number; data: Buffer }
  /** A property type OpenFlow 1.3 does not define, kept as bytes. */
  | { type: 'unknown'; propType: number; data: Buffer };

/** One table of a table-features reply (OFPMP_TABLE_FEATURES): what it matches, which instructions and actions it takes. */
export interface TableFeatures {
  tableId: number;
  name: string;
  metadataMatch: bigint;
  metadataWrite: bigint;
  /** OFPTC bits. */
  config: number;
  maxEntries: number;
  properties: TableFeatureProp[];
}

/** The body of a multipart request, discriminated by `kind`. */
export type MultipartRequestBody =
  | { kind: 'desc' }
  | ({ kind: 'flow' } & FlowStatsSelector)
  | ({ kind: 'aggregate' } & FlowStatsSelector)
  | { kind: 'table' }
  | { kind: 'port_stats'; portNo: number }
  | { kind: 'port_desc' }
  | { kind: 'group'; groupId: number }
  | { kind: 'group_desc' }
  | { kind: 'meter'; meterId: number }
  | { kind: 'meter_config'; meterId: number }
  /** Table features: an empty list reads them; a non-empty one asks the switch to set them. */
  | { kind: 'table_features'; tables: TableFeatures[] }
  /** Start flow monitors (OpenFlow 1.3: ONF experimenter multipart 1870, as Open vSwitch speaks it). */
  | { kind: 'flow_monitor'; monitors: FlowMonitorRequest[] }
  /** Any other multipart type, body kept as bytes. */
  | { kind: 'other'; mpType: number; body: Buffer };

/** One flow of a flow-stats reply (dump-flows): its match, instructions and counters. */
export interface FlowStats {
  tableId: number;
  durationSec: number;
  durationNsec: number;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  cookie: bigint;
  packetCount: bigint;
  byteCount: bigint;
  match: Match;
  instructions: Instruction[];
}
/** One table of a table-stats reply: active flows, lookups and matches. */
export interface TableStats {
  tableId: number;
  activeCount: number;
  lookupCount: bigint;
  matchedCount: bigint;
}
/** One port of a port-stats reply: packet, byte, error and drop counters. */
export interface PortStats {
  portNo: number;
  rxPackets: bigint;
  txPackets: bigint;
  rxBytes: bigint;
  txBytes: bigint;
  rxDropped: bigint;
  txDropped: bigint;
  rxErrors: bigint;
  txErrors: bigint;
  rxFrameErr: bigint;
  rxOverErr: bigint;
  rxCrcErr: bigint;
  collisions: bigint;
  durationSec: number;
  durationNsec: number;
}
/** One group of a group-stats reply: reference count and counters. */
export interface GroupStats {
  groupId: number;
  refCount: number;
  packetCount: bigint;
  byteCount: bigint;
  durationSec: number;
  durationNsec: number;
  bucketStats: { packetCount: bigint; byteCount: bigint }[];
}
/** One group of a group-desc reply: its type and buckets. */
export interface GroupDesc {
  groupType: GroupType;
  groupId: number;
  buckets: Bucket[];
}
/** One meter of a meter-stats reply: flow count and counters per band. */
export interface MeterStats {
  meterId: number;
  flowCount: number;
  packetInCount: bigint;
  byteInCount: bigint;
  durationSec: number;
  durationNsec: number;
  bandStats: { packetBandCount: bigint; byteBandCount: bigint }[];
}
/** One meter of a meter-config reply: flags and bands. */
export interface MeterConfig {
  flags: number;
  meterId: number;
  bands: MeterBand[];
}
/** The desc reply: manufacturer, hardware, software, serial number and datapath description. */
export interface SwitchDesc {
  mfrDesc: string;
  hwDesc: string;
  swDesc: string;
  serialNum: string;
  dpDesc: string;
}

/** The body of a multipart reply, discriminated by `kind`. */
export type MultipartReplyBody =
  | ({ kind: 'desc' } & SwitchDesc)
  | { kind: 'flow'; flows: FlowStats[] }
  | { kind: 'aggregate'; packetCount: bigint; byteCount: bigint; flowCount: number }
  | { kind: 'table'; tables: TableStats[] }
  | { kind: 'port_stats'; ports: PortStats[] }
  | { kind: 'port_desc'; ports: Port[] }
  | { kind: 'group'; groups: GroupStats[] }
  | { kind: 'group_desc'; groups: GroupDesc[] }
  | { kind: 'meter'; meters: MeterStats[] }
  | { kind: 'meter_config'; meters: MeterConfig[] }
  | { kind: 'table_features'; tables: TableFeatures[] }
  /** Flow updates: the reply to a flow monitor request (the initial flows), then unsolicited replies with xid 0. */
  | { kind: 'flow_monitor'; updates: FlowUpdate[] }
  | { kind: 'other'; mpType: number; body: Buffer };

/** The `kind` of every multipart (stats) request the codec knows. */
export type MultipartKind = MultipartRequestBody['kind'];

/** OFPT_MULTIPART_REQUEST: a stats request (flows, aggregate, ports, tables, groups...). */
export interface MultipartRequest extends MessageBase {
  type: 'multipart_request';
  /** OFPMPF.MORE when more request parts follow. */
  flags: number;
  body: MultipartRequestBody;
}
/** OFPT_MULTIPART_REPLY: one part of a stats answer (`more` set until the last). */
export interface MultipartReply extends MessageBase {
  type: 'multipart_reply';
  /** OFPMPF.MORE when more reply parts follow with the same xid. */
  flags: number;
  body: MultipartReplyBody;
}

/** OFPT_BARRIER_REQUEST: asks the switch to finish every earlier message first. */
export interface BarrierRequest extends MessageBase {
  type: 'barrier_request';
}
/** OFPT_BARRIER_REPLY: every message sent before the request has been processed. */
export interface BarrierReply extends MessageBase {
  type: 'barrier_reply';
}

/** A controller role (OFPCR_ROLE_*), as role requests set and replies report it. */
export type ControllerRole = 'nochange' | 'equal' | 'master' | 'slave';
/** OFPT_ROLE_REQUEST: asks to become master, slave or equal (or reads the role). */
export interface RoleRequest extends MessageBase {
  type: 'role_request';
  role: ControllerRole;
  generationId: bigint;
}
/** OFPT_ROLE_REPLY: the role the switch gave us and its generation id. */
export interface RoleReply extends MessageBase {
  type: 'role_reply';
  role: ControllerRole;
  generationId: bigint;
}

/**
 * ofp_async_config masks, each [master/equal, slave]. In OpenFlow 1.4 they
 * travel as properties, and the role-status, table-status and
 * request-forward masks exist too (decoded when present; a property missing
 * from a 1.4 message decodes as 0).
 */
export interface AsyncConfig {
  packetInMask: [number, number];
  portStatusMask: [number, number];
  flowRemovedMask: [number, number];
  roleStatusMask?: [number, number];
  tableStatusMask?: [number, number];
  requestForwardMask?: [number, number];
}
/** OFPT_GET_ASYNC_REQUEST: asks which asynchronous messages the switch sends us. */
export interface GetAsyncRequest extends MessageBase {
  type: 'get_async_request';
}
export interface GetAsyncReply extends MessageBase, AsyncConfig {
  type: 'get_async_reply';
}
export interface SetAsync extends MessageBase, AsyncConfig {
  type: 'set_async';
}

/** The bundle control operations (open, close, commit, discard) and their replies. */
export type BundleCtrlType =
  | 'open_request'
  | 'open_reply'
  | 'close_request'
  | 'close_reply'
  | 'commit_request'
  | 'commit_reply'
  | 'discard_request'
  | 'discard_reply';

/**
 * OF1.4 OFPT_BUNDLE_CONTROL, or in OF1.3 the ONF extension
 * (experimenter ONF, ONFT_BUNDLE_CONTROL): which one is chosen by the
 * version the message is encoded in.
 */
export interface BundleControl extends MessageBase {
  type: 'bundle_control';
  bundleId: number;
  ctrlType: BundleCtrlType;
  /** OFPBF bits: ATOMIC, ORDERED. */
  flags: number;
  /** Raw bundle properties, if any. */
  properties?: Buffer;
}
/** OF1.4 OFPT_BUNDLE_ADD_MESSAGE or ONFT_BUNDLE_ADD_MESSAGE; the inner message is encoded with the outer xid. */
export interface BundleAddMessage extends MessageBase {
  type: 'bundle_add_message';
  bundleId: number;
  flags: number;
  message: OpenFlowMessage;
}

/** Cancels the flow monitor with this id (OpenFlow 1.3: ONF experimenter message 1870). */
export interface FlowMonitorCancel extends MessageBase {
  type: 'flow_monitor_cancel';
  id: number;
}
/**
 * The switch stopped sending flow updates to this connection, whose
 * unread updates filled its buffer (ONF experimenter message 1871); a
 * `flow_monitor_resumed` follows once the connection has caught up.
 */
export interface FlowMonitorPaused extends MessageBase {
  type: 'flow_monitor_paused';
}
/**
 * The switch sends flow updates again after a pause; the updates just
 * before it describe the flows changed meanwhile (ONF experimenter message 1872).
 */
export interface FlowMonitorResumed extends MessageBase {
  type: 'flow_monitor_resumed';
}

/** A message whose ofp_type the codec does not model; the body is kept as bytes. */
export interface UnknownMessage extends MessageBase {
  type: 'unknown';
  msgType: number;
  body: Buffer;
}

/** Every message the codec encodes and decodes, discriminated by `type`: what `decodeMessage` returns. */
export type OpenFlowMessage =
  | Hello
  | ErrorMsg
  | EchoRequest
  | EchoReply
  | Experimenter
  | FeaturesRequest
  | FeaturesReply
  | GetConfigRequest
  | GetConfigReply
  | SetConfig
  | PacketIn
  | FlowRemoved
  | PortStatus
  | PacketOut
  | FlowMod
  | GroupMod
  | PortMod
  | TableMod
  | MultipartRequest
  | MultipartReply
  | BarrierRequest
  | BarrierReply
  | RoleRequest
  | RoleReply
  | GetAsyncRequest
  | GetAsyncReply
  | SetAsync
  | MeterMod
  | BundleControl
  | BundleAddMessage
  | FlowMonitorCancel
  | FlowMonitorPaused
  | FlowMonitorResumed
  | UnknownMessage;

/** The `type` of every message the codec knows. */
export type MessageType = OpenFlowMessage['type'];
/** The message type with tag T. */
export type MessageOf<T extends MessageType> = Extract<OpenFlowMessage, { type: T }>;
