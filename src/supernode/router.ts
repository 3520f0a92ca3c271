// Routing a signalling message to a user: the sender's supernode finds the user's devices in the
// overlay and, for each, asks the supernode the device is attached to (itself, or another over a
// supernode link) to deliver it. The device acknowledges; every device's outcome goes back to the
// sender, so nothing is lost silently.
//
// Who sent it (issue 19, item 12): the sender's name is what its own supernode authenticated
// (the device's certificate on its attached link). A supernode that forwards a message carries
// the sender's own presence record along: signed by the sender's device, for that name, and
// naming the forwarding supernode as the one the device is attached to. The receiving supernode
// delivers only when that holds, so a supernode certificate alone (promoted users' machines
// hold one) no longer lets anyone speak as any user; at most a supernode speaks for the
// devices that attached to it, while their records last (≤ MAX_PRESENCE_TTL_MS; devices refresh
// theirs every 75 s). Checked records are remembered by their bytes, so a conversation costs
// one signature check per record, not per message.
//
// Where it goes: the record names its device's supernode by key; the address is what this
// supernode knows for that key (dht.channelToSupernode), never the address the record names.
import { create } from '@bufbuild/protobuf';
import type { Env, Timer } from '../env/types.js';
import { RpcError, type RpcChannel } from '../overlay/rpc.js';
import { equalBytes, toHex } from '../crypto/bytes.js';
import { verifyPresenceRecord } from '../overlay/presence.js';
import {
  DeliveryOutcome,
  DeliverySchema,
  DeviceDeliverySchema,
  RouteFailure,
  RouteForwardSchema,
  RouteForwardedSchema,
  type DeviceDelivery,
  type Envelope,
} from '../wire/messages.js';
import type { Attachments } from './attachments.js';
import type { DhtNode } from './dht.js';

export const MAX_ROUTED_PAYLOAD_BYTES = 16 * 1024;
export const DELIVERY_ACK_TIMEOUT_MS = 5_000;
/** Deliveries waiting for a device's acknowledgement at once; beyond, new ones fail at once. */
const MAX_PENDING_DELIVERIES = 10_000;
/** Senders' presence records checked lately (by forwarding supernode and name), kept to skip checking them again. */
export const MAX_VOUCHED_SENDERS = 4096;

/** Who sends a routed message: the user its supernode authenticated, and that device's presence record (which names this supernode). */
export interface RouteSender {
  readonly username: string;
  readonly presence: Uint8Array;
}

export type RouteOutcome = { readonly failure: RouteFailure } | { readonly deliveries: DeviceDelivery[] };

export class Router {
  private nextDeliveryId = 1n;
  private readonly pending = new Map<bigint, { resolve: (o: DeliveryOutcome) => void; timer: Timer }>();
  /** forwarding supernode key / sender → the record that vouched for it, and until when (wall clock). */
  private readonly vouched = new Map<string, { presence: Uint8Array; untilMs: number }>();
  /** Forwards refused because the forwarding supernode could not vouch for the sender's name. */
  badSenders = 0;
  /** Forwards to another supernode that failed (no link, no answer): the sender is told UNREACHABLE, and they are counted here. */
  forwardsFailed = 0;
  /** Links to other supernodes closed because a forward on them had no answer at all. */
  staleLinksClosed = 0;

  constructor(
    private readonly env: Env,
    private readonly dht: DhtNode,
    private readonly attachments: Attachments,
  ) {
    dht.onOtherRequest = (envelope, channel) => this.onForward(envelope, channel);
  }

  /** Delivers to a device attached here and waits for its acknowledgement. */
  deliverLocal(deviceKey: Uint8Array, from: string, payload: Uint8Array): Promise<DeliveryOutcome> {
    const session = this.attachments.sessionOf(deviceKey);
    if (!session) return Promise.resolve(DeliveryOutcome.NOT_ATTACHED);
    if (this.pending.size >= MAX_PENDING_DELIVERIES) return Promise.resolve(DeliveryOutcome.NO_ACK);
    const deliveryId = this.nextDeliveryId++;
    return new Promise((resolve) => {
      const timer = this.env.clock.after(DELIVERY_ACK_TIMEOUT_MS, () => {
        this.pending.delete(deliveryId);
        resolve(DeliveryOutcome.NO_ACK);
      });
      this.pending.set(deliveryId, { resolve, timer });
      session.link.send({ case: 'delivery', value: create(DeliverySchema, { deliveryId, from, payload }) });
    });
  }

