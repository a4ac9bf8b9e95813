/**
 * Bad input: a FlowSyntaxError with a stable code, the offending token and
 * its 1-based column, for each kind of mistake; nothing else is ever thrown.
 */
import { expect } from 'chai';
import { OpenFlowBaseError } from '@ovs-agent/openflow';
import { FlowSyntaxError, parseDumpFlows, parseFlow, parseFlowFile, parseMatch, type FlowSyntaxErrorCode } from '@ovs-agent/openflow';
import type { FlowModCommand } from '@ovs-agent/openflow';

interface Case {
  text: string;
  code: FlowSyntaxErrorCode;
  token: string;
  command?: FlowModCommand;
}

// `token` must appear in `text` exactly where the column says.
const CASES: Case[] = [
  { text: 'tp_dst=80,actions=drop', code: 'OFTEXT_PREREQ', token: 'tp_dst' },
  { text: 'ip,tcp_dst=80,actions=drop', code: 'OFTEXT_PREREQ', token: 'tcp_dst' },
  { text: 'udp,tcp_src=80,actions=drop', code: 'OFTEXT_PREREQ', token: 'tcp_src' },
  { text: 'nw_src=10.0.0.1,actions=drop', code: 'OFTEXT_PREREQ', token: 'nw_src' },
  { text: 'arp,ipv6_src=::1,actions=drop', code: 'OFTEXT_PREREQ', token: 'ipv6_src' },
  { text: 'tcp,icmp_type=8,actions=drop', code: 'OFTEXT_PREREQ', token: 'icmp_type' },
  { text: 'icmp6,icmp_type=134,nd_target=::1,actions=drop', code: 'OFTEXT_PREREQ', token: 'nd_target' },
  { text: 'icmp6,icmp_type=135,nd_tll=00:00:00:00:00:01,actions=drop', code: 'OFTEXT_PREREQ', token: 'nd_tll' },
  { text: 'ip,ct_nw_src=1.2.3.4,actions=drop', code: 'OFTEXT_PREREQ', token: 'ct_nw_src' },
  { text: 'ip,ct_state=+trk-inv,ct_tp_dst=80,actions=drop', code: 'OFTEXT_PREREQ', token: 'ct_tp_dst' },
  { text: 'mpls_label=5,actions=drop', code: 'OFTEXT_PREREQ', token: 'mpls_label' },
  { text: 'in_port=1,bogus=3,actions=drop', code: 'OFTEXT_UNKNOWN_KEYWORD', token: 'bogus' },
  { text: 'in_port=1,frobnicate,actions=drop', code: 'OFTEXT_UNKNOWN_KEYWORD', token: 'frobnicate' },
  { text: 'in_port=1,actions=output:2,frob:3', code: 'OFTEXT_UNKNOWN_ACTION', token: 'frob' },
  { text: 'ip,in_port=1,actions=output:2,ct(commit,zone=NXM_NX_REG6[0..15],exec(set_field:1->ct_mark),bogus)', code: 'OFTEXT_BAD_VALUE', token: 'bogus' },
  { text: 'in_port=1,actions=ct(commit)', code: 'OFTEXT_PREREQ', token: 'ct' },
  { text: 'ip,actions=ct(force)', code: 'OFTEXT_BAD_VALUE', token: 'force' },
  { text: 'actions=set_field:1->ct_mark', code: 'OFTEXT_BAD_VALUE', token: 'ct_mark' },
  { text: 'actions=output:ANY', code: 'OFTEXT_BAD_VALUE', token: 'ANY' },
  { text: 'actions=push_vlan:0x1234', code: 'OFTEXT_BAD_VALUE', token: '0x1234' },
  { text: 'in_port=1', code: 'OFTEXT_MISSING_ACTIONS', token: 'in_port=1' },
  { text: 'in_port=one,actions=drop', code: 'OFTEXT_BAD_VALUE', token: 'one' },
  { text: 'in_port=1,actions=output:patch-tun', code: 'OFTEXT_BAD_VALUE', token: 'patch-tun' },
  { text: 'in_port=1,actions=patch-tun', code: 'OFTEXT_UNKNOWN_ACTION', token: 'patch-tun' },
  { text: 'dl_src=fa:16:3e:00:00,actions=drop', code: 'OFTEXT_BAD_VALUE', token: 'fa:16:3e:00:00' },
  { text: 'ip,nw_dst=10.0.0.256,actions=drop', code: 'OFTEXT_BAD_VALUE', token: '10.0.0.256' },
  { text: 'ip,nw_dst=10.0.0.0/33,actions=drop', code: 'OFTEXT_BAD_MASK', token: '33' },
  { text: 'ipv6,ipv6_src=fe80:::1,actions=drop', code: 'OFTEXT_BAD_VALUE', token: 'fe80:::1' },
  { text: 'tcp,tp_dst=65536,actions=drop', code: 'OFTEXT_BAD_VALUE', token: '65536' },
  { text: 'reg0=0x1/0xz,actions=drop', code: 'OFTEXT_BAD_MASK', token: '0xz' },
  { text: 'ip,nw_proto=6/0xf,actions=drop', code: 'OFTEXT_BAD_MASK', token: '6/0xf' },
  { text: 'ip,nw_frag=2,actions=drop', code: 'OFTEXT_BAD_VALUE', token: '2' },
  { text: 'tcp=80,actions=drop', code: 'OFTEXT_SYNTAX', token: 'tcp' },
  { text: 'NXM_OF_ETH_SRC=fa:16:3e:00:00:01,actions=drop', code: 'OFTEXT_UNKNOWN_KEYWORD', token: 'NXM_OF_ETH_SRC' },
  { text: 'tun_erspan_ver=1,actions=drop', code: 'OFTEXT_UNSUPPORTED', token: 'tun_erspan_ver' },
  { text: 'ip,nw_tos=3,actions=drop', code: 'OFTEXT_BAD_VALUE', token: '3' },
  { text: 'ct_state=+trk-bogus,actions=drop', code: 'OFTEXT_BAD_VALUE', token: 'bogus' },
  { text: 'ct_state=+trk+trk,actions=drop', code: 'OFTEXT_BAD_VALUE', token: 'trk' },
  { text: 'tcp,tcp_flags=+syn-fyn,actions=drop', code: 'OFTEXT_BAD_VALUE', token: 'fyn' },
  { text: 'reg0[0..40]=1,actions=drop', code: 'OFTEXT_BAD_VALUE', token: 'reg0[0..40]' },
  { text: 'reg0[0..3]=0x1f,actions=drop', code: 'OFTEXT_BAD_VALUE', token: '0x1f' },
  { text: 'actions=load:0x1ffff->NXM_NX_REG0[0..15]', code: 'OFTEXT_BAD_VALUE', token: '0x1ffff' },
  { text: 'actions=move:NXM_NX_REG0[0..15]->NXM_NX_REG1[0..7]', code: 'OFTEXT_BAD_VALUE', token: 'NXM_NX_REG0[0..15]->NXM_NX_REG1[0..7]' },
  { text: 'actions=load:1->NXM_NX_REGX[]', code: 'OFTEXT_UNKNOWN_KEYWORD', token: 'NXM_NX_REGX' },
  { text: 'actions=set_field:1->nosuchfield', code: 'OFTEXT_BAD_VALUE', token: 'nosuchfield' },
  { text: 'actions=strip_vlan', code: 'OFTEXT_PREREQ', token: 'strip_vlan' },
  { text: 'actions=mod_tp_dst:80', code: 'OFTEXT_PREREQ', token: 'mod_tp_dst' },
  { text: 'actions=output:1,drop', code: 'OFTEXT_SYNTAX', token: 'drop' },
  { text: 'actions=goto_table:3,output:1', code: 'OFTEXT_SYNTAX', token: 'output' },
  { text: 'actions=write_actions(output:1),clear_actions', code: 'OFTEXT_SYNTAX', token: 'clear_actions' },
  { text: 'actions=resubmit(,5', code: 'OFTEXT_SYNTAX', token: 'resubmit(,5' },
  { text: 'actions=output:1)', code: 'OFTEXT_SYNTAX', token: ')' },
  { text: 'actions=conjunction(1,3/2)', code: 'OFTEXT_BAD_VALUE', token: '1,3/2' },
  { text: 'actions=resubmit(,256)', code: 'OFTEXT_BAD_VALUE', token: '256' },
  { text: 'ip,actions=ct(zone=NXM_NX_REG6[0..7])', code: 'OFTEXT_BAD_VALUE', token: 'NXM_NX_REG6[0..7]' },
  { text: 'actions=learn(table=1,limit=5)', code: 'OFTEXT_UNSUPPORTED', token: 'limit' },
  { text: 'actions=sample(probability=1)', code: 'OFTEXT_UNSUPPORTED', token: 'sample' },
  { text: 'actions=note:0g', code: 'OFTEXT_BAD_VALUE', token: '0g' },
  { text: 'priority=70000,actions=drop', code: 'OFTEXT_BAD_VALUE', token: '70000' },
  { text: 'priority,actions=drop', code: 'OFTEXT_SYNTAX', token: 'priority' },
  { text: 'table=300,actions=drop', code: 'OFTEXT_BAD_VALUE', token: '300' },
  { text: 'cookie=0x1/-1,actions=drop', code: 'OFTEXT_NOT_ALLOWED', token: '0x1/-1' },
  { text: 'cookie=0x1,in_port=1', code: 'OFTEXT_NOT_ALLOWED', token: '0x1', command: 'delete' },
  { text: 'send_flow_rem,in_port=1', code: 'OFTEXT_NOT_ALLOWED', token: 'send_flow_rem', command: 'delete' },
  { text: 'cookie=0x1/0xz,in_port=1', code: 'OFTEXT_BAD_VALUE', token: '0xz', command: 'delete' },
];

