/**
 * One neutron-server stack for every spec file of spec/neutron that needs
 * one: it takes ~12 s to start, so the files share it. Started on first use,
 * stopped by a root-level `after` hook (registered when this module loads)
 * once all files have run. Each file uses its own hosts and networks.
 */
import { NeutronEnv } from '../../../testing/neutron-env.js';

let env: Promise<NeutronEnv> | undefined;

export function sharedNeutronEnv(): Promise<NeutronEnv> {
  env ??= NeutronEnv.start({ mechanismDrivers: ['openvswitch', 'l2population'] });
  return env;
}

after(async function () {
  this.timeout(60_000);
  if (!env) return;
  const e = await env.catch(() => undefined);
  env = undefined;
  await e?.stop();
});
