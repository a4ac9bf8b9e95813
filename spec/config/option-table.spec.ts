/**
 * docs/configuration.md is generated from the option definitions
 * (scripts/option-table.ts): this fails while the file is stale.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { TABLE_PATH, optionTable } from '../../scripts/option-table.js';

describe('docs/configuration.md', () => {
  it('is what scripts/option-table.ts generates from lib/config (run it after changing an option)', () => {
    expect(readFileSync(TABLE_PATH, 'utf8') === optionTable(), 'docs/configuration.md is stale: node --import tsx scripts/option-table.ts').to.equal(true);
  });
});
