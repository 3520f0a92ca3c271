import { DeliveryOutcome, RouteFailure } from '../wire/messages.js';
export function overlayTransport(attached) {
    return {
        send: async (toUser, deviceKey, payload) => {
            // The stream above retries until the device acknowledges; the outcome tells it when the
            // device is gone, so the message is also left with the login server.
            const result = await attached.route(toUser, payload, { deviceKey });
            if ('failure' in result)
                return result.failure === RouteFailure.OFFLINE ? 'absent' : undefined;
            return outcomeOf(result.deliveries[0]?.outcome);
        },
        devices: async (username) => (await attached.find(username)).map((record) => record.device.dhKey),
        onReceive: (handler) => attached.onDelivery(handler),
    };
}
function outcomeOf(outcome) {
    switch (outcome) {
        case DeliveryOutcome.DELIVERED:
            return 'delivered';
        case DeliveryOutcome.NOT_ATTACHED:
            return 'absent';
        case DeliveryOutcome.NO_ACK:
        case DeliveryOutcome.UNREACHABLE:
            return 'unreachable';
        default:
            return undefined;
    }
}
//# sourceMappingURL=overlay-transport.js.map