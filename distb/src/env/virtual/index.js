export { VirtualNetwork, VirtualHost, Gateway, DEFAULT_LINK } from './network.js';
export { NAT_CLASSES, NatTable } from './nat.js';
export { Scheduler, StalledError } from './scheduler.js';
export { addressToText, textToAddress } from './address.js';
//# sourceMappingURL=index.js.map