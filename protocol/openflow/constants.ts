/**
 * Every OpenFlow wire constant the codec uses, named as in the OpenFlow 1.3.x
 * specification (openflow.h) and Open vSwitch's extension headers
 * (nicira-ext.h, onf-ext.h). One table per enum, all `as const`, so the
 * values are literal types and tooling can derive unions from them.
 */

/** ofp_version. */
export const OFP_VERSION = {
  OF10: 0x01,
  OF11: 0x02,
  OF12: 0x03,
  OF13: 0x04,
  OF14: 0x05,
  OF15: 0x06,
} as const;

/** The length of the header every OpenFlow message starts with. */
export const OFP_HEADER_LEN = 8;
/** The largest message the 16-bit length field can describe. */
export const OFP_MAX_MSG_LEN = 0xffff;
/** The IANA-assigned OpenFlow TCP port. */
export const OFP_TCP_PORT = 6653;
/** The TCP port controllers used before IANA assigned 6653; Neutron's agent and OVS still use it. */
export const OFP_OLD_TCP_PORT = 6633;

/** ofp_type (OF1.3 values; 30+ are OF1.4). */
export const OFPT = {
  HELLO: 0,
  ERROR: 1,
  ECHO_REQUEST: 2,
  ECHO_REPLY: 3,
  EXPERIMENTER: 4,
  FEATURES_REQUEST: 5,
  FEATURES_REPLY: 6,
  GET_CONFIG_REQUEST: 7,
  GET_CONFIG_REPLY: 8,
  SET_CONFIG: 9,
  PACKET_IN: 10,
  FLOW_REMOVED: 11,
  PORT_STATUS: 12,
  PACKET_OUT: 13,
  FLOW_MOD: 14,
  GROUP_MOD: 15,
  PORT_MOD: 16,
  TABLE_MOD: 17,
  MULTIPART_REQUEST: 18,
  MULTIPART_REPLY: 19,
  BARRIER_REQUEST: 20,
  BARRIER_REPLY: 21,
  QUEUE_GET_CONFIG_REQUEST: 22,
  QUEUE_GET_CONFIG_REPLY: 23,
  ROLE_REQUEST: 24,
  ROLE_REPLY: 25,
  GET_ASYNC_REQUEST: 26,
  GET_ASYNC_REPLY: 27,
  SET_ASYNC: 28,
  METER_MOD: 29,
  // OpenFlow 1.4
  ROLE_STATUS: 30,
  TABLE_STATUS: 31,
  REQUESTFORWARD: 32,
  BUNDLE_CONTROL: 33,
  BUNDLE_ADD_MESSAGE: 34,
} as const;

/** ofp_hello_elem_type. */
export const OFPHET = { VERSIONBITMAP: 1 } as const;

/** Experimenter (vendor) ids. */
export const EXPERIMENTER_ID = {
  NICIRA: 0x00002320,
  ONF: 0x4f4e4600,
} as const;

/** ONF extension message types carried in OFPT_EXPERIMENTER (onf-ext). */
export const ONFT = {
  /** Flow monitor cancel (controller to switch), the OpenFlow 1.3 form of NXT_FLOW_MONITOR_CANCEL: body is the monitor id. */
  FLOW_MONITOR_CANCEL: 1870,
  /** The switch stopped sending flow updates (its buffer for us is full); body empty. */
  FLOW_MONITOR_PAUSED: 1871,
  /** The switch sends flow updates again, after the ones it dropped were replaced by a fresh picture; body empty. */
  FLOW_MONITOR_RESUMED: 1872,
  BUNDLE_CONTROL: 2300,
  BUNDLE_ADD_MESSAGE: 2301,
} as const;

/**
 * ONF experimenter multipart types (OFPMP_EXPERIMENTER with experimenter ONF):
 * the flow monitor as Open vSwitch speaks it in OpenFlow 1.3 (its
 * ONFST13_FLOW_MONITOR request and reply).
 */
export const ONFMP = {
  FLOW_MONITOR: 1870,
} as const;

/**
 * Flow monitor request flags (nx_flow_monitor_flags; the OpenFlow 1.3 ONF
 * request carries the same bits). At least one of ADD, DELETE, MODIFY.
 */
