/**
 * The last N messages sent without a reply of their own (flow-mods, group-mods,
 * bundle adds...), by xid, so that an OFPT_ERROR quoting an earlier xid can be
 * tied back to the caller's request. A fixed ring: memory stays bounded however
 * many messages go out between barriers. Entries the switch has confirmed (a
 * barrier reply covers them) are released early.
 */
export class SentWindow<T> {
  private readonly xids: Uint32Array;
  private readonly items: (T | undefined)[];
  private readonly mask: number;

  /** `size` is rounded up to a power of two. */
  constructor(size: number) {
    let n = 1;
    while (n < size) n <<= 1;
    this.mask = n - 1;
    this.xids = new Uint32Array(n);
    this.items = new Array<T | undefined>(n).fill(undefined);
  }

  get capacity(): number {
    return this.mask + 1;
  }

  record(xid: number, item: T): void {
    const slot = xid & this.mask;
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
}
