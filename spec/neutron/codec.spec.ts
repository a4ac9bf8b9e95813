/**
 * The pure parts of the Neutron control plane: transport_url, the oslo
 * envelope, OVO decoding, the resource cache's rules, device details, the
 * state report and l2pop payloads. The fixtures follow the shapes Neutron
 * 21.0.0 and oslo.messaging 14.0.3 send (docs/neutron.md, "The contract with
 * neutron-server"); the integration specs check the same code against the
 * real server.
 */
import { expect } from 'chai';
import { parseTransportUrl, redact } from '../../lib/control-plane/neutron/transport-url.js';
import { decodeBody, encodeReply, encodeRequest, parseFailure, readReply, readRequest, versionCompatible } from '../../lib/control-plane/neutron/envelope.js';
import { decodeResource, normalizeMac, type PortObject } from '../../lib/control-plane/neutron/ovo.js';
import { ResourceCache } from '../../lib/control-plane/neutron/resource-cache.js';
import { deviceLookup } from '../../lib/control-plane/neutron/port-details.js';
import { reportStateArgs, reportTime } from '../../lib/control-plane/neutron/state-report.js';
import { fdbChanges, fdbEntries } from '../../lib/control-plane/neutron/fdb-entries.js';
import { neutronOptionsFromConfig } from '../../lib/control-plane/neutron/options.js';
import { loadConfig } from '../../lib/config/index.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../lib/control-plane/neutron/logger.js';

const ovo = (name: string, data: Record<string, unknown>, version = '1.0') => ({
  'versioned_object.name': name,
  'versioned_object.namespace': 'versionedobjects',
  'versioned_object.version': version,
  'versioned_object.data': data,
});

function portPrimitive(over: Record<string, unknown> = {}, host = 'compute1') {
  return ovo(
    'Port',
    {
      id: 'p1',
      network_id: 'n1',
      mac_address: 'FA-16-3E-00-00-01',
      admin_state_up: true,
      device_id: 'vm1',
      device_owner: 'compute:nova',
      status: 'DOWN',
      fixed_ips: [ovo('IPAllocation', { port_id: 'p1', subnet_id: 's1', network_id: 'n1', ip_address: '10.0.0.5' })],
      allowed_address_pairs: [ovo('AllowedAddressPair', { mac_address: 'fa:16:3e:00:00:09', ip_address: '10.0.0.0/28' })],
      bindings: [ovo('PortBinding', { port_id: 'p1', host, profile: '{}', vif_type: 'ovs', vif_details: '{"port_filter": true}', vnic_type: 'normal', status: 'ACTIVE' })],
      binding_levels: [
        ovo('PortBindingLevel', {
          port_id: 'p1',
          host,
          level: 0,
          driver: 'openvswitch',
          segment_id: 'seg1',
          segment: ovo('NetworkSegment', { id: 'seg1', network_id: 'n1', network_type: 'vxlan', physical_network: null, segmentation_id: 1001 }),
        }),
      ],
      security: ovo('PortSecurity', { id: 'p1', port_security_enabled: true }),
      security_group_ids: ['sg1'],
      revision_number: 3,
      ...over,
    },
    '1.7',
  );
}

