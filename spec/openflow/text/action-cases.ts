/**
 * Actions and instructions to try against ovs-ofctl: every action of
 * ovs-actions(7) (its syntax lines are read from the installed man page, and
 * the test checks each name there is tried here), each with valid arguments,
 * the edges of their ranges and malformed ones, in matches that meet and
 * that miss what the action needs (a VLAN tag, IP, TCP...); and set_field,
 * load and move on every field our table has.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { FIELDS } from '../../../protocol/openflow/text/fields.js';

/** Names of the actions and instructions ovs-actions(7) gives a syntax for. */
export function manActionNames(): string[] {
  const text = gunzipSync(readFileSync('/usr/share/man/man7/ovs-actions.7.gz')).toString('utf8')
    .replace(/\\f[BPI]/g, '').replace(/\\-/g, '-').replace(/\\&/g, '');
  const names = new Set<string>();
  let inSyntax = false;
  let inBlock = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('Syntax:')) inSyntax = true;
    else if (inSyntax && line === '.nf') inBlock = true;
    else if (inBlock && line === '.fi') inSyntax = inBlock = false;
    else if (inBlock) {
      const m = /^([a-z_0-9]+)/.exec(line);
      if (m && m[1] !== 'port') names.add(m[1]);
    }
  }
  return [...names];
}

export interface ActionCase {
  /** A whole flow. */
  flow: string;
  /**
   * `agree` with ovs-ofctl; `unsupported`: valid ovs-ofctl text the codec
   * does not model, refused as OFTEXT_UNSUPPORTED; `refuse`: text ovs-ofctl
   * reads as something other than what is written (a number it truncates or
   * wraps, `0x` read as 0, set_field to `dl_vlan` read as in_port), which we
   * refuse.
   */
  expect: 'agree' | 'unsupported' | 'refuse';
}

/** Text ovs-ofctl reads as something other than what is written. */
const MISREAD = ['group:4294967296', 'group:-1', 'set_queue:4294967296', 'dec_ttl(70000)', 'load:0x->NXM_NX_REG0[]', 'set_field:1->dl_vlan',
  'load:1->dl_vlan[0]'];

