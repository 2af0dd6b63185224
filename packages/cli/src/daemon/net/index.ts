/** roamd's network (see network.ts) and the one libp2p node builder (node.ts). */
import '../../polyfill.js';

export { Network, type NetworkOptions, type NetPeer, type SyncSink } from './network.js';
export { buildNode, type NodeOptions } from './node.js';
export { deviceIdOf } from './peer-ids.js';
export { allErrors, notInGroup } from './errors.js';
export { AddressBook } from './address-book.js';
export { AddressGossip } from './address-gossip.js';
export { Reachability, type ReachState } from './dialback.js';
export { relayOf } from './relay.js';
