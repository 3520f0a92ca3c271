// The messenger's transport on the supernode overlay (an adapter: src/messenger/transport.ts):
// payloads routed to one device of a user, the devices a user has online from its presence
// records, and routed payloads as they arrive.
import type { AttachedClient } from './attachment.js';
import { DeliveryOutcome, RouteFailure } from '../wire/messages.js';
import type { SendOutcome, SignallingTransport } from '../messenger/transport.js';
import { MAX_PENDING_PER_LINK } from '../overlay/rpc.js';

/**
 * Routed payloads in flight at once: below the link's request limit (MAX_PENDING_PER_LINK), so
 * lookups and other requests still find room. A group message goes to every member device at
 * once (up to 128 members × their devices): beyond this many, routes wait their turn here
 * rather than being refused by the link (issue 24's benchmark: a 100-member group's message had
 * 35 copies refused, sent again 2 s later, many left in the offline store).
 */
export const MAX_ROUTES_IN_FLIGHT = MAX_PENDING_PER_LINK - 8;
/** Routes waiting for a turn; beyond, a send fails at once and its stream sends it again later. */
export const MAX_ROUTES_WAITING = 4_096;

export function overlayTransport(attached: AttachedClient): SignallingTransport {
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  const turn = async (): Promise<boolean> => {
    if (inFlight < MAX_ROUTES_IN_FLIGHT) {
      inFlight++;
      return true;
    }
    if (waiting.length >= MAX_ROUTES_WAITING) return false;
    // The slot is handed over by the route that ends (inFlight stays counted).
    await new Promise<void>((resolve) => waiting.push(resolve));
    return true;
  };
  const done = () => {
    const next = waiting.shift();
    if (next) next();
    else inFlight--;
  };
  return {
    send: async (toUser, deviceKey, payload) => {
      // The stream above retries until the device acknowledges; the outcome tells it when the
      // device is gone, so the message is also left with the login server.
      if (!(await turn())) return undefined;
      let result: Awaited<ReturnType<AttachedClient['route']>>;
      try {
        result = await attached.route(toUser, payload, { deviceKey });
      } finally {
        done();
      }
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
