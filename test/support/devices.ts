// Devices on the virtual network for connection and call tests: behind a port-restricted NAT
// (and a firewall if asked), attached to the overlay, with the messenger, chat on it and a
// connector set up the way the CLI sets them up.
import assert from 'node:assert/strict';
import { AttachedClient } from '../../src/client/attachment.js';
import { HostCache } from '../../src/overlay/host-cache.js';
import { ChatClient } from '../../src/chat/chat-client.js';
import { Messenger } from '../../src/messenger/messenger.js';
import type { Relation } from '../../src/messenger/transport.js';
import { overlayTransport } from '../../src/client/overlay-transport.js';
import { Connector, type Connection } from '../../src/client/connector.js';
import type { FirewallPolicy, NatClass } from '../../src/env/virtual/index.js';
import type { overlayWorld } from './supernodes.js';

export type World = Awaited<ReturnType<typeof overlayWorld>>;

/** A device behind a port-restricted NAT (or `nat`; and `firewall`, if given), attached, with chat and a connector as the CLI sets them up. */
export async function device({ net, network, drive, supernodes }: World, user: string, buddies: string[], options: { firewall?: FirewallPolicy; bootstrap?: number; nat?: NatClass } = {}) {
  const gateway = network.addGateway({ nat: options.nat ?? 'port-restricted', link: { latencyMs: 5 }, ...(options.firewall ? { firewall: options.firewall } : {}) });
  const host = network.addHost({ behind: gateway, link: { latencyMs: 5 } });
  const identity = net.identity(user);
  const bootstrap = (options.bootstrap === undefined ? supernodes : supernodes.slice(options.bootstrap, options.bootstrap + 1)).map((s) => s.ref);
  const hostCache = new HostCache();
  const attached = new AttachedClient(host.env(), { identity, verifier: net.verifier, username: user, hostCache, bootstrap });
  await drive(attached.start());
  const messenger = new Messenger(host.env(), { identity, verifier: net.verifier, username: user, transport: overlayTransport(attached), relationOf: (other) => (buddies.includes(other) ? 'buddy' : 'stranger') });
  const chat = new ChatClient(host.env(), messenger);
  // Who the connector answers: buddies, unless a test (a call manager) says otherwise.
  const policy: { accept: (user: string, relation: Relation) => boolean } = { accept: (_user, relation) => relation === 'buddy' };
  const connector = new Connector(host.env(), messenger, async () => {
    const turn = await attached.turnCredentials();
    assert.ok(turn, 'the supernode runs TURN');
    const turnTcp = attached.supernodeEndpoint;
    return { server: turn.server, turn, ...(turnTcp ? { turnTcp } : {}) };
  }, (user, relation) => policy.accept(user, relation));
  const incoming: Connection[] = [];
  const refusals: string[] = [];
  connector.onConnection((c) => incoming.push(c));
  connector.onFailure((user, reason) => refusals.push(`${user}: ${reason}`));
  return { host, gateway, identity, attached, hostCache, messenger, chat, connector, policy, incoming, refusals };
}


/** Ends a test's world: the devices' chat, messenger and attachments, then the supernodes. */
export function shutDown(world: World, devices: readonly { chat: { close(): void }; messenger: { close(): void }; attached: { close(): void } }[]): void {
  for (const d of devices) {
    d.chat.close();
    d.messenger.close();
    d.attached.close();
  }
  for (const s of world.supernodes) s.running.close();
}
