/**
 * What docs/ says of the metrics cannot drift from the registry
 * (lib/observe/metrics.ts): docs/operations.md's table is the generated one
 * (scripts/metrics-table.ts), and every metric the sample Grafana dashboard
 * (docs/grafana/ovs-agent.json) and the alert rules
 * (docs/prometheus/ovs-agent-alerts.yml) query exists, with its histogram
 * series; the rules pass Prometheus's own `promtool check rules`
 * (scripts/install-system-deps.sh installs it).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { metricsTable, OPERATIONS_PATH, registeredMetrics, withTable } from '../../scripts/metrics-table.js';

const DASHBOARD = fileURLToPath(new URL('../../docs/grafana/ovs-agent.json', import.meta.url));
const RULES = fileURLToPath(new URL('../../docs/prometheus/ovs-agent-alerts.yml', import.meta.url));

/** The series names a scrape exposes: histograms' _bucket, _sum and _count; `up` is Prometheus's own. */
function seriesNames(): Set<string> {
  const out = new Set(['up']);
  for (const m of registeredMetrics()) {
    if (m.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(m.name + s);
    else out.add(m.name);
  }
  return out;
}

/** The metric names a PromQL expression uses (ours, the process's and Prometheus's `up`). */
const namesIn = (expr: string): string[] => [...expr.matchAll(/\b((?:ovs_agent|process|nodejs)_[a-z0-9_]+|up)\b(?=\s*[{[)\s]|$)/g)].map((m) => m[1]);

describe('the metrics as docs/ describes them', () => {
  it('docs/operations.md holds the table generated from the registry (node --import tsx scripts/metrics-table.ts)', () => {
    const doc = readFileSync(OPERATIONS_PATH, 'utf8');
    expect(doc).to.equal(withTable(doc, metricsTable()));
    // Every metric of ours is in it, names as Prometheus wants them.
    for (const m of registeredMetrics().filter((x) => x.name.startsWith('ovs_agent_'))) {
      expect(doc).to.contain(`| \`${m.name}\` | ${m.type} |`);
      if (m.type === 'counter') expect(m.name, m.name).to.match(/_total$/);
      if (m.type === 'histogram') expect(m.name, m.name).to.match(/_seconds$/);
      expect(m.labelNames ?? [], m.name).not.to.include.members(['port', 'port_id', 'network', 'network_id', 'device']);
    }
  });

  it('the Grafana dashboard is valid JSON whose every query names metrics that exist', () => {
    const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { title: string; panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    expect(dash.title).to.equal('ovs-agent');
    const known = seriesNames();
    const used = new Set<string>();
    for (const p of dash.panels) {
      expect(p.targets.length, p.title).to.be.greaterThan(0);
      for (const t of p.targets) {
        const names = namesIn(t.expr);
        expect(names, `${p.title}: ${t.expr}`).to.have.length.greaterThan(0);
        for (const n of names) {
          expect(known.has(n), `${p.title}: ${n} is not a metric of the agent`).to.equal(true);
          used.add(n.replace(/_(bucket|sum|count)$/, ''));
        }
      }
    }
    // The dashboard shows what the issue asks for: wiring latency, passes, flows by group, bundles, RPCs, the cache, the process.
    expect([...used]).to.include.members(['ovs_agent_port_wiring_seconds', 'ovs_agent_pass_duration_seconds', 'ovs_agent_flows',
      'ovs_agent_bundle_commit_seconds', 'ovs_agent_rpc_calls_total', 'ovs_agent_resource_cache_objects', 'process_resident_memory_bytes']);
  });

  it('the alert rules pass promtool check rules and name only metrics that exist', async () => {
    const { stdout } = await promisify(execFile)('promtool', ['check', 'rules', RULES]).catch((err: Error) => {
      throw new Error(`promtool check rules ${RULES} failed (scripts/install-system-deps.sh installs Debian's prometheus package for promtool): ${err.message}`);
    });
    expect(stdout).to.contain('SUCCESS: 8 rules found');
    const exprs = [...readFileSync(RULES, 'utf8').matchAll(/^\s+expr: (.*)$/gm)].map((m) => m[1]);
    expect(exprs).to.have.length(8);
    const known = seriesNames();
    for (const e of exprs) {
      const names = namesIn(e);
      expect(names, e).to.have.length.greaterThan(0);
      for (const n of names) expect(known.has(n), `${n} (in ${e}) is not a metric of the agent`).to.equal(true);
    }
    const alerts = [...readFileSync(RULES, 'utf8').matchAll(/^\s+- alert: (\S+)$/gm)].map((m) => m[1]);
    expect(alerts).to.include.members(['OvsAgentDown', 'OvsAgentWiringLatencyP99', 'OvsAgentRpcTimeouts', 'OvsAgentFlowDrift']);
  });
});