export const NXFMF = {
  /** Report the flows that match when the monitor starts (in the request's reply). */
  INITIAL: 1 << 0,
  /** Report flows added. */
  ADD: 1 << 1,
  /** Report flows deleted. */
  DELETE: 1 << 2,
  /** Report flows whose actions changed. */
  MODIFY: 1 << 3,
  /** Include the instructions in full updates. */
  ACTIONS: 1 << 4,
  /** Report changes this connection made itself too (abbreviated unless ACTIONS is wanted in full). */
  OWN: 1 << 5,
} as const;

/** Flow update events (nx_flow_update_event), in the updates of the OpenFlow 1.3 flow monitor. */
export const NXFME = {
  ADDED: 0,
  DELETED: 1,
  MODIFIED: 2,
  /** A change this connection made itself, named by the xid of its flow-mod. */
  ABBREV: 3,
} as const;

/** Nicira extension message subtypes (only those the codec decodes by name). */
export const NXT = {
  ROLE_REQUEST: 10,
  ROLE_REPLY: 11,
  SET_FLOW_FORMAT: 12,
  FLOW_MOD_TABLE_ID: 15,
  FLOW_MOD: 13,
  FLOW_REMOVED: 14,
  SET_PACKET_IN_FORMAT: 16,
  PACKET_IN: 17,
  FLOW_AGE: 18,
  SET_ASYNC_CONFIG: 19,
  SET_CONTROLLER_ID: 20,
  FLOW_MONITOR_CANCEL: 21,
  FLOW_MONITOR_PAUSED: 22,
  FLOW_MONITOR_RESUMED: 23,
  TLV_TABLE_MOD: 24,
  TLV_TABLE_REQUEST: 25,
  TLV_TABLE_REPLY: 26,
  RESUME: 28,
  CT_FLUSH_ZONE: 29,
  PACKET_IN2: 30,
} as const;

/** ofp_bundle_ctrl_type (OF1.4 and the ONF extension share the values). */
export const OFPBCT = {
  OPEN_REQUEST: 0,
  OPEN_REPLY: 1,
  CLOSE_REQUEST: 2,
  CLOSE_REPLY: 3,
  COMMIT_REQUEST: 4,
  COMMIT_REPLY: 5,
  DISCARD_REQUEST: 6,
  DISCARD_REPLY: 7,
} as const;

/** ofp_bundle_flags. */
export const OFPBF = { ATOMIC: 1 << 0, ORDERED: 1 << 1 } as const;

/** ofp_error_type. */
export const OFPET = {
  HELLO_FAILED: 0,
  BAD_REQUEST: 1,
  BAD_ACTION: 2,
  BAD_INSTRUCTION: 3,
  BAD_MATCH: 4,
  FLOW_MOD_FAILED: 5,
  GROUP_MOD_FAILED: 6,
  PORT_MOD_FAILED: 7,
  TABLE_MOD_FAILED: 8,
  QUEUE_OP_FAILED: 9,
  SWITCH_CONFIG_FAILED: 10,
  ROLE_REQUEST_FAILED: 11,
  METER_MOD_FAILED: 12,
  TABLE_FEATURES_FAILED: 13,
  // OpenFlow 1.4
  BAD_PROPERTY: 14,
  ASYNC_CONFIG_FAILED: 15,
  FLOW_MONITOR_FAILED: 16,
  BUNDLE_FAILED: 17,
  EXPERIMENTER: 0xffff,
} as const;

/** Error type used by OpenFlow 1.0 Nicira extension errors (NXET_VENDOR). */
export const NXET_VENDOR = 0xb0c2;
/** Code under NXET_VENDOR: an nx_vendor_error follows. */
export const NXVC_VENDOR_ERROR = 0;

