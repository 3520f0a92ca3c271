export { VirtualNetwork, VirtualHost, Gateway, DEFAULT_LINK, type LinkSpec, type FirewallPolicy, type HostOptions, type GatewayOptions } from './network.js';
export { NAT_CLASSES, NatTable, type NatBehaviour, type NatClass, type Dependence } from './nat.js';
export { Scheduler, StalledError } from './scheduler.js';
export { addressToText, textToAddress } from './address.js';
