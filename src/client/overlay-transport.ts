// The messenger's transport on the supernode overlay (an adapter: src/messenger/transport.ts):
// payloads routed to one device of a user, the devices a user has online from its presence
// records, and routed payloads as they arrive.
import type { AttachedClient } from './attachment.js';
import { DeliveryOutcome, RouteFailure } from '../wire/messages.js';
import type { SendOutcome, SignallingTransport } from '../messenger/transport.js';

export function overlayTransport(attached: AttachedClient): SignallingTransport {
  return {
    send: async (toUser, deviceKey, payload) => {
      // The stream above retries until the device acknowledges; the outcome tells it when the
      // device is gone, so the message is also left with the login server.
      const result = await attached.route(toUser, payload, { deviceKey });
      if ('failure' in result) return result.failure === RouteFailure.OFFLINE ? 'absent' : undefined;
      return outcomeOf(result.deliveries[0]?.outcome);
    },
    devices: async (username) => (await attached.find(username)).map((record) => record.device.dhKey),
    onReceive: (handler) => attached.onDelivery(handler),
  };
}

function outcomeOf(outcome: DeliveryOutcome | undefined): SendOutcome | undefined {
  switch (outcome) {
    case DeliveryOutcome.DELIVERED:
      return 'delivered';
    case DeliveryOutcome.NOT_ATTACHED:
      return 'absent';
    case DeliveryOutcome.NO_ACK:
    case DeliveryOutcome.UNREACHABLE:
    case DeliveryOutcome.BAD_SENDER: // our supernode could not vouch for us there: as if unreachable, tried again later
      return 'unreachable';
    default:
      return undefined;
  }
}
