// A device's messenger with a chat on it, composed as the CLI composes them, for chat tests.
import type { Env } from '../../src/env/types.js';
import { ChatClient, type ChatOptions } from '../../src/chat/chat-client.js';
import { Messenger, type MessengerOptions } from '../../src/messenger/messenger.js';

/** The messenger on `options`' transport and a chat on it; `close` ends both. */
export function chatOn(env: Env, options: MessengerOptions & ChatOptions): { messenger: Messenger; chat: ChatClient; close: () => void } {
  const { history, buddies, typingIndicators, readReceipts, ...messengerOptions } = options;
  const messenger = new Messenger(env, messengerOptions);
  const chatOptions: ChatOptions = { ...(history ? { history } : {}), ...(buddies ? { buddies } : {}), ...(typingIndicators !== undefined ? { typingIndicators } : {}), ...(readReceipts !== undefined ? { readReceipts } : {}) };
  const chat = new ChatClient(env, messenger, chatOptions);
  return {
    messenger,
    chat,
    close: () => {
      chat.close();
      messenger.close();
    },
  };
}