/** Error codes, one table per ofp_error_type. */
export const OFPHFC = { INCOMPATIBLE: 0, EPERM: 1 } as const;
/** The codes of OFPET_BAD_REQUEST errors (OFPBRC_*), by name. */
export const OFPBRC = {
  BAD_VERSION: 0,
  BAD_TYPE: 1,
  BAD_MULTIPART: 2,
  BAD_EXPERIMENTER: 3,
  BAD_EXP_TYPE: 4,
  EPERM: 5,
  BAD_LEN: 6,
  BUFFER_EMPTY: 7,
  BUFFER_UNKNOWN: 8,
  BAD_TABLE_ID: 9,
  IS_SLAVE: 10,
  BAD_PORT: 11,
  BAD_PACKET: 12,
  MULTIPART_BUFFER_OVERFLOW: 13,
} as const;
/** The codes of OFPET_BAD_ACTION errors (OFPBAC_*), by name. */
export const OFPBAC = {
  BAD_TYPE: 0,
  BAD_LEN: 1,
  BAD_EXPERIMENTER: 2,
  BAD_EXP_TYPE: 3,
  BAD_OUT_PORT: 4,
  BAD_ARGUMENT: 5,
  EPERM: 6,
  TOO_MANY: 7,
  BAD_QUEUE: 8,
  BAD_OUT_GROUP: 9,
  MATCH_INCONSISTENT: 10,
  UNSUPPORTED_ORDER: 11,
  BAD_TAG: 12,
  BAD_SET_TYPE: 13,
  BAD_SET_LEN: 14,
  BAD_SET_ARGUMENT: 15,
} as const;
/** The codes of OFPET_BAD_INSTRUCTION errors (OFPBIC_*), by name. */
export const OFPBIC = {
  UNKNOWN_INST: 0,
  UNSUP_INST: 1,
  BAD_TABLE_ID: 2,
  UNSUP_METADATA: 3,
  UNSUP_METADATA_MASK: 4,
  BAD_EXPERIMENTER: 5,
  BAD_EXP_TYPE: 6,
  BAD_LEN: 7,
  EPERM: 8,
} as const;
/** The codes of OFPET_BAD_MATCH errors (OFPBMC_*), by name. */
export const OFPBMC = {
  BAD_TYPE: 0,
  BAD_LEN: 1,
  BAD_TAG: 2,
  BAD_DL_ADDR_MASK: 3,
  BAD_NW_ADDR_MASK: 4,
  BAD_WILDCARDS: 5,
  BAD_FIELD: 6,
  BAD_VALUE: 7,
  BAD_MASK: 8,
  BAD_PREREQ: 9,
  DUP_FIELD: 10,
  EPERM: 11,
} as const;
/** The codes of OFPET_FLOW_MOD_FAILED errors (OFPFMFC_*), by name. */
export const OFPFMFC = {
  UNKNOWN: 0,
  TABLE_FULL: 1,
  BAD_TABLE_ID: 2,
  OVERLAP: 3,
  EPERM: 4,
  BAD_TIMEOUT: 5,
  BAD_COMMAND: 6,
  BAD_FLAGS: 7,
} as const;
/** The codes of OFPET_GROUP_MOD_FAILED errors (OFPGMFC_*), by name. */
export const OFPGMFC = {
  GROUP_EXISTS: 0,
  INVALID_GROUP: 1,
  WEIGHT_UNSUPPORTED: 2,
  OUT_OF_GROUPS: 3,
  OUT_OF_BUCKETS: 4,
  CHAINING_UNSUPPORTED: 5,
  WATCH_UNSUPPORTED: 6,
  LOOP: 7,
  UNKNOWN_GROUP: 8,
  CHAINED_GROUP: 9,
  BAD_TYPE: 10,
  BAD_COMMAND: 11,
  BAD_BUCKET: 12,
  BAD_WATCH: 13,
  EPERM: 14,
} as const;
/** The codes of OFPET_PORT_MOD_FAILED errors (OFPPMFC_*), by name. */
export const OFPPMFC = { BAD_PORT: 0, BAD_HW_ADDR: 1, BAD_CONFIG: 2, BAD_ADVERTISE: 3, EPERM: 4 } as const;
/** The codes of OFPET_TABLE_MOD_FAILED errors (OFPTMFC_*), by name. */
export const OFPTMFC = { BAD_TABLE: 0, BAD_CONFIG: 1, EPERM: 2 } as const;
/** The codes of OFPET_QUEUE_OP_FAILED errors (OFPQOFC_*), by name. */
export const OFPQOFC = { BAD_PORT: 0, BAD_QUEUE: 1, EPERM: 2 } as const;
/** The codes of OFPET_SWITCH_CONFIG_FAILED errors (OFPSCFC_*), by name. */
export const OFPSCFC = { BAD_FLAGS: 0, BAD_LEN: 1, EPERM: 2 } as const;
/** The codes of OFPET_ROLE_REQUEST_FAILED errors (OFPRRFC_*), by name. */
export const OFPRRFC = { STALE: 0, UNSUP: 1, BAD_ROLE: 2 } as const;
/** The codes of OFPET_METER_MOD_FAILED errors (OFPMMFC_*), by name. */
export const OFPMMFC = {
  UNKNOWN: 0,
  METER_EXISTS: 1,
  INVALID_METER: 2,
  UNKNOWN_METER: 3,
  BAD_COMMAND: 4,
  BAD_FLAGS: 5,
  BAD_RATE: 6,
  BAD_BURST: 7,
  BAD_BAND: 8,
  BAD_BAND_VALUE: 9,
  OUT_OF_METERS: 10,
  OUT_OF_BANDS: 11,
} as const;
/** The codes of OFPET_TABLE_FEATURES_FAILED errors (OFPTFFC_*), by name. */
export const OFPTFFC = { BAD_TABLE: 0, BAD_METADATA: 1, BAD_TYPE: 2, BAD_LEN: 3, BAD_ARGUMENT: 4, EPERM: 5 } as const;
/** The codes of OFPET_BAD_PROPERTY errors (OFPBPC_*), by name. */
export const OFPBPC = {
  BAD_TYPE: 0,
  BAD_LEN: 1,
  BAD_VALUE: 2,
  TOO_MANY: 3,
  DUP_TYPE: 4,
  BAD_EXPERIMENTER: 5,
  BAD_EXP_TYPE: 6,
  BAD_EXP_VALUE: 7,
  EPERM: 8,
} as const;
/** The codes of OFPET_ASYNC_CONFIG_FAILED errors (OFPACFC_*), by name. */
export const OFPACFC = { INVALID: 0, UNSUPPORTED: 1, EPERM: 2 } as const;
/** The codes of OFPET_MONITOR_FAILED errors (OFPMOFC_*), by name. */
export const OFPMOFC = {
  UNKNOWN: 0,
  MONITOR_EXISTS: 1,
  INVALID_MONITOR: 2,
  UNKNOWN_MONITOR: 3,
  BAD_COMMAND: 4,
  BAD_FLAGS: 5,
  BAD_TABLE_ID: 6,
  BAD_OUT: 7,
} as const;
/** The codes of OFPET_BUNDLE_FAILED (ONF bundles) errors (OFPBFC_*), by name. */
export const OFPBFC = {
  UNKNOWN: 0,
  EPERM: 1,
  BAD_ID: 2,
  BUNDLE_EXIST: 3,
  BUNDLE_CLOSED: 4,
  OUT_OF_BUNDLES: 5,
  BAD_TYPE: 6,
  BAD_FLAGS: 7,
  MSG_BAD_LEN: 8,
  MSG_BAD_XID: 9,
  MSG_UNSUP: 10,
  MSG_CONFLICT: 11,
  MSG_TOO_MANY: 12,
  MSG_FAILED: 13,
  TIMEOUT: 14,
  BUNDLE_IN_PROGRESS: 15,
} as const;