describe('openflow text: syntax errors', () => {
  for (const c of CASES) {
    it(`${c.code} for ${c.text}${c.command ? ` (${c.command})` : ''}`, () => {
      let caught: unknown;
      try {
        parseFlow(c.text, { command: c.command });
      } catch (e) {
        caught = e;
      }
      expect(caught, 'threw').to.be.instanceOf(FlowSyntaxError);
      expect(caught).to.be.instanceOf(OpenFlowBaseError);
      const e = caught as FlowSyntaxError;
      expect({ code: e.code, token: e.token }).to.deep.equal({ code: c.code, token: c.token });
      // The column points at the token in the text (the whole line for a missing `actions=`).
      if (c.code !== 'OFTEXT_MISSING_ACTIONS') expect(c.text.slice(e.column - 1, e.column - 1 + e.token.length)).to.equal(c.token);
      expect(e.message).to.include(`column ${e.column}`).and.include(c.token);
    });
  }

  it('names the column in the original text for a nested action', () => {
    const text = 'table=1,ip,actions=ct(commit,exec(set_field:0x1->ct_mark,set_field:1->nope))';
    try {
      parseFlow(text);
      expect.fail('no error');
    } catch (e) {
      expect((e as FlowSyntaxError).column).to.equal(text.indexOf('nope') + 1);
    }
  });

  it('names the line and the column in multi-line input', () => {
    const file = '# header\n\nadd in_port=1,actions=drop\ndelete   in_port=2,bogus=1\n';
    try {
      parseFlowFile(file);
      expect.fail('no error');
    } catch (e) {
      expect(e).to.be.instanceOf(FlowSyntaxError);
      expect((e as FlowSyntaxError).code).to.equal('OFTEXT_UNKNOWN_KEYWORD');
      expect((e as FlowSyntaxError).line).to.equal(4);
      expect((e as FlowSyntaxError).column).to.equal('delete   in_port=2,'.length + 1);
      expect((e as FlowSyntaxError).message).to.include('line 4, column 20');
    }
    const dump = 'OFPST_FLOW reply (OF1.3) (xid=0x2):\n cookie=0x0, duration=1s, table=0, n_packets=0, n_bytes=0, priority=0 actions=NORMAL\n cookie=0x0, duration=1s, table=0, n_packets=0, n_bytes=0, priority=1,tp_dst=5 actions=drop\n';
    expect(() => parseDumpFlows(dump)).to.throw(FlowSyntaxError).with.property('line', 3);
  });

  it('parseMatch refuses flow keywords', () => {
    expect(() => parseMatch('priority=1,in_port=1')).to.throw(FlowSyntaxError).with.property('code', 'OFTEXT_UNKNOWN_KEYWORD');
  });

  it('throws only FlowSyntaxError on random garbage (never a TypeError or RangeError)', () => {
    // A deterministic generator, so a failure is reproducible from the seed.
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pieces = ['in_port=', 'tcp', 'ip', ',', '=', '(', ')', '[', ']', '..', '->', 'actions=', 'output:', 'ct(', 'reg0',
      'NXM_NX_REG0[', '0x', '1', '/', ':', 'learn(', 'load:', 'set_field:', 'tp_dst=', 'ct_state=+', 'trk', '-', 'fa:16',
      '10.0.0.1', '::1', ' ', 'drop', 'resubmit(', 'move:', 'conjunction(', 'exec(', 'nat(', 'dl_vlan=', 'goto_table:'];
    for (let i = 0; i < 3000; i++) {
      let s = '';
      const n = 1 + rnd(12);
      for (let k = 0; k < n; k++) s += pieces[rnd(pieces.length)];
      try {
        parseFlow(s);
      } catch (e) {
        if (!(e instanceof FlowSyntaxError)) throw new Error(`${String(e)} for ${JSON.stringify(s)}`, { cause: e });
      }
    }
  });
});
