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

export interface OutputAction {
  type: 'output';
  port: number;
  /** Bytes to send when port is CONTROLLER (OFPCML.NO_BUFFER for the whole packet). */
  maxLen: number;
}
export interface GroupAction {
  type: 'group';
  groupId: number;
}
export interface SetQueueAction {
  type: 'set_queue';
  queueId: number;
}
export interface SimpleAction {
  type: 'copy_ttl_out' | 'copy_ttl_in' | 'dec_mpls_ttl' | 'pop_vlan' | 'pop_pbb' | 'dec_nw_ttl' | 'ct_clear' | 'exit';
}
export interface TtlAction {
  type: 'set_mpls_ttl' | 'set_nw_ttl';
  ttl: number;
}
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

export type ActionType = Action['type'];

// ---------------------------------------------------------------------------
// Instructions

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

export interface EchoRequest extends MessageBase {
  type: 'echo_request';
  data: Buffer;
}
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

export interface FeaturesRequest extends MessageBase {
  type: 'features_request';
}
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

export interface GetConfigRequest extends MessageBase {
  type: 'get_config_request';
}
export interface GetConfigReply extends MessageBase {
  type: 'get_config_reply';
  /** OFPC_FRAG_* value. */
  flags: number;
  missSendLen: number;
}
export interface SetConfig extends MessageBase {
  type: 'set_config';
  flags: number;
  missSendLen: number;
}

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

export interface PacketOut extends MessageBase {
  type: 'packet_out';
  bufferId: number;
  inPort: number;
  actions: Action[];
  data: Buffer;
}

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

export interface PortStatus extends MessageBase {
  type: 'port_status';
  /** OFPPR value. */
  reason: number;
  port: Port;
}

export interface PortMod extends MessageBase {
  type: 'port_mod';
  portNo: number;
  hwAddr: string;
  config: number;
  mask: number;
  advertise: number;
}

export type FlowModCommand = 'add' | 'modify' | 'modify_strict' | 'delete' | 'delete_strict';

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

export type GroupModCommand = 'add' | 'modify' | 'delete';
export type GroupType = 'all' | 'select' | 'indirect' | 'ff';

export interface Bucket {
  weight: number;
  watchPort: number;
  watchGroup: number;
  actions: Action[];
}

export interface GroupMod extends MessageBase {
  type: 'group_mod';
  command: GroupModCommand;
  groupType: GroupType;
  groupId: number;
  buckets: Bucket[];
}

export type MeterBand =
  | { type: 'drop'; rate: number; burstSize: number }
  | { type: 'dscp_remark'; rate: number; burstSize: number; precLevel: number }
  | { type: 'experimenter'; rate: number; burstSize: number; experimenter: number };

export type MeterModCommand = 'add' | 'modify' | 'delete';

export interface MeterMod extends MessageBase {
  type: 'meter_mod';
  command: MeterModCommand;
  /** OFPMF bits. */
  flags: number;
  meterId: number;
  bands: MeterBand[];
}

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
  /** Any other multipart type, body kept as bytes. */
  | { kind: 'other'; mpType: number; body: Buffer };

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
export interface TableStats {
  tableId: number;
  activeCount: number;
  lookupCount: bigint;
  matchedCount: bigint;
}
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
export interface GroupStats {
  groupId: number;
  refCount: number;
  packetCount: bigint;
  byteCount: bigint;
  durationSec: number;
  durationNsec: number;
  bucketStats: { packetCount: bigint; byteCount: bigint }[];
}
export interface GroupDesc {
  groupType: GroupType;
  groupId: number;
  buckets: Bucket[];
}
export interface MeterStats {
  meterId: number;
  flowCount: number;
  packetInCount: bigint;
  byteInCount: bigint;
  durationSec: number;
  durationNsec: number;
  bandStats: { packetBandCount: bigint; byteBandCount: bigint }[];
}
export interface MeterConfig {
  flags: number;
  meterId: number;
  bands: MeterBand[];
}
export interface SwitchDesc {
  mfrDesc: string;
  hwDesc: string;
  swDesc: string;
  serialNum: string;
  dpDesc: string;
}

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
  | { kind: 'other'; mpType: number; body: Buffer };

export type MultipartKind = MultipartRequestBody['kind'];

export interface MultipartRequest extends MessageBase {
  type: 'multipart_request';
  /** OFPMPF.MORE when more request parts follow. */
  flags: number;
  body: MultipartRequestBody;
}
export interface MultipartReply extends MessageBase {
  type: 'multipart_reply';
  /** OFPMPF.MORE when more reply parts follow with the same xid. */
  flags: number;
  body: MultipartReplyBody;
}

export interface BarrierRequest extends MessageBase {
  type: 'barrier_request';
}
export interface BarrierReply extends MessageBase {
  type: 'barrier_reply';
}

export type ControllerRole = 'nochange' | 'equal' | 'master' | 'slave';
export interface RoleRequest extends MessageBase {
  type: 'role_request';
  role: ControllerRole;
  generationId: bigint;
}
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
export interface GetAsyncRequest extends MessageBase {
  type: 'get_async_request';
}
export interface GetAsyncReply extends MessageBase, AsyncConfig {
  type: 'get_async_reply';
}
export interface SetAsync extends MessageBase, AsyncConfig {
  type: 'set_async';
}

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

/** A message whose ofp_type the codec does not model; the body is kept as bytes. */
export interface UnknownMessage extends MessageBase {
  type: 'unknown';
  msgType: number;
  body: Buffer;
}

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
  | UnknownMessage;

export type MessageType = OpenFlowMessage['type'];
/** The message type with tag T. */
export type MessageOf<T extends MessageType> = Extract<OpenFlowMessage, { type: T }>;