/**
 * In OpenFlow 1.3, OVS reports bundle errors as ONF experimenter errors
 * (type OFPET_EXPERIMENTER, experimenter ONF, exp_code = 2300 + OFPBFC code).
 */
export const ONFERR_BUNDLE_BASE = 2300;

/** ofp_port_no reserved values. */
export const OFPP = {
  MAX: 0xffffff00,
  IN_PORT: 0xfffffff8,
  TABLE: 0xfffffff9,
  NORMAL: 0xfffffffa,
  FLOOD: 0xfffffffb,
  ALL: 0xfffffffc,
  CONTROLLER: 0xfffffffd,
  LOCAL: 0xfffffffe,
  ANY: 0xffffffff,
} as const;

/** ofp_group reserved values. */
export const OFPG = { MAX: 0xffffff00, ALL: 0xfffffffc, ANY: 0xffffffff } as const;
/** ofp_table reserved values. */
export const OFPTT = { MAX: 0xfe, ALL: 0xff } as const;
/** ofp_meter reserved values. */
export const OFPM = { MAX: 0xffff0000, SLOWPATH: 0xfffffffd, CONTROLLER: 0xfffffffe, ALL: 0xffffffff } as const;
/** ofp_queue: all queues. */
export const OFPQ_ALL = 0xffffffff;
/** buffer_id meaning "no buffered packet": the packet, if any, is in the message. */
export const OFP_NO_BUFFER = 0xffffffff;
/** ofp_controller_max_len. */
export const OFPCML = { MAX: 0xffe5, NO_BUFFER: 0xffff } as const;
/** The priority of a flow that gives none (0x8000). */
export const OFP_DEFAULT_PRIORITY = 0x8000;
/** How many bytes of a table-miss packet a switch sends the controller by default. */
export const OFP_DEFAULT_MISS_SEND_LEN = 128;

