export { NftHybridFirewall, parseOwnTable, type NftApplyResult } from './nft-firewall.js';
export { buildNftRuleset, EGRESS_MARK, NFT_TABLE, type NftRuleset, type NftSet } from './ruleset.js';
export { renderTransaction } from './transaction.js';
export { coverAddresses, nftRule, remoteSetName } from './sg-rules.js';