  /** A device acknowledged a delivery. */
  acknowledged(deliveryId: bigint): void {
    const waiter = this.pending.get(deliveryId);
    if (!waiter) return;
    this.pending.delete(deliveryId);
    waiter.timer.cancel();
    waiter.resolve(DeliveryOutcome.DELIVERED);
  }

  private onForward(envelope: Envelope, channel: RpcChannel): void {
    if (envelope.body.case !== 'routeForward') return;
    const { requestId, deviceKey, from, payload, senderPresence } = envelope.body.value;
    const answer = (outcome: DeliveryOutcome) => channel.reply({ case: 'routeForwarded', value: create(RouteForwardedSchema, { requestId, outcome }) });
    if (payload.byteLength > MAX_ROUTED_PAYLOAD_BYTES) return answer(DeliveryOutcome.NOT_ATTACHED);
    if (!this.vouches(channel.link.peer.dhKey, from, senderPresence)) {
      this.badSenders++;
      return answer(DeliveryOutcome.BAD_SENDER);
    }
    void this.deliverLocal(deviceKey, from, payload).then(answer);
  }

  /**
   * Whether the supernode with key `forwarderKey` may name `from` as a sender: `presence` is a
   * valid record of `from`'s device that names that supernode.
   */
  private vouches(forwarderKey: Uint8Array, from: string, presence: Uint8Array): boolean {
    const nowMs = this.env.clock.wallTimeMs();
    const cacheKey = `${toHex(forwarderKey)}/${from}`;
    const known = this.vouched.get(cacheKey);
    if (known && known.untilMs > nowMs && equalBytes(known.presence, presence)) return true;
    const record = verifyPresenceRecord(presence, this.dht.verifier, nowMs, from);
    if (!record.ok || !record.value.supernodes.some((s) => equalBytes(s.dhKey, forwarderKey))) return false;
    this.vouched.delete(cacheKey);
    if (this.vouched.size >= MAX_VOUCHED_SENDERS) this.vouched.delete(this.vouched.keys().next().value!);
    this.vouched.set(cacheKey, { presence, untilMs: record.value.expiresAtMs });
    return true;
  }

  /** Routes `payload` from `sender` to every online device of `to` (or only the one whose key is `deviceKey`, when not empty). */
  async route(sender: RouteSender, to: string, payload: Uint8Array, deviceKey: Uint8Array = new Uint8Array(0)): Promise<RouteOutcome> {
    const from = sender.username;
    if (payload.byteLength > MAX_ROUTED_PAYLOAD_BYTES) return { failure: RouteFailure.TOO_LARGE };
    const found = await this.dht.findPresence(to);
    const records = deviceKey.byteLength === 0 ? found.records : found.records.filter((r) => equalBytes(r.device.dhKey, deviceKey));
    if (records.length === 0) return { failure: RouteFailure.OFFLINE };
    const deliveries = await Promise.all(
      records.map(async (record) => {
        const deviceKey = record.device.dhKey;
        const supernode = record.supernodes[0];
        let outcome: DeliveryOutcome;
        if (!supernode || this.dht.isSelf(supernode.dhKey)) {
          outcome = await this.deliverLocal(deviceKey, from, payload);
        } else {
          let channel: RpcChannel | null = null;
          try {
            channel = await this.dht.channelToSupernode(supernode.dhKey);
            const answer = await channel.request(
              (requestId) => ({ case: 'routeForward', value: create(RouteForwardSchema, { requestId, deviceKey, from, payload, senderPresence: sender.presence }) }),
              DELIVERY_ACK_TIMEOUT_MS + 2_000,
            );
            outcome = answer.body.case === 'routeForwarded' ? answer.body.value.outcome : DeliveryOutcome.UNREACHABLE;
          } catch (error) {
            this.forwardsFailed++;
            outcome = DeliveryOutcome.UNREACHABLE;
            // No answer at all, though the answer waits only for the device's acknowledgement: the
            // link is taken for dead (a connection stalled by a partition, a NAT that forgot it),
            // closed, and the next forward dials afresh instead of waiting on it again.
            if (error instanceof RpcError && error.code === 'timeout' && channel) {
              this.staleLinksClosed++;
              channel.link.close();
            }
          }
        }
        // The supernode the record names says the device is not there: the copy found is stale
        // (a path cache's, say), and the next lookup should ask the replicas again.
        if (outcome === DeliveryOutcome.NOT_ATTACHED) this.dht.store.evict(record.username, deviceKey, record.sequence);
        return create(DeviceDeliverySchema, { deviceKey, outcome });
      }),
    );
    return { deliveries };
  }
}