/** ofp_flow_mod_command. */
export const OFPFC = { ADD: 0, MODIFY: 1, MODIFY_STRICT: 2, DELETE: 3, DELETE_STRICT: 4 } as const;
/** ofp_flow_mod_flags. */
export const OFPFF = {
  SEND_FLOW_REM: 1 << 0,
  CHECK_OVERLAP: 1 << 1,
  RESET_COUNTS: 1 << 2,
  NO_PKT_COUNTS: 1 << 3,
  NO_BYT_COUNTS: 1 << 4,
} as const;

/** ofp_match_type. */
export const OFPMT = { STANDARD: 0, OXM: 1 } as const;
/** ofp_oxm_class (NXM_0/NXM_1 are Open vSwitch's NXM_OF/NXM_NX). */
export const OFPXMC = {
  NXM_0: 0x0000,
  NXM_1: 0x0001,
  OPENFLOW_BASIC: 0x8000,
  PACKET_REGS: 0x8001,
  EXPERIMENTER: 0xffff,
} as const;

/** ofp_vlan_id. */
export const OFPVID = { PRESENT: 0x1000, NONE: 0x0000 } as const;

/** ofp_instruction_type. */
export const OFPIT = {
  GOTO_TABLE: 1,
  WRITE_METADATA: 2,
  WRITE_ACTIONS: 3,
  APPLY_ACTIONS: 4,
  CLEAR_ACTIONS: 5,
  METER: 6,
  EXPERIMENTER: 0xffff,
} as const;

/** ofp_action_type (OF1.3). */
export const OFPAT = {
  OUTPUT: 0,
  COPY_TTL_OUT: 11,
  COPY_TTL_IN: 12,
  SET_MPLS_TTL: 15,
  DEC_MPLS_TTL: 16,
  PUSH_VLAN: 17,
  POP_VLAN: 18,
  PUSH_MPLS: 19,
  POP_MPLS: 20,
  SET_QUEUE: 21,
  GROUP: 22,
  SET_NW_TTL: 23,
  DEC_NW_TTL: 24,
  SET_FIELD: 25,
  PUSH_PBB: 26,
  POP_PBB: 27,
  EXPERIMENTER: 0xffff,
} as const;

/** Nicira extension action subtypes (nx_action_header.subtype). */
export const NXAST = {
  RESUBMIT: 1,
  SET_TUNNEL: 2,
  POP_QUEUE: 5,
  REG_MOVE: 6,
  REG_LOAD: 7,
  NOTE: 8,
  SET_TUNNEL64: 9,
  MULTIPATH: 10,
  BUNDLE: 12,
  BUNDLE_LOAD: 13,
  RESUBMIT_TABLE: 14,
  OUTPUT_REG: 15,
  LEARN: 16,
  EXIT: 17,
  FIN_TIMEOUT: 19,
  CONTROLLER: 20,
  DEC_TTL_CNT_IDS: 21,
  WRITE_METADATA: 22,
  STACK_PUSH: 27,
  STACK_POP: 28,
  SAMPLE: 29,
  OUTPUT_REG2: 32,
  REG_LOAD2: 33,
  CONJUNCTION: 34,
  CT: 35,
  NAT: 36,
  CONTROLLER2: 37,
  SAMPLE2: 38,
  OUTPUT_TRUNC: 39,
  CLONE: 42,
  CT_CLEAR: 43,
  RESUBMIT_TABLE_CT: 44,
  LEARN2: 45,
} as const;

