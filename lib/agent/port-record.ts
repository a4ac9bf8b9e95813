/** A port as the agent keeps it (ports.ts owns the records), and what one pass takes on. */
import type { NetworkType } from '../model/index.js';

export type PortState = 'ACTIVE' | 'DEAD' | 'DOWN' | 'FAILED' | 'WAITING';

export interface WiredPort {
  portId: string;
  name: string;
  ofport: number;
  mac: string;
  state: PortState;
  networkId?: string;
  networkType?: NetworkType;
  lvid?: number;
  /** When the interface was first seen ready (ms since epoch). */
  readyAt: number;
  /** From ready to flows confirmed and reported (ms). */
  wiredInMs?: number;
  error?: string;
}

export interface PortRecord extends WiredPort {
  /** performance.now() when the interface became ready: sub-millisecond wiring times. */
  readyPerf: number;
  /**
   * The tag this agent gives the Port row (its network's local VLAN, or 4095
   * dead), set before it is written: a tag anyone else sets is set back.
   */
  tag?: number;
}

/** What one pass takes on. */
export interface PassWork {
  /** Ports to look up and wire (present and due). */
  ids: string[];
  /** Ports whose interface went. */
  removed: string[];
  /** Duplicate interfaces whose dead wiring is to be put in place or taken away. */
  duplicates: string[];
}
