/**
 * The Node.js this agent needs, checked before anything else is loaded
 * (bin/ovs-agent.ts imports this module first): on an older Node (Debian
 * 12's own `nodejs` is 18) the agent would otherwise die later on a missing
 * API with an error that says nothing about the cause.
 */
export const MIN_NODE = [20, 19] as const;

/** Whether `version` ("20.19.0", "v18.20.4") is at least MIN_NODE. */
export function nodeIsSupported(version: string): boolean {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
}

if (!nodeIsSupported(process.versions.node)) {
  process.stderr.write(`ovs-agent: needs Node.js ${MIN_NODE.join('.')} or newer, this is Node.js ${process.versions.node} (${process.execPath}); ` +
    'on Debian 12 install Node.js 20 from NodeSource (README, "Taking a hypervisor over from neutron-openvswitch-agent")\n');
  process.exit(1);
}