/** nx_action_controller2 property types. */
export const NXAC2PT = {
  MAX_LEN: 0,
  CONTROLLER_ID: 1,
  REASON: 2,
  USERDATA: 3,
  PAUSE: 4,
  METER_ID: 5,
} as const;

/** nx_action_conntrack flags. */
export const NX_CT_F = { COMMIT: 1 << 0, FORCE: 1 << 1 } as const;
/** ct recirc_table meaning "do not recirculate". */
export const NX_CT_RECIRC_NONE = 0xff;

/** nx_action_nat flags. */
export const NX_NAT_F = {
  SRC: 1 << 0,
  DST: 1 << 1,
  PERSISTENT: 1 << 2,
  PROTO_HASH: 1 << 3,
  PROTO_RANDOM: 1 << 4,
} as const;
/** nx_action_nat range_present bits, in the order the ranges follow. */
export const NX_NAT_RANGE = {
  IPV4_MIN: 1 << 0,
  IPV4_MAX: 1 << 1,
  IPV6_MIN: 1 << 2,
  IPV6_MAX: 1 << 3,
  PROTO_MIN: 1 << 4,
  PROTO_MAX: 1 << 5,
} as const;

/** nx_action_learn flags. */
export const NX_LEARN_F = {
  SEND_FLOW_REM: 1 << 0,
  DELETE_LEARNED: 1 << 1,
  WRITE_RESULT: 1 << 2,
} as const;
/** nx_learn_spec header bits. */
export const NX_LEARN = {
  N_BITS_MASK: 0x3ff,
  SRC_FIELD: 0 << 13,
  SRC_IMMEDIATE: 1 << 13,
  SRC_MASK: 1 << 13,
  DST_MATCH: 0 << 11,
  DST_LOAD: 1 << 11,
  DST_OUTPUT: 2 << 11,
  DST_RESERVED: 3 << 11,
  DST_MASK: 3 << 11,
} as const;

/** nx_hash_fields (multipath, bundle). */
export const NX_HASH_FIELDS = {
  ETH_SRC: 0,
  SYMMETRIC_L4: 1,
  SYMMETRIC_L3L4: 2,
  SYMMETRIC_L3L4_UDP: 3,
  NW_SRC: 4,
  NW_DST: 5,
  SYMMETRIC_L3: 6,
} as const;
/** nx_mp_algorithm. */
export const NX_MP_ALG = { MODULO_N: 0, HASH_THRESHOLD: 1, HRW: 2, ITER_HASH: 3 } as const;

/** ofp_group_type. */
export const OFPGT = { ALL: 0, SELECT: 1, INDIRECT: 2, FF: 3 } as const;
/** ofp_group_mod_command. */
export const OFPGC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;

/** ofp_meter_mod_command. */
export const OFPMC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;
/** ofp_meter_flags. */
export const OFPMF = { KBPS: 1 << 0, PKTPS: 1 << 1, BURST: 1 << 2, STATS: 1 << 3 } as const;
/** ofp_meter_band_type. */
export const OFPMBT = { DROP: 1, DSCP_REMARK: 2, EXPERIMENTER: 0xffff } as const;

/** ofp_config_flags. */
export const OFPC_FRAG = { NORMAL: 0, DROP: 1, REASM: 2, MASK: 3 } as const;
/** ofp_table_config. */
export const OFPTC = { DEPRECATED_MASK: 3, EVICTION: 1 << 2, VACANCY_EVENTS: 1 << 3 } as const;

/** ofp_capabilities. */
export const OFPC = {
  FLOW_STATS: 1 << 0,
  TABLE_STATS: 1 << 1,
  PORT_STATS: 1 << 2,
  GROUP_STATS: 1 << 3,
  IP_REASM: 1 << 5,
  QUEUE_STATS: 1 << 6,
  PORT_BLOCKED: 1 << 8,
} as const;

