/**
 * The `conntrack -D` commands Neutron's driver runs when a rule, a remote
 * group member or a port goes: connections the remaining rules might no
 * longer allow are forgotten in the port's zone, so their next packet is
 * judged by the rules again (docs/firewall.md, "iptables_hybrid").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipVersion } from '../addresses.js';
import type { Runner } from './exec.js';
import type { SecurityGroupRule } from '../../model/index.js';

export interface ConntrackTarget {
  fixedIps: readonly string[];
  zone: number;
}

const family = (e: 'IPv4' | 'IPv6'): string => e.toLowerCase();

function base(ethertype: 'IPv4' | 'IPv6', protocol: string | undefined): string[] {
  const cmd = ['conntrack', '-D'];
  // conntrack does not know protocol 0 by number.
  if (protocol !== undefined) cmd.push('-p', protocol === '0' ? 'ip' : protocol);
  cmd.push('-f', family(ethertype));
  return cmd;
}

function ipsOf(port: ConntrackTarget, ethertype: 'IPv4' | 'IPv6'): string[] {
  const v = ethertype === 'IPv4' ? 4 : 6;
  return port.fixedIps.filter((ip) => ipVersion(ip) === v).map((ip) => ip.split('/')[0]);
}

/** A removed rule: the port's connections of that protocol in that direction. */
export function ruleRemoved(rule: SecurityGroupRule, ports: readonly ConntrackTarget[]): string[][] {
  const out: string[][] = [];
  for (const p of ports) {
    for (const ip of ipsOf(p, rule.ethertype)) {
      out.push([...base(rule.ethertype, rule.protocol), rule.direction === 'ingress' ? '-d' : '-s', ip, '-w', String(p.zone)]);
    }
  }
  return out;
}

/** Addresses gone from a remote group (or, with none named, a port gone): its connections with them, both ways. */
export function remotesRemoved(ethertype: 'IPv4' | 'IPv6', remotes: readonly string[], ports: readonly ConntrackTarget[]): string[][] {
  const out: string[][] = [];
  for (const p of ports) {
    for (const ip of ipsOf(p, ethertype)) {
      for (const direction of ['ingress', 'egress'] as const) {
        const cmd = [...base(ethertype, undefined), direction === 'ingress' ? '-d' : '-s', ip, '-w', String(p.zone)];
        if (!remotes.length) out.push(cmd);
        for (const r of remotes) out.push([...cmd, direction === 'ingress' ? '-s' : '-d', r.split('/')[0]]);
      }
    }
  }
  return out;
}

/**
 * Runs the `conntrack -D` commands as ONE `conntrack -R FILE` (one command
 * per line; Neutron starts a process for each). A file, not stdin: conntrack
 * opens /dev/stdin by name, which fails on the socket Node gives a child.
 * No entry matching is not an error.
 */
export async function deleteConntrack(run: Runner, commands: readonly string[][]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ovs-agent-conntrack-'));
  try {
    const file = join(dir, 'delete');
    writeFileSync(file, commands.map((c) => c.slice(1).join(' ')).join('\n') + '\n');
    await run(['conntrack', '-R', file], undefined, [0, 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
