import { expect } from 'chai';
import { ReportWindow } from '../../lib/control-plane/neutron/report-window.js';

/** Settles the promise callbacks queued so far. */
const drain = () => new Promise((r) => setImmediate(r));

describe('ReportWindow (update_device_list chunks out at the server)', () => {
  it('admits chunks up to half the RPC timeout at 0.1 s a device, then holds the next until one is answered', async () => {
    const w = new ReportWindow(60); // 30 s / 0.1 s = 300 devices
    expect(w.limit).to.equal(300);
    const tickets = await Promise.all(Array.from({ length: 15 }, () => w.acquire(20)));
    expect(w.inFlight).to.equal(300);
    let admitted = false;
    const next = w.acquire(20).then((t) => {
      admitted = true;
      return t;
    });
    await drain();
    expect(admitted, 'the 16th chunk waits').to.equal(false);
    w.release(tickets[0], false);
    await drain();
    expect(admitted, 'admitted once a chunk is answered').to.equal(true);
    expect((await next).ahead).to.equal(300);
  });

  it('lets a chunk larger than the window go alone', async () => {
    const w = new ReportWindow(1); // 0.5 s / 0.1 s = 5 devices
    const big = await w.acquire(50);
    expect(big.devices).to.equal(50);
    let second = false;
    void w.acquire(1).then(() => (second = true));
    await drain();
    expect(second).to.equal(false);
    w.release(big, true, big.sentAt + 100);
    await drain();
    expect(second).to.equal(true);
  });

  it('admits in the order asked: a small chunk does not overtake a waiting large one', async () => {
    const w = new ReportWindow(4); // 20 devices
    const first = await w.acquire(15);
    const order: string[] = [];
    const large = w.acquire(20).then((t) => (order.push('large'), t));
    const small = w.acquire(1).then((t) => (order.push('small'), t));
    await drain();
    expect(order).to.deep.equal([]);
    w.release(first, false);
    await drain();
    expect(order).to.deep.equal(['large']);
    w.release(await large, false);
    await small;
    expect(order).to.deep.equal(['large', 'small']);
  });

  it('learns the server time per device from the answers: a slow server gets fewer devices at once, a fast one more', async () => {
    const slow = new ReportWindow(60);
    for (let i = 0; i < 20; i++) {
      const t = await slow.acquire(20);
      slow.release(t, true, t.sentAt + 20 * 1000); // 1 s a device
    }
    expect(slow.limit).to.be.within(30, 32);

    const fast = new ReportWindow(60);
    for (let i = 0; i < 20; i++) {
      const t = await fast.acquire(20);
      fast.release(t, true, t.sentAt + 20 * 10); // 10 ms a device
    }
    expect(fast.limit).to.be.within(2900, 3100);
  });

  it('learns nothing from a failed call', async () => {
    const w = new ReportWindow(60);
    const t = await w.acquire(20);
    w.release(t, false, t.sentAt + 600_000);
    expect(w.limit).to.equal(300);
    expect(w.inFlight).to.equal(0);
  });
});
