/**
 * The dump-flows spelling of a flow an extension wrote in its own: needed
 * only to recognise it among the flows a switch already holds (agent
 * restart), so it is worked out lazily, once per flow.
 */
import { formatFlow } from '../../protocol/openflow/text/index.js';
import { flowModOf } from './extension-flows.js';
import { parseDumpLine, type Flow } from './flow.js';

const canonical = new WeakMap<Flow, Flow>();

export function canonicalOf(f: Flow): Flow {
  if (!f.extension) return f;
  let c = canonical.get(f);
  if (!c) {
    c = parseDumpLine(formatFlow(flowModOf(f)))?.flow ?? f;
    canonical.set(f, c);
  }
  return c;
}
