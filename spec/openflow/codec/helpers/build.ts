/** Short constructors for test expectations. */
import { flowMod } from '@ovs-agent/openflow';
import type { Action, FieldName, FlowMod, Instruction, Subfield } from '@ovs-agent/openflow';

export const sf = (field: FieldName, ofs: number, nBits: number): Subfield => ({ field, ofs, nBits });
export const apply = (...actions: Action[]): Instruction[] => [{ type: 'apply_actions', actions }];
export const output = (port: number, maxLen = 0): Action => ({ type: 'output', port, maxLen });
export const add = (fields: Partial<FlowMod>): FlowMod => flowMod(fields);
