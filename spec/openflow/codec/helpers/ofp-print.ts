/** ovs-ofctl ofp-print as an oracle: the text OVS prints for a message's bytes. */
import { execFileSync } from 'node:child_process';

export function ofpPrint(bytes: Buffer): string {
  return execFileSync('ovs-ofctl', ['ofp-print', bytes.toString('hex')], { encoding: 'utf8' }).trim();
}
