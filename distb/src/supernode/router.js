// Routing a signalling message to a user: the sender's supernode finds the user's devices in the
// overlay and, for each, asks the supernode the device is attached to (itself, or another over a
// supernode link) to deliver it. The device acknowledges; every device's outcome goes back to the
// sender, so nothing is lost silently.
import { create } from '@bufbuild/protobuf';
import { equalBytes } from '../crypto/bytes.js';
import { DeliveryOutcome, DeliverySchema, DeviceDeliverySchema, RouteFailure, RouteForwardSchema, RouteForwardedSchema, } from '../wire/messages.js';
export const MAX_ROUTED_PAYLOAD_BYTES = 16 * 1024;
export const DELIVERY_ACK_TIMEOUT_MS = 5_000;
/** Deliveries waiting for a device's acknowledgement at once; beyond, new ones fail at once. */
const MAX_PENDING_DELIVERIES = 10_000;
export class Router {
    env;
    dht;
    attachments;
    nextDeliveryId = 1n;
    pending = new Map();
    constructor(env, dht, attachments) {
        this.env = env;
        this.dht = dht;
        this.attachments = attachments;
        dht.onOtherRequest = (envelope, channel) => this.onForward(envelope, channel);
    }
    /** Delivers to a device attached here and waits for its acknowledgement. */
    deliverLocal(deviceKey, from, payload) {
        const session = this.attachments.sessionOf(deviceKey);
        if (!session)
            return Promise.resolve(DeliveryOutcome.NOT_ATTACHED);
        if (this.pending.size >= MAX_PENDING_DELIVERIES)
            return Promise.resolve(DeliveryOutcome.NO_ACK);
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
    acknowledged(deliveryId) {
        const waiter = this.pending.get(deliveryId);
        if (!waiter)
            return;
        this.pending.delete(deliveryId);
        waiter.timer.cancel();
        waiter.resolve(DeliveryOutcome.DELIVERED);
    }
    onForward(envelope, channel) {
        if (envelope.body.case !== 'routeForward')
            return;
        const { requestId, deviceKey, from, payload } = envelope.body.value;
        if (payload.byteLength > MAX_ROUTED_PAYLOAD_BYTES)
            return channel.reply({ case: 'routeForwarded', value: create(RouteForwardedSchema, { requestId, outcome: DeliveryOutcome.NOT_ATTACHED }) });
        void this.deliverLocal(deviceKey, from, payload).then((outcome) => channel.reply({ case: 'routeForwarded', value: create(RouteForwardedSchema, { requestId, outcome }) }));
    }
    /** Routes `payload` from `from` to every online device of `to` (or only the one whose key is `deviceKey`, when not empty). */
    async route(from, to, payload, deviceKey = new Uint8Array(0)) {
        if (payload.byteLength > MAX_ROUTED_PAYLOAD_BYTES)
            return { failure: RouteFailure.TOO_LARGE };
        const found = await this.dht.findPresence(to);
        const records = deviceKey.byteLength === 0 ? found.records : found.records.filter((r) => equalBytes(r.device.dhKey, deviceKey));
        if (records.length === 0)
            return { failure: RouteFailure.OFFLINE };
        const deliveries = await Promise.all(records.map(async (record) => {
            const deviceKey = record.device.dhKey;
            const supernode = record.supernodes[0];
            let outcome;
            if (!supernode || this.dht.isSelf(supernode.dhKey)) {
                outcome = await this.deliverLocal(deviceKey, from, payload);
            }
            else {
                try {
                    const channel = await this.dht.channelTo(this.dht.contactFor(supernode));
                    const answer = await channel.request((requestId) => ({ case: 'routeForward', value: create(RouteForwardSchema, { requestId, deviceKey, from, payload }) }), DELIVERY_ACK_TIMEOUT_MS + 2_000);
                    outcome = answer.body.case === 'routeForwarded' ? answer.body.value.outcome : DeliveryOutcome.UNREACHABLE;
                }
                catch {
                    outcome = DeliveryOutcome.UNREACHABLE;
                }
            }
            // The supernode the record names says the device is not there: the copy found is stale
            // (a path cache's, say), and the next lookup should ask the replicas again.
            if (outcome === DeliveryOutcome.NOT_ATTACHED)
                this.dht.store.evict(record.username, deviceKey, record.sequence);
            return create(DeviceDeliverySchema, { deviceKey, outcome });
        }));
        return { deliveries };
    }
}
//# sourceMappingURL=router.js.map