/** Actions, each with the match prefixes to try it in (the first one meets its needs). */
const ACTIONS: Array<[string[], string[]]> = [
  [['output:1', 'output:65279', 'output:65280', 'output:0', 'output:LOCAL', 'output:in_port', 'output:NORMAL', 'output:controller',
    'output:ANY', 'output:UNSET', 'output:4294967040', 'output:NXM_NX_REG0[0..15]', 'output:reg0[0..15]', 'output:reg0', 'output:NXM_NX_REG0[]',
    'output:reg0[0..7]', 'output:eth_src[0..15]', 'output:', 'output:tap0', '1', '65279', 'LOCAL', 'local', 'in_port', 'IN_PORT', 'NORMAL',
    'FLOOD', 'ALL', 'TABLE', 'ANY', 'output:0x5', 'output:1,output:2'], ['']],
  [['controller', 'CONTROLLER', 'controller:100', 'controller:0', 'controller:65535', 'controller:65536', 'controller(max_len=100)',
    'controller(reason=no_match)', 'controller(reason=invalid_ttl,max_len=5,id=2)', 'controller(id=5)', 'controller(userdata=01.02.03)',
    'controller(userdata=0102)', 'controller(userdata=1)', 'controller(pause)', 'controller(meter_id=5)', 'controller(meter_id=0)',
    'controller(reason=bogus)', 'controller(max_len=70000)', 'controller()', 'controller(reason=action)', 'controller(reason=packet_out)',
    'controller(bogus)'], ['']],
  [['group:1', 'group:4294967295', 'group:4294967040', 'group:0x5', 'group:-1', 'group:', 'group:4294967296'], ['']],
  [['set_queue:1', 'set_queue:4294967295', 'set_queue:4294967296', 'set_queue:0x10'], ['']],
  [['push_vlan:0x8100', 'push_vlan:0x88a8', 'push_vlan:33024', 'push_vlan:0x1234', 'push_vlan:0x8100,push_vlan:0x8100'], ['', 'dl_vlan=5']],
  [['pop_vlan', 'strip_vlan', 'pop_vlan,pop_vlan', 'push_vlan:0x8100,pop_vlan'], ['dl_vlan=5', '', 'vlan_tci=0x1000/0x1000', 'vlan_tci=0/0x1000']],
  [['mod_vlan_vid:5', 'mod_vlan_vid:4095', 'mod_vlan_vid:4096', 'mod_vlan_vid:0x1005', 'mod_vlan_vid:0', 'mod_vlan_pcp:3', 'mod_vlan_pcp:7',
    'mod_vlan_pcp:8', 'mod_vlan_vid:5,mod_vlan_pcp:3', 'strip_vlan,mod_vlan_vid:5'], ['', 'dl_vlan=5', 'vlan_tci=0/0x1000']],
  [['push_mpls:0x8847', 'push_mpls:0x8848', 'push_mpls:0x800', 'push_mpls:0x8847,set_mpls_label:5'], ['ip', '']],
  [['pop_mpls:0x0800', 'pop_mpls:0x86dd', 'pop_mpls:0x8847', 'set_mpls_label:5', 'set_mpls_label:1048576', 'set_mpls_tc:3', 'set_mpls_tc:8',
    'set_mpls_ttl:5', 'set_mpls_ttl:256', 'dec_mpls_ttl'], ['mpls', '', 'ip']],
  [['dec_ttl', 'dec_ttl(1)', 'dec_ttl(1,2,3)', 'dec_ttl()', 'dec_ttl(70000)', 'mod_nw_ttl:5', 'mod_nw_ttl:256', 'copy_ttl_in', 'copy_ttl_out'],
    ['ip', 'ipv6', '', 'mpls']],
  [['mod_dl_src:fa:16:3e:00:00:01', 'mod_dl_dst:01:00:00:00:00:00', 'mod_dl_src:fa:16:3e:00:00', 'mod_dl_src:'], ['']],
  [['mod_nw_src:10.0.0.1', 'mod_nw_dst:10.0.0.1', 'mod_nw_src:10.0.0.1/24', 'mod_nw_src:300.0.0.1'], ['ip', 'arp', '', 'ipv6']],
  [['mod_nw_tos:4', 'mod_nw_tos:3', 'mod_nw_tos:252', 'mod_nw_tos:256', 'mod_nw_ecn:1', 'mod_nw_ecn:3', 'mod_nw_ecn:4'], ['ip', 'ipv6', '', 'arp']],
  [['mod_tp_src:80', 'mod_tp_dst:80', 'mod_tp_dst:65535', 'mod_tp_dst:65536', 'mod_tp_dst:'], ['tcp', 'udp6', 'sctp', 'ip', '', 'icmp']],
  [['set_tunnel:0x5', 'set_tunnel:0xffffffff', 'set_tunnel:0x100000000', 'set_tunnel64:0x100000000', 'set_tunnel64:-1', 'set_tunnel:5'], ['']],
  [['load:1->NXM_NX_REG0[]', 'load:0x1ffff->NXM_NX_REG0[0..15]', 'load:0xffff->NXM_NX_REG0[0..15]', 'load:1->reg0', 'load:1->reg0[0]',
    'load:0xffffffffffffffffff->NXM_NX_XXREG0[0..71]', 'load:1->NXM_OF_ETH_SRC[]', 'load:1->NXM_OF_IN_PORT[]', 'load:1->in_port',
    'load:-1->NXM_NX_REG0[]', 'load:0x->NXM_NX_REG0[]', 'load:1->NXM_NX_REG0[32]', 'load:1->NXM_NX_BOGUS[]', 'load:5->vlan_tci[0..11]',
    'load:1->ct_mark', 'load:1->NXM_NX_TUN_ID[0..31]'], ['']],
  [['move:reg0->reg1', 'move:NXM_NX_REG0[0..15]->NXM_NX_REG1[16..31]', 'move:reg0[0..15]->reg1[0..7]', 'move:eth_src->eth_dst',
    'move:in_port->reg0[0..15]', 'move:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15]', 'move:tun_id->xreg0', 'move:reg0->ip_src', 'move:ip_src->reg0',
    'move:reg0', 'move:reg0->', 'move:NXM_NX_REG0[]->NXM_NX_REG0[]'], ['', 'ip']],
  [['resubmit:1', 'resubmit(,1)', 'resubmit(1,2)', 'resubmit(1,2,ct)', 'resubmit(,2,ct)', 'resubmit(,)', 'resubmit(,255)', 'resubmit(,256)',
    'resubmit(in_port,1)', 'resubmit:in_port', 'resubmit(1)', 'resubmit:LOCAL', 'resubmit(1,2,bogus)', 'resubmit:'], ['']],
  [['conjunction(1,1/2)', 'conjunction(1,2/2)', 'conjunction(1,3/2)', 'conjunction(1,1/1)', 'conjunction(1,1/64)', 'conjunction(1,1/65)',
    'conjunction(4294967295,1/2)', 'conjunction(1,1/2),conjunction(2,2/3)', 'conjunction(1, 1/2)', 'conjunction(1,0/2)'], ['']],
  [['note:', 'note:01', 'note:01.02.03', 'note:0102030405060708', 'note:1', 'note:zz', 'note:01.02.03.04.05.06.07.08.09.0a.0b.0c.0d.0e.0f'], ['']],
  [['ct', 'ct()', 'ct(commit)', 'ct(commit,force)', 'ct(force)', 'ct(table=5)', 'ct(table=255)', 'ct(zone=5)', 'ct(zone=65536)',
    'ct(zone=NXM_NX_REG0[0..15])', 'ct(zone=reg0[0..7])', 'ct(commit,exec(set_field:1->ct_mark))', 'ct(commit,exec(set_field:1->ct_label))',
    'ct(commit,exec(load:1->NXM_NX_CT_MARK[]))', 'ct(exec(set_field:1->ct_mark))', 'ct(commit,exec(set_field:1->reg0))',
    'ct(commit,alg=ftp)', 'ct(commit,alg=tftp)', 'ct(alg=ftp)', 'ct(commit,alg=http)', 'ct(nat)', 'ct(commit,nat(src=10.0.0.1))',
    'ct(commit,nat(src=10.0.0.1-10.0.0.2:100-200,random))', 'ct(commit,nat(dst=[fe80::1]:80))', 'ct(commit,nat(src=fe80::1-fe80::2))',
    'ct(commit,nat(src))', 'ct(commit,nat(src=10.0.0.1,hash,persistent))', 'ct(commit,nat(src=10.0.0.2-10.0.0.1))',
    'ct(commit,table=1,zone=2,nat(src=1.2.3.4),exec(set_field:1->ct_mark))', 'ct(commit,bogus)', 'ct_clear', 'ct(commit,nat(src=10.0.0.1:80))'],
  ['ip', 'ipv6', '']],
  [['push_pbb:0x88e7', 'pop_pbb', 'set_field:1->tun_flags', 'set_field:+oam->tun_flags', 'set_field:-oam->tun_flags', 'set_field:0x1/0x1->tun_flags',
    'set_field:0->tun_flags'], ['']],
  [['exit', 'clone(output:1)', 'clone(clone(output:1))', 'clone()', 'clone(drop)'], ['']],
  [['learn(table=1)', 'learn(table=1,priority=5,idle_timeout=10,hard_timeout=20,fin_idle_timeout=1,fin_hard_timeout=2,cookie=0x5)',
    'learn(table=255)', 'learn(table=1,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],output:OXM_OF_IN_PORT[])',
    'learn(table=1,eth_type=0x800,ip_src=10.0.0.1,load:NXM_NX_REG0[]->NXM_NX_REG1[])', 'learn(table=1,send_flow_rem,delete_learned)',
    'learn(table=1,in_port=1)', 'learn(table=1,reg0=5)', 'learn(table=1,NXM_NX_REG0[0..7]=0x1ff)', 'learn(table=1,limit=5)',
    'learn(table=1,result_dst=NXM_NX_REG0[0])', 'learn(table=1,bogus)', 'learn(table=1,dl_dst=fa:16:3e:00:00:01)'], ['']],
  [['multipath(eth_src,50,modulo_n,1,0,NXM_NX_REG0[0..15])', 'multipath(symmetric_l4,1024,iter_hash,5000,41,NXM_NX_REG0[0..12])',
    'multipath(eth_src,50,modulo_n,0,0,NXM_NX_REG0[0..15])', 'multipath(bogus,50,modulo_n,1,0,NXM_NX_REG0[0..15])',
    'multipath(eth_src,50,hrw,65536,0,NXM_NX_REG0[0..15])', 'multipath(nw_src,50,hash_threshold,2,0,reg0[0])'], ['']],
];

