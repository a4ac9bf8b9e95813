/**
 * Constructors that fill in the defaults of the wire (as ovs-ofctl does), so
 * callers name only what they mean.
 */
import { OFP_DEFAULT_PRIORITY, OFP_NO_BUFFER, OFPG, OFPP, OFPTT } from './constants.js';
import type { FlowMod, MultipartRequest, MultipartRequestBody } from './types.js';

/**
 * A FLOW_MOD with ovs-ofctl's defaults: add, table 0, priority 0x8000, no
 * timeouts, cookie 0, no buffer, out_port/out_group ANY, no flags, an empty
 * match and no instructions. For delete commands the table defaults to ALL.
 */
export function flowMod(fields: Partial<FlowMod> = {}): FlowMod {
  const command = fields.command ?? 'add';
  const isDelete = command === 'delete' || command === 'delete_strict';
  return {
    type: 'flow_mod',
    xid: fields.xid ?? 0,
    cookie: fields.cookie ?? 0n,
    cookieMask: fields.cookieMask ?? 0n,
    tableId: fields.tableId ?? (isDelete ? OFPTT.ALL : 0),
    command,
    idleTimeout: fields.idleTimeout ?? 0,
    hardTimeout: fields.hardTimeout ?? 0,
    priority: fields.priority ?? OFP_DEFAULT_PRIORITY,
    bufferId: fields.bufferId ?? OFP_NO_BUFFER,
    outPort: fields.outPort ?? OFPP.ANY,
    outGroup: fields.outGroup ?? OFPG.ANY,
    flags: fields.flags ?? 0,
    match: fields.match ?? {},
    instructions: fields.instructions ?? [],
  };
}

/** A multipart request with no MORE flag. */
export function multipartRequest(body: MultipartRequestBody, xid = 0): MultipartRequest {
  return { type: 'multipart_request', xid, flags: 0, body };
}

/** A flow-stats request for all flows of a table (default all tables), optionally filtered. */
export function flowStatsRequest(
  sel: Partial<{ tableId: number; outPort: number; outGroup: number; cookie: bigint; cookieMask: bigint; match: FlowMod['match'] }> = {},
  xid = 0,
): MultipartRequest {
  return multipartRequest(
    {
      kind: 'flow',
      tableId: sel.tableId ?? OFPTT.ALL,
      outPort: sel.outPort ?? OFPP.ANY,
      outGroup: sel.outGroup ?? OFPG.ANY,
      cookie: sel.cookie ?? 0n,
      cookieMask: sel.cookieMask ?? 0n,
      match: sel.match ?? {},
    },
    xid,
  );
}
