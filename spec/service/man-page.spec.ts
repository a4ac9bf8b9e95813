/**
 * ovs-agent(8) and the shell completions, as scripts/build-cli.ts writes
 * them: rendered by groff and man without a warning, every option of
 * lib/config/options.ts under its section, every flag `--help` lists, and
 * completions that the shells parse and that complete what the CLI takes.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { OPTIONS } from '../../lib/config/options.js';
import { bashCompletion, zshCompletion } from '../../scripts/completion.js';
import { manPage } from '../../scripts/man-page.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');

describe('man page and shell completion', function () {
  this.timeout(60_000);
  let dir: string;
  let page: string;
  let bash: string;
  let zsh: string;
  let helpFlags: string[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ovs-agent-man-'));
    page = manPage(ROOT);
    bash = bashCompletion(ROOT);
    zsh = zshCompletion(ROOT);
    writeFileSync(join(dir, 'ovs-agent.8'), page);
    writeFileSync(join(dir, 'ovs-agent.bash'), bash);
    writeFileSync(join(dir, '_ovs-agent'), zsh);
    // What the CLI itself says it takes, for the cross-checks below.
    const helps = await Promise.all([[], ['cleanup'], ['status'], ['flows']].map((c) =>
      run(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/ovs-agent.ts'), ...c, '--help'], { cwd: ROOT })));
    helpFlags = [...new Set(helps.flatMap((h) => [...h.stdout.matchAll(/^\s+(?:-\w, )?--([a-z][a-z-]*)/gm)].map((m) => m[1])))];
    expect(helpFlags).to.include.members(['config-file', 'log-file', 'ovs-all-ports', 'json', 'help']);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('renders with groff -wall -man and man --warnings without a warning', async () => {
    const groff = await run('groff', ['-wall', '-man', '-Tutf8', join(dir, 'ovs-agent.8')], { env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    expect(groff.stderr).to.equal('');
    expect(groff.stdout).to.include('ovs-agent');
    const man = await run('man', ['--warnings', '-l', join(dir, 'ovs-agent.8')], { env: { ...process.env, MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat' } });
    expect(man.stderr).to.equal('');
    for (const h of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'OPTIONS', 'CONFIGURATION FILE', 'SIGNALS', 'ENVIRONMENT', 'FILES', 'SYSTEMD', 'SEE ALSO']) {
      expect(man.stdout, h).to.match(new RegExp(`^${h}$`, 'm'));
    }
  });

  it('lists every configuration option under its section, with type, default and environment variable', () => {
    const sections = page.split(/^\.SS /m).slice(1);
    for (const [section, opts] of Object.entries(OPTIONS)) {
      const body = sections.find((s) => s.startsWith(`[${section}]\n`));
      expect(body, `section [${section}]`).to.be.a('string');
      const listed = [...body!.matchAll(/^\.TP\n\\fB(.+)\\fR$/gm)].map((m) => m[1].replaceAll('\\-', '-'));
      expect(listed, `[${section}]`).to.deep.equal(Object.keys(opts));
      for (const name of Object.keys(opts)) {
        expect(body).to.include(`Environment: \\fI${`OVS_AGENT_${section.toUpperCase()}_${name.toUpperCase()}`.replaceAll('_', '_\\:')}\\fR`);
      }
    }
    expect(page).to.include('Type: integer, 0 to 65535. Default: 6633.');
  });

  it('documents every flag --help lists, the commands and the signals', () => {
    for (const f of helpFlags) expect(page, `--${f}`).to.include(`\\fB\\-\\-${f.replaceAll('-', '\\-')}\\fR`);
    for (const c of ['run', 'cleanup', 'status', 'flows', 'trace']) expect(page).to.include(`.TP\n\\fB${c}\\fR`);
    expect(page).to.match(/^\.SH SIGNALS\n\.TP\nSIGTERM, SIGINT$/m);
    expect(page).to.include('SIGHUP');
  });

  it('bash completion parses, and completes commands, each command\'s flags, and section.option= after --set', async () => {
    await run('bash', ['-n', join(dir, 'ovs-agent.bash')]);
    const complete = async (...words: string[]) => {
      const script = `source ${join(dir, 'ovs-agent.bash')}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _ovs_agent; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return (await run('bash', ['-c', script])).stdout.trim().split('\n').filter(Boolean);
    };
    expect(await complete('ovs-agent', '')).to.have.members(['run', 'cleanup', 'status', 'flows', 'trace']);
    expect(await complete('ovs-agent', 'flows', '--rep')).to.deep.equal(['--repair']);
    expect(await complete('ovs-agent', 'cleanup', '--ovs-a')).to.deep.equal(['--ovs-all-ports']);
    expect(await complete('ovs-agent', '--ovs-a'), 'cleanup\'s own flag is not run\'s').to.deep.equal([]);
    expect(await complete('ovs-agent', 'status', '--js')).to.deep.equal(['--json']);
    expect(await complete('ovs-agent', '--set', 'ovs.of_listen_p')).to.deep.equal(['ovs.of_listen_port=']);
    const all = await complete('ovs-agent', 'run', '--');
    for (const f of helpFlags.filter((x) => !['ovs-all-ports', 'json', 'repair'].includes(x))) expect(all, f).to.include(`--${f}`);
  });

  it('zsh completion parses and names every flag', async () => {
    await run('zsh', ['-n', join(dir, '_ovs-agent')]);
    for (const f of helpFlags) expect(zsh, f).to.include(`--${f}`);
    expect(zsh.split('\n')[0]).to.equal('#compdef ovs-agent');
  });
});
