import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

/** The flow corpus: one flow per line, `#` comments and blank lines skipped. */
export function corpus(): string[] {
  return readFileSync(join(here, 'fixtures', 'flows.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
}

/** Runs an OVS tool that needs no daemon (parse-flows, ofp-parse), stdin optional. */
export async function ovsTool(program: string, args: string[], input?: string): Promise<string> {
  const child = execFileAsync(program, args, { maxBuffer: 64 * 1024 * 1024, timeout: 30_000 });
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout;
}

/**
 * Splits ofp-print output into one entry per OFPT_FLOW_MOD, each the text
 * after "ADD "/"MOD "/..., continuation lines (hex dumps of decode errors) kept.
 */
export function flowModLines(out: string): string[] {
  const res: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^OFPT_FLOW_MOD \(OF1\.3\) \(xid=0x[0-9a-f]+\):\s?(.*)$/.exec(line);
    if (m) res.push(m[1]);
    else if (res.length && line.trim() !== '' && !/^(usable|chosen) protocol/.test(line)) res[res.length - 1] += '\n' + line;
  }
  return res;
}