/** Instructions: each appears once, in the OpenFlow 1.1+ order. */
const INSTRUCTIONS = ['write_actions(output:1)', 'write_actions()', 'clear_actions', 'write_metadata:1', 'write_metadata:0x1/0x1',
  'write_metadata:-1', 'goto_table:1', 'goto_table:255', 'goto_table:254', 'meter:1', 'meter:0', 'output:1,goto_table:2',
  'goto_table:2,output:1', 'clear_actions,write_actions(output:1)', 'write_actions(output:1),clear_actions', 'write_actions(group:1,set_field:1->reg0)',
  'drop', 'output:1,drop', 'apply_actions(output:1)'];

/** Valid ovs-ofctl text the codec does not model. */
const UNSUPPORTED = ['learn(table=1,limit=5)', 'learn(table=1,result_dst=NXM_NX_REG0[0])', 'set_field:1->in_port', 'set_field:1->in_port_oxm',
  'load:1->OXM_OF_IN_PORT[0]', 'move:OXM_OF_IN_PORT[0]->NXM_NX_REG0[0]', 'move:NXM_NX_REG0[0]->OXM_OF_IN_PORT[0]',
  'move:ONFOXM_ET_ACTSET_OUTPUT[0]->NXM_NX_REG0[0]',
  'bundle(eth_src,0,hrw,ofport,members:4,8)', 'bundle_load(eth_src,0,hrw,ofport,NXM_NX_REG0[],members:4,8)',
  'check_pkt_larger(1500)->NXM_NX_REG0[0]', 'decap()', 'encap(ethernet)', 'delete_field:tun_metadata0', 'enqueue:1:2', 'enqueue(1,2)',
  'fin_timeout(idle_timeout=5)', 'pop:NXM_NX_REG0[]', 'push:NXM_NX_REG0[]', 'sample(probability=1,collector_set_id=1)', 'pop_queue',
  'output(port=1,max_len=100)', 'dec_nsh_ttl'];

