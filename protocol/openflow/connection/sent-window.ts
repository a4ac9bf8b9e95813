/**
 * The last N messages sent without a reply of their own (flow-mods, group-mods,
 * bundle adds...), by xid, so that an OFPT_ERROR quoting an earlier xid can be
 * tied back to the caller's request. A ring: memory stays bounded however
 * many messages go out between barriers. Entries the switch has confirmed (a
 * barrier reply covers them) are released early.
 *
 * The ring starts small and doubles, up to N, only when a slot it needs still
 * holds an unconfirmed message: a session whose batches are confirmed by
 * barriers keeps a few KB, not N entries (262,144 by default: 3 MB a
 * connection, resident from the start).
 */
export class SentWindow<T> {
  private xids: Uint32Array;
  private items: (T | undefined)[];
  private mask: number;
  private readonly maxMask: number;

  /** `size` is rounded up to a power of two; `initial` (rounded the same way, at most `size`) is where the ring starts. */
  constructor(size: number, initial = 1024) {
    const max = pow2(size);
    this.maxMask = max - 1;
    const n = Math.min(max, pow2(initial));
    this.mask = n - 1;
    this.xids = new Uint32Array(n);
    this.items = new Array<T | undefined>(n).fill(undefined);
  }

  /** The most entries it remembers (N). */
  get capacity(): number {
    return this.maxMask + 1;
  }

  record(xid: number, item: T): void {
    let slot = xid & this.mask;
    // Until the ring is full size, an unconfirmed message is never overwritten: grow until its slot is free.
    while (this.items[slot] !== undefined && this.xids[slot] !== xid && this.mask < this.maxMask) {
      this.grow();
      slot = xid & this.mask;
    }
    this.xids[slot] = xid;
    this.items[slot] = item;
  }

  /** The item sent with `xid`, unless it has left the window. */
  get(xid: number): T | undefined {
    const slot = xid & this.mask;
    return this.xids[slot] === xid ? this.items[slot] : undefined;
  }

  /** Releases the entries of xids in (from, to], in xid order, wrapping at 2^32. */
  release(from: number, to: number): void {
    const count = ((to - from) >>> 0);
    const n = Math.min(count, this.mask + 1);
    for (let i = 0, xid = (to - n + 1) >>> 0; i < n; i++, xid = (xid + 1) >>> 0) {
      const slot = xid & this.mask;
      if (this.xids[slot] === xid) this.items[slot] = undefined;
    }
  }

  clear(): void {
    this.items.fill(undefined);
  }

  /** Doubles the ring; live entries keep their xid's slot (its low bits are the old slot). */
  private grow(): void {
    const n = (this.mask + 1) * 2;
    const xids = new Uint32Array(n);
    const items = new Array<T | undefined>(n).fill(undefined);
    const mask = n - 1;
    for (let i = 0; i <= this.mask; i++) {
      const item = this.items[i];
      if (item === undefined) continue;
      const slot = this.xids[i] & mask;
      xids[slot] = this.xids[i];
      items[slot] = item;
    }
    this.xids = xids;
    this.items = items;
    this.mask = mask;
  }
}

function pow2(size: number): number {
  let n = 1;
  while (n < size) n <<= 1;
  return n;
}