describe('Neutron control plane codecs', () => {
  describe('transport_url', () => {
    it('parses several hosts with their credentials and the vhost', () => {
      expect(parseTransportUrl('rabbit://u1:p%40ss@h1:5673,u1:p%40ss@[fd00::1]:5674/my%2Fvhost')).to.deep.equal({
        hosts: [
          { hostname: 'h1', port: 5673, username: 'u1', password: 'p@ss' },
          { hostname: 'fd00::1', port: 5674, username: 'u1', password: 'p@ss' },
        ],
        vhost: 'my/vhost',
        hasQuery: false,
        credentials: 'password',
      });
      // An "@" in a password may be left unencoded (the last one ends the credentials); an invalid escape stays as written.
      expect(parseTransportUrl('rabbit://u:p@ss:50%off@h/').hosts[0]).to.include({ hostname: 'h', password: 'p@ss:50%off' });
    });

    it('applies the driver defaults', () => {
      expect(parseTransportUrl('rabbit://')).to.deep.equal({ hosts: [{ hostname: 'localhost', port: 5672, username: 'guest', password: 'guest' }], vhost: '/', hasQuery: false, credentials: 'none' });
      expect(parseTransportUrl('rabbit://h/').hosts[0]).to.deep.equal({ hostname: 'h', port: 5672, username: 'guest', password: 'guest' });
    });

    it('rejects what it cannot use, saying what, never showing the password', () => {
      const message = (url: string) => {
        try {
          parseTransportUrl(url);
        } catch (e) {
          return (e as Error).message;
        }
        throw new Error(`${url} parsed`);
      };
      expect(message('kafka://h:9092/')).to.match(/driver "kafka" is not supported/);
      expect(message('rabbit://u:secret@h:99999/')).to.match(/its host: the port is out of range/).and.not.to.include('secret');
      expect(message('no url')).to.match(/is not a URL/).and.not.to.include('no url');
      // The cases that leaked: a "#" or "/" showed the whole URL, "?" and "@" part of the password.
      for (const [url, why] of [
        ['rabbit://u:Zq9x#Wv4k@h/', /has a "#"/],
        ['rabbit://u:Zq9x/Wv4k@h/', /has an "@" after its host part/],
        ['rabbit://u:Zq9x?Wv4k@h/', /has an "@" after its host part/],
        ['rabbit://u:Zq9x,Wv4k@h/', /to some hosts and not to others/],
        ['rabbit://u:Zq9xWv4k@h1,u:Ty6j@h2/', /different credentials/],
        ['rabbit://u:Zq9x/', /the port is not a number/],
      ] as const) {
        const m = message(url);
        expect(m, url).to.match(why).and.to.match(/percent-encoded/);
        for (const piece of ['Zq9x', 'Wv4k', 'Ty6j']) expect(m, url).not.to.include(piece);
      }
      expect(redact('rabbit://u:Zq9x@h1,u:Zq9x@h2/')).to.equal('rabbit://***@h1:5672,***@h2:5672/');
      expect(redact('rabbit://u:Zq9x#Wv4k@h/')).to.match(/does not parse/).and.not.to.match(/Zq9x|Wv4k/);
    });
  });

  describe('oslo envelope', () => {
    it('wraps a call as a JSON string inside the 2.0 envelope, with the admin context flattened', () => {
      const body = encodeRequest({ method: 'tunnel_sync', args: { tunnel_ip: '10.0.0.1' }, version: '1.4', msgId: 'abc', replyQueue: 'reply_x' });
      const outer = JSON.parse(body.toString()) as Record<string, unknown>;
      expect(Object.keys(outer)).to.deep.equal(['oslo.version', 'oslo.message']);
      expect(outer['oslo.version']).to.equal('2.0');
      expect(outer['oslo.message']).to.be.a('string');
      const inner = JSON.parse(outer['oslo.message'] as string) as Record<string, unknown>;
      expect(inner).to.include({ method: 'tunnel_sync', version: '1.4', _msg_id: 'abc', _reply_q: 'reply_x', _timeout: null, _context_is_admin: true });
      expect(inner._unique_id).to.match(/^[0-9a-f]{32}$/);
      expect(inner._context_user_identity).to.equal('- - - - -');
      expect(inner._context_timestamp).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
      const req = readRequest(decodeBody(body));
      expect(req).to.include({ method: 'tunnel_sync', version: '1.4', msgId: 'abc', replyQueue: 'reply_x', namespace: null });
      expect(req.context.is_admin).to.equal(true);
    });

    it('sends casts without reply fields', () => {
      const inner = decodeBody(encodeRequest({ method: 'm', args: {} }));
      expect(inner).to.not.have.any.keys('_msg_id', '_reply_q', '_timeout', 'version');
      expect(readRequest(inner).version).to.equal('1.0');
    });

    it('decodes replies, with failure as a JSON string, and encodes ours the same way', () => {
      const failure = JSON.stringify({ class: 'PortNotFound', module: 'neutron_lib.exceptions', message: 'Port x could not be found.', tb: ['a', 'b'], args: [], kwargs: {} });
      const reply = readReply(decodeBody(Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify({ result: null, failure, ending: true, _msg_id: 'm1' }) }))));
      expect(reply).to.deep.equal({
        msgId: 'm1',
        result: null,
        ending: true,
        failure: { className: 'PortNotFound', module: 'neutron_lib.exceptions', message: 'Port x could not be found.', traceback: ['a', 'b'] },
      });
      const ours = readReply(decodeBody(encodeReply('m2', { ok: 1 }, null)));
      expect(ours).to.deep.equal({ msgId: 'm2', result: { ok: 1 }, failure: null, ending: true });
      expect(parseFailure('not json').message).to.equal('not json');
    });

    it('takes a body without envelope as the message itself, and rejects what is not a message with a clear error', () => {
      expect(readRequest(decodeBody(Buffer.from('{"method":"m","args":{"a":1}}'))).args).to.deep.equal({ a: 1 });
      expect(() => decodeBody(Buffer.from('garbage'))).to.throw(/body is not JSON/);
      expect(() => decodeBody(Buffer.from('[1]'))).to.throw(/not an object/);
      expect(() => decodeBody(Buffer.from('{"oslo.version":"3.0","oslo.message":"{}"}'))).to.throw(/unsupported envelope oslo.version "3.0"/);
      expect(() => decodeBody(Buffer.from('{"oslo.version":"2.0","oslo.message":"{bad"}'))).to.throw(/oslo.message is not JSON/);
      expect(() => readRequest({ args: {} })).to.throw(/no method/);
      expect(() => readRequest({ method: 'm', args: [] })).to.throw(/args is array/);
    });

    it('matches versions as oslo: same major, minor at most the endpoint one', () => {
      expect(versionCompatible('1.7', '1.0')).to.equal(true);
      expect(versionCompatible('1.7', '1.7')).to.equal(true);
      expect(versionCompatible('1.7', '1.8')).to.equal(false);
      expect(versionCompatible('1.7', '2.0')).to.equal(false);
      expect(versionCompatible('1.10', '1.9')).to.equal(true);
    });
  });

  describe('OVO decoding and device details', () => {
    it('keeps what the agent needs of a Port 1.7 primitive', () => {
      const p = decodeResource(portPrimitive()) as PortObject;
      expect(p).to.deep.include({
        id: 'p1',
        networkId: 'n1',
        macAddress: 'fa:16:3e:00:00:01',
        adminStateUp: true,
        securityGroupIds: ['sg1'],
        portSecurityEnabled: true,
        revision: 3,
        segment: { networkType: 'vxlan', segmentationId: 1001, physicalNetwork: undefined },
      });
      expect(p.allowedAddressPairs).to.deep.equal([{ macAddress: 'fa:16:3e:00:00:09', ipAddress: '10.0.0.0/28' }]);
      expect(p.bindings[0]).to.deep.equal({ host: 'compute1', status: 'ACTIVE', profile: {}, vifType: 'ovs', vnicType: 'normal' });
      expect(normalizeMac('fa16.3e00.0001')).to.equal('fa:16:3e:00:00:01');
    });

    it('answers bound, unknown and no_active_binding as CacheBackedPluginApi does', () => {
      const p = decodeResource(portPrimitive()) as PortObject;
      const net = { kind: 'Network' as const, id: 'n1', revision: 1, mtu: 1450, adminStateUp: true };
      const lookup = deviceLookup('p1', p, net, 'compute1');
      expect(lookup.kind).to.equal('bound');
      expect(lookup.kind === 'bound' && lookup.details).to.deep.include({ networkType: 'vxlan', segmentationId: 1001, mtu: 1450, deviceId: 'vm1' });
      expect(deviceLookup('p1', p, net, 'compute2')).to.deep.equal({ kind: 'no_active_binding', device: 'p1' });
      // Not a compute port: the binding host is not checked (Neutron does not either).
      const router = decodeResource(portPrimitive({ device_owner: 'network:router_interface' })) as PortObject;
      expect(deviceLookup('p1', router, net, 'compute2').kind).to.equal('bound');
      const unbound = decodeResource(portPrimitive({ binding_levels: [] })) as PortObject;
      expect(deviceLookup('p1', unbound, net, 'compute1')).to.deep.equal({ kind: 'unknown', device: 'p1' });
      expect(deviceLookup('p9', undefined, undefined, 'compute1')).to.deep.equal({ kind: 'unknown', device: 'p9' });
      // Migrating: the source host keeps the port.
      const migrating = decodeResource(
        portPrimitive({
          bindings: [ovo('PortBinding', { host: 'compute1', profile: '{"migrating_to": "compute2"}', vif_type: 'ovs', vnic_type: 'normal', status: 'ACTIVE' })],
        }),
      ) as PortObject;
      expect(deviceLookup('p1', migrating, net, 'compute2').kind).to.equal('bound');
    });

    it('names the object and field of a bad primitive', () => {
      expect(() => decodeResource(portPrimitive({ network_id: 5 }))).to.throw(/Port p1 network_id: expected a string/);
      expect(() => decodeResource({ foo: 1 })).to.throw(/not a versioned object/);
    });
  });

  describe('resource cache', () => {
    const sgPrimitive = (rev: number, rules: unknown[]) => ovo('SecurityGroup', { id: 'sg1', stateful: true, revision_number: rev, rules }, '1.5');
    const rulePrimitive = (id: string, rev = 1) =>
      ovo('SecurityGroupRule', { id, security_group_id: 'sg1', direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '10.0.0.0/8', normalized_cidr: '10.0.0.0/8', revision_number: rev }, '1.2');

    it('ignores older revisions, treats deletes as final, and reports only real changes', () => {
      const cache = new ResourceCache(async () => [], silentLogger);
      expect(cache.applyPush([portPrimitive({ revision_number: 5 })], 'updated').map((c) => c.id)).to.deep.equal(['p1']);
      expect(cache.applyPush([portPrimitive({ revision_number: 4, admin_state_up: false })], 'updated')).to.deep.equal([]);
      expect(cache.peek('Port', 'p1')!.adminStateUp).to.equal(true);
      // Same content, newer revision: stored, no change.
      expect(cache.applyPush([portPrimitive({ revision_number: 6 })], 'updated')).to.deep.equal([]);
      expect(cache.peek('Port', 'p1')!.revision).to.equal(6);
      expect(cache.applyPush([ovo('Port', { id: 'p1' })], 'deleted').map((c) => [c.id, c.new])).to.deep.equal([['p1', undefined]]);
      expect(cache.applyPush([portPrimitive({ revision_number: 9 })], 'updated')).to.deep.equal([]);
      expect(cache.peek('Port', 'p1')).to.equal(undefined);
    });

    it('records the rules inside a pushed security group, and deletes them with it', () => {
      const cache = new ResourceCache(async () => [], silentLogger);
      const changes = cache.applyPush([sgPrimitive(1, [rulePrimitive('r1'), rulePrimitive('r2')])], 'updated');
      expect(changes.map((c) => `${c.type}:${c.id}`)).to.deep.equal(['SecurityGroup:sg1', 'SecurityGroupRule:r1', 'SecurityGroupRule:r2']);
      expect(cache.peek('SecurityGroupRule', 'r1')).to.include({ remoteIpPrefix: '10.0.0.0/8', protocol: 'tcp', portRangeMin: 22 });
      const deleted = cache.applyPush([ovo('SecurityGroup', { id: 'sg1' })], 'deleted');
      expect(deleted.map((c) => `${c.type}:${c.id}`)).to.deep.equal(['SecurityGroup:sg1', 'SecurityGroupRule:r1', 'SecurityGroupRule:r2']);
      expect(cache.size('SecurityGroupRule')).to.equal(0);
    });

    it('pulls the misses of a lookup in one bulk_pull, asks each query once, and lookups of one turn together', async () => {
      const pulls: Array<Record<string, string[]>> = [];
      const cache = new ResourceCache(async (type, filter) => {
        pulls.push(filter);
        return type === 'Port' && filter.id?.includes('p1') ? [portPrimitive()] : [];
      }, silentLogger);
      const found = await cache.getMany('Port', ['p1', 'p2', 'p1']);
      expect([...found.keys()]).to.deep.equal(['p1']);
      expect(pulls).to.deep.equal([{ id: ['p1', 'p2'] }]);
      await cache.getMany('Port', ['p1', 'p2']);
      expect(pulls.length, 'p1 cached, p2 already asked').to.equal(1);
      await Promise.all([cache.getMany('Port', ['p3']), cache.getMany('Port', ['p3', 'p4']), cache.getMany('Port', ['p5'])]);
      expect(pulls.slice(1), 'lookups of one turn share one pull').to.deep.equal([{ id: ['p3', 'p4', 'p5'] }]);
    });

    it('after markStale serves what it has at once and asks again in the background, reporting what changed or went', async () => {
      const pulls: Array<Record<string, string[]>> = [];
      let server: { ports: unknown[]; rules: unknown[] } = {
        ports: [portPrimitive(), portPrimitive({ id: 'p2', security_group_ids: ['sg1'] })],
        rules: [rulePrimitive('r1')],
      };
      const reported: string[] = [];
      const cache = new ResourceCache(async (type, filter) => {
        pulls.push(filter);
        const pool = type === 'Port' ? server.ports : server.rules;
        return pool.filter((o) => {
          const d = (o as { 'versioned_object.data': Record<string, unknown> })['versioned_object.data'];
          if (filter.id) return filter.id.includes(String(d.id));
          if (filter.security_group_id) return filter.security_group_id.includes(String(d.security_group_id));
          return (d.security_group_ids as string[]).some((g) => filter.security_group_ids.includes(g));
        });
      }, silentLogger, (changes) => reported.push(...changes.map((c) => `${c.type}:${c.id}:${c.old ? 'old' : '-'}>${c.new ? 'new' : '-'}`)));
      const members = () => cache.find('Port', 'security_group_ids', ['sg1'], (p, v) => p.securityGroupIds.includes(v));
      const rules = () => cache.find('SecurityGroupRule', 'security_group_id', ['sg1'], (r, v) => r.securityGroupId === v);
      await cache.getMany('Port', ['p1']);
      expect((await members()).map((p) => p.id)).to.deep.equal(['p1', 'p2']);
      expect((await rules()).map((r) => r.id)).to.deep.equal(['r1']);
      expect(pulls.length).to.equal(3);

      // While we were away: p1 went admin down, p2 was deleted, a rule was added.
      server = { ports: [portPrimitive({ revision_number: 4, admin_state_up: false })], rules: [rulePrimitive('r1'), rulePrimitive('r2')] };
      cache.markStale();
      const served = await cache.getMany('Port', ['p1']);
      expect(served.get('p1')!.adminStateUp, 'served stale at once').to.equal(true);
      expect(cache.answered('Port', 'security_group_ids', 'sg1')).to.equal(true);
      expect((await members()).map((p) => p.id), 'served stale at once').to.deep.equal(['p1', 'p2']);
      await rules();
      await new Promise((r) => setTimeout(r, 20));
      expect(pulls.slice(3), 'asked again, in one pull per type and field').to.deep.equal([
        { id: ['p1'] }, { security_group_ids: ['sg1'] }, { security_group_id: ['sg1'] }, { id: ['p2'] },
      ]);
      expect(cache.peek('Port', 'p1')!.adminStateUp).to.equal(false);
      expect(cache.peek('Port', 'p2'), 'gone from the server').to.equal(undefined);
      expect(reported.sort()).to.deep.equal(['Port:p1:old>new', 'Port:p2:old>-', 'SecurityGroupRule:r2:->new']);
      // Fresh again: no more pulls.
      await cache.getMany('Port', ['p1']);
      await members();
      await rules();
      await new Promise((r) => setTimeout(r, 20));
      expect(pulls.length).to.equal(7);
    });

    it('tells about an object a pull replaced with other content, not about one it added', async () => {
      // The server pushes a port unbound (rev 1), the agent wires it dead; a pull made for something else
      // (the security group warm-up) then brings the bound rev 2, and the push of rev 2 comes after it.
      const pulled: string[] = [];
      let serverRev = 2;
      const cache = new ResourceCache(
        async (_type, filter) => (filter.id ? [portPrimitive({ revision_number: 1, id: 'p9' })] : [portPrimitive({ revision_number: serverRev, admin_state_up: serverRev !== 2 })]),
        silentLogger,
        (changes) => pulled.push(...changes.map((c) => `${c.id}:${(c.old as { revision: number }).revision}->${(c.new as { revision: number }).revision}`)),
      );
      expect(cache.applyPush([portPrimitive({ revision_number: 1 })], 'updated').map((c) => c.id)).to.deep.equal(['p1']);
      await cache.find('Port', 'security_group_ids', ['sg1'], () => true);
      expect(pulled, 'the pull replaced rev 1').to.deep.equal(['p1:1->2']);
      expect(cache.peek('Port', 'p1')!.adminStateUp).to.equal(false);
      expect(cache.applyPush([portPrimitive({ revision_number: 2, admin_state_up: false })], 'updated'), 'the push then brings nothing new').to.deep.equal([]);
      // A pull that adds an object the agent asked for, or brings the same content again, tells nothing.
      await cache.getMany('Port', ['p9']);
      serverRev = 3;
      await cache.find('Port', 'security_group_ids', ['sg2'], () => true);
      expect(pulled).to.deep.equal(['p1:1->2', 'p1:2->3']);
      serverRev = 4;
      const before = pulled.length;
      await cache.find('Port', 'security_group_ids', ['sg3'], () => true);
      expect(pulled.length, 'rev 4 has rev 3\'s content').to.equal(before);
    });

    it('keeps a pull answered across markStale as stale: served, and asked again when next used', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let calls = 0;
      const cache = new ResourceCache(async () => {
        calls++;
        if (calls === 1) await gate;
        return [portPrimitive({ revision_number: calls })];
      }, silentLogger);
      const pending = cache.getMany('Port', ['p1']);
      await new Promise((r) => setTimeout(r, 10));
      cache.markStale();
      release();
      const found = await pending;
      expect(found.get('p1')!.revision).to.equal(1);
      expect(calls).to.equal(1);
      await cache.getMany('Port', ['p1']);
      await new Promise((r) => setTimeout(r, 10));
      expect(calls).to.equal(2);
      expect(cache.peek('Port', 'p1')!.revision).to.equal(2);
    });
  });

  describe('state report and l2pop payloads', () => {
    it('builds report_state kwargs as the 21.0.0 agent (double nesting, time format, resource_versions once)', () => {
      const args = reportStateArgs(
        { host: 'h1', agentId: 'ovs-agent-h1', binary: 'neutron-openvswitch-agent' },
        { startFlag: true, configurations: { tunnel_types: ['vxlan'] }, devices: 3 },
        true,
        new Date('2026-01-02T03:04:05.678Z'),
      );
      expect(args.time).to.equal('2026-01-02T03:04:05.678000');
      const state = (args.agent_state as { agent_state: Record<string, unknown> }).agent_state;
      expect(state).to.include({ binary: 'neutron-openvswitch-agent', host: 'h1', topic: 'N/A', agent_type: 'Open vSwitch agent', start_flag: true });
      expect(state.configurations).to.deep.equal({ tunnel_types: ['vxlan'], devices: 3, in_distributed_mode: false });
      expect(state.resource_versions).to.include({ Port: '1.7', Network: '1.1', SecurityGroup: '1.5', SecurityGroupRule: '1.2', AddressGroup: '1.2' });
      expect(state.uuid).to.match(/^[0-9a-f-]{36}$/);
      const later = (reportStateArgs({ host: 'h1', agentId: 'a', binary: '' }, { startFlag: false, configurations: {}, devices: 0 }, false).agent_state as { agent_state: Record<string, unknown> }).agent_state;
      expect(later).to.not.have.any.keys('resource_versions', 'start_flag');
      expect(reportTime(new Date('2026-01-02T03:04:05.000Z'))).to.equal('2026-01-02T03:04:05.000000');
    });

    it('reads fdb entries and ip changes, rejecting malformed ones', () => {
      expect(fdbEntries({ n1: { segment_id: 1001, network_type: 'vxlan', ports: { '10.0.0.2': [['00:00:00:00:00:00', '0.0.0.0'], ['fa:16:3e:00:00:02', '10.1.0.2']] } } })).to.deep.equal({
        n1: { segmentId: 1001, networkType: 'vxlan', ports: { '10.0.0.2': [['00:00:00:00:00:00', '0.0.0.0'], ['fa:16:3e:00:00:02', '10.1.0.2']] } },
      });
      expect(fdbChanges({ chg_ip: { n1: { '10.0.0.2': { before: [['m', '1.1.1.1']], after: [['m', '1.1.1.2']] } } } })).to.deep.equal({
        n1: { '10.0.0.2': { before: [['m', '1.1.1.1']], after: [['m', '1.1.1.2']] } },
      });
      expect(() => fdbEntries({ n1: { segment_id: 1, ports: { ip: [['only-mac']] } } })).to.throw(/bad \[mac, ip\] entry/);
      expect(() => fdbChanges({})).to.throw(/without chg_ip/);
    });
  });

  describe('options from the agent\'s configuration (the one mapping)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ovs-agent-cp-options-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, 'not read here\n');
    const load = (lines: string[]) => {
      const file = join(dir, 'agent.ini');
      writeFileSync(file, lines.join('\n'));
      return loadConfig({ files: [file], env: {} });
    };
    const capture = () => {
      const warnings: string[] = [];
      return { warnings, logger: { debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error: (m: string) => void warnings.push(m) } };
    };

    it('maps [DEFAULT], [agent] and [oslo_messaging_rabbit], deprecated names included, as oslo.messaging 14 reads them', () => {
      const { config, warnings: loadWarnings } = load([
        '[DEFAULT]', 'transport_url = rabbit://a:b@h1:5672,a:b@h2:5672/nova', 'rpc_response_timeout = 30', 'rabbit_ha_queues = true',
        '[agent]', 'report_interval = 10', 'l2_population = True',
        '[oslo_messaging_rabbit]', 'rabbit_use_ssl = true', `kombu_ssl_ca_certs = ${ca}`, 'ssl_enforce_hostname_verification = true',
        'heartbeat_timeout_threshold = 20', 'rabbit_quorum_delivery_limit = 3', 'rabbit_quroum_max_memory_length = 7',
      ]);
      expect(loadWarnings.filter((w) => w.includes('unknown')), 'nothing unknown').to.deep.equal([]);
      // rabbit_ha_queues in [DEFAULT], rabbit_use_ssl, kombu_ssl_ca_certs; "quroum" is oslo.messaging 14's own spelling, not a deprecated one.
      expect(loadWarnings.filter((w) => w.includes('deprecated')).length).to.equal(3);
      const { logger, warnings } = capture();
      const o = neutronOptionsFromConfig(config, logger);
      expect(warnings).to.deep.equal([]);
      expect(o).to.deep.include({ transportUrl: 'rabbit://a:b@h1:5672,a:b@h2:5672/nova', rpcResponseTimeout: 30, reportInterval: 10, l2Population: true });
      expect(o.rabbit?.tls).to.deep.equal({ ca: { file: ca }, verifyHostname: true, certFile: undefined, keyFile: undefined, version: undefined });
      expect(o.rabbit).to.deep.include({ heartbeatTimeoutThreshold: 20 });
      expect(o.rabbit?.topics).to.deep.include({ haQueues: true, quorumDeliveryLimit: 3, quorumMaxMemoryLength: 7, durableQueues: false });
    });

    it('decides what TLS verifies as oslo.messaging 14 does, and refuses what it cannot honour', () => {
      const tls = (lines: string[], env: NodeJS.ProcessEnv = { SSL_CERT_FILE: ca }) => {
        const { logger, warnings } = capture();
        const o = neutronOptionsFromConfig(load(['[oslo_messaging_rabbit]', ...lines]).config, logger, env);
        return { tls: o.rabbit?.tls, warnings };
      };
      expect(tls([]).tls, 'ssl off').to.equal(undefined);
      expect(tls([`ssl_ca_file = ${ca}`]).warnings[0]).to.match(/ssl_ca_file ignored: ssl is false/);
      expect(tls(['ssl = true']).tls, 'no CA file: the system store, no host name').to.deep.include({ ca: { file: ca }, verifyHostname: false });
      expect(tls(['ssl = true', 'ssl_enforce_hostname_verification = true'])).to.deep.include({ tls: { ca: { file: ca }, verifyHostname: false, certFile: undefined, keyFile: undefined, version: undefined } });
      expect(tls(['ssl = true', 'ssl_enforce_hostname_verification = true']).warnings[0]).to.match(/no effect without ssl_ca_file/);
      expect(tls(['ssl = true', `ssl_ca_file = ${ca}`]).tls).to.deep.include({ ca: { file: ca }, verifyHostname: false });
      const pinned = tls(['ssl = true', 'kombu_ssl_version = TLSv1_2']);
      expect(pinned.tls, 'a pinned version without CA verifies nothing').to.deep.include({ ca: undefined, version: 'TLSv1.2' });
      expect(pinned.warnings[0]).to.match(/not verified/);
      expect(tls(['ssl = true', 'ssl_version = SSLv23', `ssl_ca_file = ${ca}`]).tls).to.deep.include({ ca: { file: ca }, version: undefined });
      expect(() => tls(['ssl = true', 'ssl_version = SSLv3'])).to.throw(/ssl_version = "SSLv3" is not a TLS version/);
      expect(() => tls(['ssl = true', 'ssl_enforce_fips_mode = true'])).to.throw(/ssl_enforce_fips_mode = true is not supported/);
      expect(() => tls(['ssl = true', `ssl_ca_file = ${join(dir, 'missing.pem')}`])).to.throw(/ssl_ca_file = .*missing.pem: cannot be read \(ENOENT\)/);
      // Both names in one file: the option's own name wins, as in oslo.config.
      const both = load(['[oslo_messaging_rabbit]', 'ssl_ca_file = /own', 'kombu_ssl_ca_certs = /old']);
      expect(both.config.oslo_messaging_rabbit.ssl_ca_file).to.equal('/own');
      expect(both.warnings.some((w) => w.includes('kombu_ssl_ca_certs') && w.includes('ignored'))).to.equal(true);
    });
  });
});
