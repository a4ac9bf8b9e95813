/**
 * Who the agent lets in on its OpenFlow controller listener
 * (`openflow_channel = controller`), in terms of what it trusts: OVSDB,
 * reached over its own socket. The listener itself has no authentication
 * and no TLS (neither has Neutron's), and a peer's datapath id is only a
 * claim, so a claim is checked against the database before its session is
 * used (protocol/openflow's `verifyClaim` hook):
 *
 * - a Bridge row must have that `datapath_id`;
 * - the peer's OFPMP_DESC `dp_desc` must be the random description the agent
 *   wrote into that bridge's `other_config:dp-desc` (ovs-vswitchd reports it
 *   there; a process that can only reach the listener cannot know it);
 * - its PORT_DESC must not contradict the database: the LOCAL port is named
 *   as the bridge, and a port the database has on that bridge has the same
 *   ofport.
 *
 * The Controller row's `is_connected` is not waited for: ovs-vswitchd writes
 * it seconds after the session is up (measured here: about 2 s), which would
 * hold every reconnect, a restart's included, for as long.
 *
 * A description written moments ago may not be applied yet when the switch
 * connects (the agent starting, with Controller rows left by its previous
 * run), so a mismatch is asked again until `deadlineMs` before it refuses.
 * See docs/agent.md, "The controller arrangement".
 */
import { randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { ClaimVerdict, SwitchClaim } from '@ovs-agent/openflow';
import { formatDatapathId } from '@ovs-agent/openflow';
import { OFPP } from '@ovs-agent/openflow';
import type { Logger } from '../../log.js';
import type { SwitchDatabase } from '../switch.js';

/** A fresh description for the agent's bridges: its `other_config:dp-desc`, kept for this process's life. */
export function newSwitchDescription(): string {
  return `ovs-agent ${randomBytes(12).toString('hex')}`;
}

export interface ClaimCheckOptions {
  /** Ask again this often while the description or the ports disagree. Default 50 ms. */
  retryMs?: number;
  /** Refuse after this long. Default 3000 ms. */
  deadlineMs?: number;
}

/** `verifyClaim` for OpenFlowController: the checks above against the agent's database. */
export function bridgeClaimChecker(db: SwitchDatabase, description: string, opts: ClaimCheckOptions = {}): (claim: SwitchClaim) => Promise<ClaimVerdict> {
  const retryMs = opts.retryMs ?? 50;
  const deadlineMs = opts.deadlineMs ?? 3000;
  return async (claim) => {
    const dpid = formatDatapathId(claim.datapathId);
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const bridge = db.bridges().find((b) => b.datapathId === dpid);
      // Unknown ids are refused at once: nothing to wait for, and nothing of them is kept.
      if (!bridge) return { accept: false, reason: 'no bridge in OVSDB has that datapath id' };
      const [desc, ports] = await Promise.all([claim.connection.desc(), claim.connection.portDesc()]);
      const wrong = desc.dpDesc !== description
        ? `its OFPMP_DESC does not carry the description the agent gave ${bridge.name} in OVSDB (other_config:dp-desc)`
        : portsContradiction(db, bridge.name, ports);
      if (!wrong) return { accept: true };
      if (Date.now() + retryMs > deadline) return { accept: false, reason: wrong };
      await new Promise((r) => setTimeout(r, retryMs));
    }
  };
}

/** What in PORT_DESC contradicts OVSDB about `bridge`, if anything. Ports only one side has yet are in flight, not wrong. */
function portsContradiction(db: SwitchDatabase, bridge: string, ports: ReadonlyArray<{ portNo: number; name: string }>): string | undefined {
  for (const p of ports) {
    if (p.portNo === OFPP.LOCAL) {
      if (p.name !== bridge) return `its LOCAL port is named ${JSON.stringify(p.name)}, not ${bridge}`;
      continue;
    }
    const row = db.vif(p.name);
    if (row?.bridge === bridge && row.ofport !== undefined && row.ofport > 0 && row.ofport !== p.portNo) {
      return `its port ${p.name} is ofport ${p.portNo}, OVSDB says ${row.ofport}`;
    }
  }
  return undefined;
}

/**
 * Logs refused peers and failed handshakes as warnings, at most `burst` per
 * `windowMs`, then how many more there were when the window ends: a flood
 * of connections must not become a flood of log lines.
 */
export function refusalLog(log: Logger, burst = 5, windowMs = 60_000): { refused(err: Error): void } {
  let windowStart = 0;
  let logged = 0;
  let suppressed = 0;
  let flush: NodeJS.Timeout | undefined;
  return {
    refused(err) {
      const now = Date.now();
      if (now - windowStart >= windowMs) {
        windowStart = now;
        logged = 0;
      }
      if (logged < burst) {
        logged++;
        log.warn(err.message, { code: (err as { code?: string }).code });
        return;
      }
      suppressed++;
      flush ??= setTimeout(() => {
        log.warn(`${suppressed} more OpenFlow peers refused or failing their handshake in the last ${windowMs / 1000} s`);
        suppressed = 0;
        flush = undefined;
      }, windowStart + windowMs - now).unref();
    },
  };
}

/** True for 127.0.0.0/8 and ::1 (and ::ffff:127.x): the listener is reachable from this host only. */
export function isLoopback(address: string): boolean {
  if (isIPv4(address)) return address.startsWith('127.');
  if (isIPv6(address)) {
    const a = address.toLowerCase();
    return a === '::1' || /^::ffff:127\./.test(a);
  }
  return address === 'localhost';
}

/** The warning for a listener reachable from other hosts, or undefined for a loopback one. */
export function listenAddressWarning(address: string, port: number): string | undefined {
  if (isLoopback(address)) return undefined;
  return `[ovs] of_listen_address = ${address}: the OpenFlow controller listener on port ${port} is reachable from other hosts, ` +
    'and it has no authentication and no TLS. Anyone who reaches it can open connections to it (they are checked against OVSDB ' +
    'and cannot take over a bridge), and anyone on the path between a remote switch and this host can read and change that ' +
    'switch\'s flows. Neutron\'s default, 127.0.0.1, keeps it on this host; if switches must connect from elsewhere, allow only ' +
    'them to reach the port.';
}
