import { expect } from 'chai';
import { nodeIsSupported } from '../../lib/node-version.js';

describe('the Node.js version check', () => {
  it('takes 20.19 and newer, refuses older ones and Debian 12\'s own 18', () => {
    for (const v of ['20.19.0', 'v20.19.2', '20.20.2', '21.0.0', '22.11.0', '24.1.0']) expect(nodeIsSupported(v), v).to.equal(true);
    for (const v of ['20.18.3', 'v20.0.0', '18.20.4', '18.19.0', '16.20.2']) expect(nodeIsSupported(v), v).to.equal(false);
  });
});