/** ofp_packet_in_reason. */
export const OFPR = { NO_MATCH: 0, ACTION: 1, INVALID_TTL: 2, ACTION_SET: 3, GROUP: 4, PACKET_OUT: 5 } as const;
/** ofp_flow_removed_reason. */
export const OFPRR = {
  IDLE_TIMEOUT: 0,
  HARD_TIMEOUT: 1,
  DELETE: 2,
  GROUP_DELETE: 3,
  METER_DELETE: 4,
  EVICTION: 5,
} as const;
/** ofp_port_reason. */
export const OFPPR = { ADD: 0, DELETE: 1, MODIFY: 2 } as const;
/** ofp_port_config. */
export const OFPPC = { PORT_DOWN: 1 << 0, NO_RECV: 1 << 2, NO_FWD: 1 << 5, NO_PACKET_IN: 1 << 6 } as const;
/** ofp_port_state. */
export const OFPPS = { LINK_DOWN: 1 << 0, BLOCKED: 1 << 1, LIVE: 1 << 2 } as const;
/** ofp_port_features. */
export const OFPPF = {
  '10MB_HD': 1 << 0,
  '10MB_FD': 1 << 1,
  '100MB_HD': 1 << 2,
  '100MB_FD': 1 << 3,
  '1GB_HD': 1 << 4,
  '1GB_FD': 1 << 5,
  '10GB_FD': 1 << 6,
  '40GB_FD': 1 << 7,
  '100GB_FD': 1 << 8,
  '1TB_FD': 1 << 9,
  OTHER: 1 << 10,
  COPPER: 1 << 11,
  FIBER: 1 << 12,
  AUTONEG: 1 << 13,
  PAUSE: 1 << 14,
  PAUSE_ASYM: 1 << 15,
} as const;
/** The length of a port's name field. */
export const OFP_MAX_PORT_NAME_LEN = 16;
/** The length of a table's name field. */
export const OFP_MAX_TABLE_NAME_LEN = 32;
/** The length of the desc reply's text fields (manufacturer, hardware, software, datapath). */
export const DESC_STR_LEN = 256;
/** The length of the desc reply's serial number field. */
export const SERIAL_NUM_LEN = 32;

/** ofp_controller_role. */
export const OFPCR_ROLE = { NOCHANGE: 0, EQUAL: 1, MASTER: 2, SLAVE: 3 } as const;

/** ofp_multipart_type. */
export const OFPMP = {
  DESC: 0,
  FLOW: 1,
  AGGREGATE: 2,
  TABLE: 3,
  PORT_STATS: 4,
  QUEUE: 5,
  GROUP: 6,
  GROUP_DESC: 7,
  GROUP_FEATURES: 8,
  METER: 9,
  METER_CONFIG: 10,
  METER_FEATURES: 11,
  TABLE_FEATURES: 12,
  PORT_DESC: 13,
  EXPERIMENTER: 0xffff,
} as const;

/** ofp_table_feature_prop_type: the properties of a table-features entry. */
export const OFPTFPT = {
  INSTRUCTIONS: 0,
  INSTRUCTIONS_MISS: 1,
  NEXT_TABLES: 2,
  NEXT_TABLES_MISS: 3,
  WRITE_ACTIONS: 4,
  WRITE_ACTIONS_MISS: 5,
  APPLY_ACTIONS: 6,
  APPLY_ACTIONS_MISS: 7,
  MATCH: 8,
  WILDCARDS: 10,
  WRITE_SETFIELD: 12,
  WRITE_SETFIELD_MISS: 13,
  APPLY_SETFIELD: 14,
  APPLY_SETFIELD_MISS: 15,
  EXPERIMENTER: 0xfffe,
  EXPERIMENTER_MISS: 0xffff,
} as const;

/** The fixed part of ofp_table_features, before its properties. */
export const OFP_TABLE_FEATURES_LEN = 64;
/** ofp_multipart_request_flags / ofp_multipart_reply_flags. */
export const OFPMPF = { MORE: 1 << 0 } as const;

/** Ethertypes the codec and the prerequisite checks refer to. */
export const ETH_TYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  RARP: 0x8035,
  VLAN_8021Q: 0x8100,
  VLAN_8021AD: 0x88a8,
  IPV6: 0x86dd,
  MPLS: 0x8847,
  MPLS_MCAST: 0x8848,
  PBB: 0x88e7,
} as const;
/** IP protocol numbers used in prerequisites. */
export const IP_PROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, SCTP: 132 } as const;
