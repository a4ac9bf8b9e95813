/**
 * The same checks as fixtures.spec.ts, on bytes captured now from the
 * sandbox's ovs-vswitchd (so the fixtures cannot drift from the real switch).
 */
import { expect } from 'chai';
import { captureOf14Ports, captureVswitchd } from './helpers/vswitchd-capture.js';
import { CHECKS, roundTripBytes } from './helpers/vswitchd-checks.js';

describe('openflow codec: live ovs-vswitchd session @integration', () => {
  it('decodes and re-encodes everything ovs-vswitchd sends its controller', async () => {
    const captured = await captureVswitchd();
    const of14 = await captureOf14Ports();
    captured.set('of14_port_desc', of14.portDesc);
    captured.set('of14_port_status', of14.portStatus);
    captured.set('of14_get_async_reply', of14.asyncReply);
    expect([...captured.keys()].sort()).to.deep.equal(Object.keys(CHECKS).sort());
    for (const [name, bytes] of captured) CHECKS[name](roundTripBytes(bytes), bytes);
  });
});
