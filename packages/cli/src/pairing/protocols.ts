/** The membership gossip's protocol ids (a leaf module: the network's traffic counters name them too). */
export const MEMBERS_PROTOCOL = '/roam/members/2.0.0';
/** What an older roam speaks (gossip-legacy.ts answers it). */
export const LEGACY_MEMBERS_PROTOCOL = '/roam/members/1.0.0';
