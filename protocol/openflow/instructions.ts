/** OpenFlow 1.3 instructions (ofp_instruction_*), each padded to 8 bytes. */
import { OFPIT } from './constants.js';
import { OpenFlowEncodeError } from './errors.js';
import * as check from './checks.js';
import { decodeActions, encodeActions } from './actions.js';
import type { OfReader } from './reader.js';
import { OfWriter } from './writer.js';
import type { Instruction } from './types.js';

/**
 * The bytes of frozen instruction lists. A frozen list is taken as immutable,
 * with everything in it, so it is encoded once and copied after: a
 * controller that sends the same list with thousands of matches (a
 * firewall's resubmits, outputs and conntrack commits) pays for it once.
 * Weak: the bytes go with the list. Kept as latin1 strings: a short typed
 * array costs ~190 bytes of objects, a string of the same bytes ~20 more
 * than the bytes. Unfrozen lists are encoded every time.
 */
const frozenBytes = new WeakMap<readonly Instruction[], string>();

const scratch = new OfWriter(4096);

/**
 * The wire bytes of an instruction list as a latin1 string; a frozen list's
 * are those encodeInstructions keeps and sends (one string for both).
 */
export function instructionBytes(instructions: readonly Instruction[]): string {
  const kept = frozenBytes.get(instructions);
  if (kept !== undefined) return kept;
  scratch.reset();
  encodeInstructions(scratch, instructions);
  return frozenBytes.get(instructions) ?? scratch.buf.toString('latin1', 0, scratch.pos);
}

/** Encodes a flow's instructions, in order. */
export function encodeInstructions(w: OfWriter, instructions: readonly Instruction[]): void {
  if (instructions.length !== 0 && Object.isFrozen(instructions)) {
    const bytes = frozenBytes.get(instructions);
    if (bytes !== undefined) {
      w.latin1(bytes);
      return;
    }
    const start = w.pos;
    for (let i = 0; i < instructions.length; i++) encodeInstruction(w, instructions[i]);
    // A copy: the writer's buffer is reused.
    frozenBytes.set(instructions, w.buf.toString('latin1', start, w.pos));
    return;
  }
  for (let i = 0; i < instructions.length; i++) encodeInstruction(w, instructions[i]);
}

export function encodeInstruction(w: OfWriter, ins: Instruction): void {
  const start = w.pos;
  switch (ins.type) {
    case 'goto_table': {
      // The common instructions are written straight into the buffer after one room check.
      const table = check.u8(ins.tableId, 'goto_table');
      if (start + 8 > w.buf.length) w.ensure(8);
      putInstructionHeader(w.buf, start, OFPIT.GOTO_TABLE, 8);
      w.buf[start + 4] = table;
      w.pos = start + 8;
      return;
    }
    case 'apply_actions':
    case 'write_actions': {
      if (start + 8 > w.buf.length) w.ensure(8);
      putInstructionHeader(w.buf, start, ins.type === 'apply_actions' ? OFPIT.APPLY_ACTIONS : OFPIT.WRITE_ACTIONS, 0);
      w.pos = start + 8;
      encodeActions(w, ins.actions);
      break;
    }
    case 'write_metadata':
      w.u16(OFPIT.WRITE_METADATA);
      w.u16(24);
      w.zeros(4);
      w.u64(ins.metadata);
      w.u64(ins.mask);
      return;
    case 'clear_actions':
      w.u16(OFPIT.CLEAR_ACTIONS);
      w.u16(8);
      w.zeros(4);
      return;
    case 'meter':
      w.u16(OFPIT.METER);
      w.u16(8);
      w.u32(ins.meterId);
      return;
    case 'experimenter':
      w.u16(OFPIT.EXPERIMENTER);
      w.u16(0);
      w.u32(ins.experimenter);
      w.bytes(ins.data);
      w.pad8(start);
      break;
    default:
      throw new OpenFlowEncodeError('OF_ENCODE_UNSUPPORTED', `unknown instruction ${JSON.stringify((ins as Instruction).type)}`);
  }
  const len = w.pos - start;
  if (len > 0xffff) throw new OpenFlowEncodeError('OF_ENCODE_TOO_LONG', `instruction of ${len} bytes exceeds 65535`);
  w.patchU16(start + 2, len);
}

/** type, length and 4 zero bytes (the rest of goto_table, or the padding of the action lists). */
function putInstructionHeader(b: Buffer, p: number, type: number, len: number): void {
  b[p] = type >>> 8;
  b[p + 1] = type;
  b[p + 2] = len >>> 8;
  b[p + 3] = len;
  b[p + 4] = 0;
  b[p + 5] = 0;
  b[p + 6] = 0;
  b[p + 7] = 0;
}

/** Decodes instructions until the reader's end. */
export function decodeInstructions(r: OfReader): Instruction[] {
  const out: Instruction[] = [];
  while (r.remaining > 0) {
    const at = r.pos;
    r.need(4, 'instruction header');
    const type = r.buf.readUInt16BE(r.pos);
    const len = r.buf.readUInt16BE(r.pos + 2);
    if (len < 8 || len % 8 !== 0) r.fail('OF_DECODE_BAD_LENGTH', `instruction type ${type} has length ${len}`, at);
    r.need(len, `instruction type ${type}`);
    // Decode in place with the reader bounded to this instruction.
    const end = r.end;
    r.end = at + len;
    r.pos = at + 4;
    const i = r;
    switch (type) {
      case OFPIT.GOTO_TABLE:
        out.push({ type: 'goto_table', tableId: i.u8('table_id') });
        break;
      case OFPIT.WRITE_METADATA: {
        i.skip(4);
        const metadata = i.u64('metadata');
        out.push({ type: 'write_metadata', metadata, mask: i.u64('metadata_mask') });
        break;
      }
      case OFPIT.WRITE_ACTIONS:
      case OFPIT.APPLY_ACTIONS: {
        i.skip(4);
        const actions = decodeActions(i);
        out.push({ type: type === OFPIT.WRITE_ACTIONS ? 'write_actions' : 'apply_actions', actions });
        break;
      }
      case OFPIT.CLEAR_ACTIONS:
        out.push({ type: 'clear_actions' });
        break;
      case OFPIT.METER:
        out.push({ type: 'meter', meterId: i.u32('meter_id') });
        break;
      case OFPIT.EXPERIMENTER: {
        const experimenter = i.u32('experimenter');
        out.push({ type: 'experimenter', experimenter, data: i.bytes(i.remaining) });
        break;
      }
      default:
        r.fail('OF_DECODE_BAD_VALUE', `unknown instruction type ${type}`, at);
    }
    r.end = end;
    r.pos = at + len;
  }
  return out;
}
