/**
 * What iptables_hybrid needs from the host, checked once at start: the
 * tools it runs (a missing one stops the agent, naming it) and br_netfilter
 * handing bridged frames to iptables (without it no VM is filtered; Neutron
 * only warns, and so does the agent, loudly).
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const HYBRID_TOOLS = ['iptables-save', 'iptables-restore', 'ip6tables-save', 'ip6tables-restore', 'ipset', 'conntrack'] as const;
/** The nftables backend's (`[ovs_agent] hybrid_backend = nftables`); iptables-save is only read if present, to take over its rules. */
export const NFT_TOOLS = ['nft', 'conntrack'] as const;

export class HybridPreflightError extends Error {
  override readonly name = 'HybridPreflightError';
  readonly code = 'FW_HYBRID_TOOLS_MISSING';
}

function onPath(tool: string, path: string): boolean {
  for (const dir of path.split(delimiter)) {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // next directory
    }
  }
  return false;
}

/** Throws naming every missing tool; returns the warnings (br_netfilter settings) to log. */
export function hybridPreflight(env: NodeJS.ProcessEnv = process.env, procSys = '/proc/sys', sbin: readonly string[] = ['/usr/sbin', '/sbin'],
  tools: readonly string[] = HYBRID_TOOLS): string[] {
  // Root's tools live in sbin, which a service's PATH may lack; the agent looks there too.
  const path = [env.PATH ?? '', ...sbin].join(delimiter);
  const missing = tools.filter((t) => !onPath(t, path));
  if (missing.length) {
    throw new HybridPreflightError(`[securitygroup] firewall_driver = iptables_hybrid needs ${missing.join(', ')} on the PATH `
      + `(Debian: apt-get install ${tools.includes('nft') ? 'nftables conntrack' : 'iptables ipset conntrack'})`);
  }
  const warnings: string[] = [];
  for (const key of ['bridge-nf-call-iptables', 'bridge-nf-call-ip6tables']) {
    let value: string | undefined;
    try {
      value = readFileSync(join(procSys, 'net/bridge', key), 'utf8').trim();
    } catch {
      value = undefined;
    }
    if (value !== '1') {
      warnings.push(value === undefined
        ? `net.bridge.${key} does not exist (br_netfilter not loaded): bridged VM traffic bypasses iptables and is NOT filtered`
        : `net.bridge.${key} = ${value}: bridged VM traffic bypasses ${key.slice('bridge-nf-call-'.length)} and is NOT filtered; set it to 1`);
    }
  }
  return warnings;
}
