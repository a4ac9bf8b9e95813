/**
 * packaging/ovs-agent.service passes the configuration Debian's
 * neutron-openvswitch-agent gets: the same --config-file / --config-dir
 * arguments in the same order, as its init script computes them on this host
 * (`/etc/init.d/neutron-openvswitch-agent show-args`, from Debian's
 * neutron-openvswitch-agent package, which systemd-start runs).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const UNIT = resolve(import.meta.dirname, '..', '..', 'packaging', 'ovs-agent.service');

const configArgs = (args: string[]): string[] => args.filter((a) => /^--config-(file|dir)=/.test(a));

describe('packaging/ovs-agent.service against Debian\'s neutron-openvswitch-agent', () => {
  it('passes the --config-file and --config-dir arguments Debian\'s init script passes, in its order', async () => {
    const line = readFileSync(UNIT, 'utf8').split('\n').find((l) => l.startsWith('ExecStart='));
    expect(line, 'ExecStart=').to.be.a('string');
    const ours = configArgs(line!.slice('ExecStart='.length).trim().split(/\s+/));
    const { stdout } = await run('/etc/init.d/neutron-openvswitch-agent', ['show-args']);
    const debian = configArgs(stdout.trim().split(/\s+/));
    // Debian's postinst (neutron-common) creates agent.conf.d: the init script passes it only when it exists.
    expect(debian, 'Debian\'s arguments on this host').to.include('--config-dir=/etc/neutron/agent.conf.d');
    expect(ours).to.deep.equal(debian);
  });
});
