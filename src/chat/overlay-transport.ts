// The chat's transport on the supernode overlay: payloads routed to one device of a user, the
// devices a user has online from its presence records, and routed payloads as they arrive.
import type { AttachedClient } from '../client/attachment.js';
import type { SignallingTransport } from './chat-client.js';

export function overlayTransport(attached: AttachedClient): SignallingTransport {
  return {
    send: async (toUser, deviceKey, payload) => {
      // The outcome is not needed: the stream above retries until the device acknowledges.
      await attached.route(toUser, payload, { deviceKey });
    },
    devices: async (username) => (await attached.find(username)).map((record) => record.device.dhKey),
    onReceive: (handler) => attached.onDelivery(handler),
  };
}
