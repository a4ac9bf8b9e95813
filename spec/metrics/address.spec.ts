import { expect } from 'chai';
import { MetricsAddressError, parseMetricsAddress } from '../../lib/observe/address.js';

describe('[ovs_agent] metrics_address', () => {
  it('a port alone listens on loopback', () => {
    expect(parseMetricsAddress('9100')).to.deep.equal({ host: '127.0.0.1', port: 9100 });
    expect(parseMetricsAddress(':9100')).to.deep.equal({ host: '127.0.0.1', port: 9100 });
  });

  it('HOST:PORT and [IPV6]:PORT with HOST an IP address', () => {
    expect(parseMetricsAddress('0.0.0.0:9100')).to.deep.equal({ host: '0.0.0.0', port: 9100 });
    expect(parseMetricsAddress('[::1]:0')).to.deep.equal({ host: '::1', port: 0 });
  });

  it('anything else is refused with a reason', () => {
    for (const bad of ['', 'x', 'localhost:9100', '1.2.3:9100', '::1:9100', '[1.2.3.4]:9100', '9100:', '127.0.0.1:65536', '127.0.0.1:-1', '[::1]']) {
      expect(() => parseMetricsAddress(bad), bad).to.throw(MetricsAddressError, /is not a listen address/);
    }
  });
});