/** A value per field format, for set_field on every field. */
const SET_VALUE: Record<string, string> = {
  decimal: '1', hex: '0x1', ethernet: 'fa:16:3e:00:00:01', ipv4: '10.0.0.1', ipv6: 'fe80::1', port: '1', ct_state: '+trk', tcp_flags: '+syn',
  tun_flags: '+oam', frag: 'first',
};

/** A match that meets a field's prerequisite, for set_field/load/move on it. */
const CONTEXT: Record<string, string> = {
  none: '', vlan: 'dl_vlan=5', ip_any: 'ip', ipv4: 'ip', ipv6: 'ipv6', arp: 'arp', mpls: 'mpls', tcp: 'tcp', udp: 'udp', sctp: 'sctp', l4: 'tcp',
  icmpv4: 'icmp', icmpv6: 'icmp6', icmp_any: 'icmp', nd: 'icmp6,icmp_type=135', nd_solicit: 'icmp6,icmp_type=135', nd_advert: 'icmp6,icmp_type=136',
  ipv4_arp: 'ip', ip_arp: 'ip', ct: 'ip,ct_state=+trk-inv', ct_ipv4: 'ip,ct_state=+trk-inv', ct_ipv6: 'ipv6,ct_state=+trk-inv',
  ct_l4: 'ip,ct_state=+trk-inv,ct_nw_proto=6',
};

export function actionCases(): ActionCase[] {
  const out: ActionCase[] = [];
  const flow = (ctx: string, actions: string) => `${ctx ? `${ctx},` : ''}actions=${actions}`;
  const expect = (a: string): ActionCase['expect'] => (MISREAD.includes(a) ? 'refuse' : UNSUPPORTED.includes(a) ? 'unsupported' : 'agree');
  for (const [actions, contexts] of ACTIONS) {
    for (const a of actions) out.push({ flow: flow(contexts[0], a), expect: expect(a) });
    for (const ctx of contexts.slice(1)) for (const a of actions.slice(0, 3)) out.push({ flow: flow(ctx, a), expect: expect(a) });
  }
  for (const a of MISREAD.filter((m) => !ACTIONS.some(([as]) => as.includes(m)))) out.push({ flow: flow('', a), expect: 'refuse' });
  for (const ins of INSTRUCTIONS) out.push({ flow: flow('', ins), expect: 'agree' });
  for (const a of UNSUPPORTED) out.push({ flow: flow('ip', a), expect: 'unsupported' });
  for (const f of FIELDS.values()) {
    const ctx = CONTEXT[f.prereq];
    const v = SET_VALUE[f.format];
    for (const a of [`set_field:${v}->${f.name}`, ...(f.maskable && (f.format === 'hex' || f.format === 'decimal') ? [`set_field:1/1->${f.name}`] : []),
      `load:1->${f.nxm}[0]`, `move:${f.nxm}[0]->NXM_NX_REG0[0]`, `move:NXM_NX_REG0[0]->${f.nxm}[0]`]) {
      out.push({ flow: flow(ctx, a), expect: expect(a) });
    }
  }
  return out;
}
