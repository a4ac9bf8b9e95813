/**
 * ovs-agent(8), in troff (man macros), generated from the definitions:
 * the command line as bin/ovs-agent.ts defines it (scripts/cli-definition.ts)
 * and every configuration option of lib/config/options.ts, grouped by
 * section, with its type, default, environment variable and help.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPTIONS, type OptionSpec, type OptionType } from '../lib/config/options.js';
import { readCliDefinition, type CliFlag, type CliSection } from './cli-definition.js';

/** Text for a troff text line: backslashes, hyphens (so options copy as typed), a leading dot or quote. */
export function esc(text: string): string {
  let t = text.replaceAll('\\', '\\e').replaceAll('-', '\\-');
  // `code` in the usage text reads as bold.
  t = t.replace(/`([^`]+)`/g, '\\fB$1\\fR');
  if (/^[.']/.test(t)) t = `\\&${t}`;
  return t;
}

function typeText(t: OptionType): string {
  switch (t.kind) {
    case 'string':
      return t.choices ? `one of ${t.choices.join(', ')}` : 'string';
    case 'int':
      return t.min !== undefined && t.max !== undefined ? `integer, ${t.min} to ${t.max}`
        : t.min !== undefined ? `integer, at least ${t.min}` : 'integer';
    case 'float':
      return t.min !== undefined ? `number, at least ${t.min}` : 'number';
    case 'bool':
      return 'boolean (true/false)';
    case 'list':
      return t.choices ? `comma-separated list of ${t.choices.join(', ')}` : 'comma-separated list';
    case 'dict':
      return 'comma-separated key:value list';
    case 'ip':
      return 'IP address';
    case 'multi':
      return 'string, repeatable (every value counts)';
  }
}

function defaultText(section: string, name: string, spec: OptionSpec): string {
  const d = spec.default;
  if (section === 'DEFAULT' && name === 'host') return "the machine's host name";
  if (d === undefined || d === '') return 'unset';
  if (Array.isArray(d)) return d.length ? d.join(', ') : 'empty';
  if (typeof d === 'object') return Object.keys(d as object).length ? JSON.stringify(d) : 'empty';
  return String(d);
}

/** One usage-text section: "TERM  definition" lines (continued by deeper indentation) become tagged paragraphs. */
function sectionBody(s: CliSection): string[] {
  const out: string[] = [];
  if (s.heading === 'SYNOPSIS' || s.heading === 'EXAMPLES') {
    out.push('.nf');
    for (const l of s.lines) out.push(l.trim() === '' ? '' : esc(l));
    out.push('.fi');
    return out;
  }
  if (s.heading === 'NAME') {
    const text = s.lines.join(' ').trim();
    const dash = text.indexOf(' - ');
    return [dash > 0 ? `${esc(text.slice(0, dash))} \\- ${esc(text.slice(dash + 3))}` : esc(text)];
  }
  let inTerm = false;
  let paragraph = false;
  for (const l of s.lines) {
    if (l.trim() === '') {
      inTerm = false;
      paragraph = false;
      continue;
    }
    const term = /^(\S.*?) {2,}(\S.*)$/.exec(l);
    if (term && !l.startsWith(' ')) {
      out.push('.TP', esc(term[1]), esc(term[2]));
      inTerm = true;
      paragraph = false;
    } else if (inTerm && l.startsWith(' ')) {
      out.push(esc(l.trim()));
    } else {
      if (!paragraph) out.push('.PP');
      out.push(esc(l.trim()));
      paragraph = true;
      inTerm = false;
    }
  }
  return out;
}

function flagLines(f: CliFlag): string[] {
  const arg = f.type === 'boolean' ? '' : f.array ? ' \\fIVALUE\\fR ...' : ' \\fIVALUE\\fR';
  const short = f.name === 'help' ? '\\fB\\-h\\fR, ' : '';
  return ['.TP', `${short}\\fB\\-\\-${esc(f.name)}\\fR${arg}`, esc(f.describe)];
}

const BUILTIN_FLAGS: CliFlag[] = [
  { name: 'help', type: 'boolean', array: false, describe: 'Show the usage text and exit.', group: 'Options:' },
  { name: 'version', type: 'boolean', array: false, describe: 'Show the version and exit.', group: 'Options:' },
];

const SERVICE = [
  '.SH SYSTEMD',
  '.PP',
  esc('The package ships packaging/ovs-agent.service, a unit of Type=notify that runs `ovs-agent run` with the configuration files '
    + "Debian's neutron-openvswitch-agent.service passes, conflicts with that unit (both never run at once), and restarts the agent on failure. "
    + 'The agent tells systemd what start-up waits for (STATUS=), that it is ready once its first full sync is done (READY=1: every port '
    + 'present at start wired and its flows confirmed by the switch), that it reloads (SIGHUP) and stops; with WatchdogSec= set it sends '
    + 'WATCHDOG=1 every half of it. Install it with:'),
  '.PP',
  '.nf',
  esc('cp "$(npm root -g)/ovs-agent/packaging/ovs-agent.service" /etc/systemd/system/'),
  esc('systemctl daemon-reload && systemctl enable --now ovs-agent'),
  '.fi',
  '.PP',
  esc('Bash completion: dist/completion/ovs-agent.bash, zsh completion: dist/completion/_ovs-agent in the installed package.'),
];

export function manPage(root: string): string {
  const cli = readCliDefinition(root);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const out: string[] = [
    '.\\" Generated by scripts/man-page.ts from bin/ovs-agent.ts and lib/config/options.ts: edit those, not this file.',
    `.TH OVS\\-AGENT 8 "" "ovs-agent ${esc(pkg.version)}" "System Administration"`,
  ];
  const sections = new Map(cli.sections.map((s) => [s.heading, s]));
  const emit = (heading: string) => {
    const s = sections.get(heading);
    if (!s) return;
    sections.delete(heading);
    out.push(`.SH ${heading}`, ...sectionBody(s));
  };
  for (const h of ['NAME', 'SYNOPSIS', 'DESCRIPTION']) emit(h);

  out.push('.SH COMMANDS');
  for (const c of cli.commands) out.push('.TP', `\\fB${esc(c.name)}\\fR`, esc(`${c.describe}${c.isDefault && !c.describe.includes('default') ? ' (the default)' : ''}.`));

  out.push('.SH OPTIONS', '.PP', esc('Every command takes the configuration and logging options; the flags that name an option of the '
    + 'configuration file override it (see CONFIGURATION FILE).'));
  const common = cli.flags.filter((f) => !f.command);
  for (const group of [...new Set(common.map((f) => f.group))]) {
    out.push(`.SS ${esc(group.replace(/:$/, ''))}`);
    for (const f of common.filter((x) => x.group === group)) out.push(...flagLines(f));
  }
  for (const c of cli.commands) {
    const own = cli.flags.filter((f) => f.command === c.name);
    if (!own.length) continue;
    out.push(`.SS ${esc(`${c.name} only`)}`);
    for (const f of own) out.push(...flagLines(f));
  }
  out.push('.SS Other');
  for (const f of BUILTIN_FLAGS) out.push(...flagLines(f));

  out.push('.SH CONFIGURATION FILE', '.PP', esc("Neutron's openvswitch_agent.ini (and neutron.conf, for [DEFAULT] and [oslo_messaging_rabbit]); "
    + 'several --config-file options are read in order, later files winning, then the environment variable shown with each option, '
    + 'then the command line (--set section.option=value and the flags above). Defaults are Neutron 21\'s. An option the agent does not '
    + 'know is warned about at start and ignored; a value that does not parse stops the agent, naming the option, file and line.'));
  for (const [section, opts] of Object.entries(OPTIONS) as Array<[string, Record<string, OptionSpec>]>) {
    out.push(`.SS [${esc(section)}]`);
    for (const [name, spec] of Object.entries(opts)) {
      const env = `OVS_AGENT_${section.toUpperCase()}_${name.toUpperCase()}`;
      out.push('.TP', `\\fB${esc(name)}\\fR`, esc(spec.help), '.br',
        esc(`Type: ${typeText(spec.type)}. Default: ${defaultText(section, name, spec)}.`), '.br',
        // \\: lets the few names longer than a line break after an underscore.
        `Environment: \\fI${env.replaceAll('_', '_\\:')}\\fR`);
    }
  }
  for (const h of [...sections.keys()].filter((x) => x !== 'SEE ALSO')) emit(h);
  out.push(...SERVICE);
  emit('SEE ALSO');
  return `${out.join('\n')}\n`;
}
