// Local chat history: every message this device showed or sent, per conversation, in an
// embedded SQLite file in the profile (0600). It also remembers which message ids were shown,
// so a message repeated after a restart is not shown again. Searchable by words.
import { chmodSync, existsSync } from 'node:fs';
import Database from 'better-sqlite3';

export interface StoredMessage {
  readonly id: string;
  /** The other user of the conversation. */
  readonly conversation: string;
  readonly from: string;
  readonly fromDevice: string;
  readonly sentAtMs: number;
  readonly receivedAtMs: number;
  readonly text: string;
  readonly offline: boolean;
}

interface Row {
  id: string;
  conversation: string;
  sender: string;
  sender_device: string;
  sent_at_ms: number;
  received_at_ms: number;
  text: string;
  offline: number;
}

const fromRow = (r: Row): StoredMessage => ({
  id: r.id,
  conversation: r.conversation,
  from: r.sender,
  fromDevice: r.sender_device,
  sentAtMs: r.sent_at_ms,
  receivedAtMs: r.received_at_ms,
  text: r.text,
  offline: r.offline === 1,
});

export class ChatHistory {
  private constructor(private readonly db: Database.Database) {}

  static open(path: string): ChatHistory {
    const created = !existsSync(path);
    const db = new Database(path);
    if (created) chmodSync(path, 0o600);
    // WAL: `parley history` may read while `parley online` writes.
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS messages (
        id TEXT PRIMARY KEY,
        conversation TEXT NOT NULL,
        sender TEXT NOT NULL,
        sender_device TEXT NOT NULL,
        sent_at_ms INTEGER NOT NULL,
        received_at_ms INTEGER NOT NULL,
        text TEXT NOT NULL,
        offline INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages (conversation, sent_at_ms);
    `);
    return new ChatHistory(db);
  }

  /** Stores a message; false when its id is already here (shown or sent before). */
  add(message: StoredMessage): boolean {
    const result = this.db
      .prepare('INSERT OR IGNORE INTO messages (id, conversation, sender, sender_device, sent_at_ms, received_at_ms, text, offline) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(message.id, message.conversation, message.from, message.fromDevice, message.sentAtMs, message.receivedAtMs, message.text, message.offline ? 1 : 0);
    return result.changes === 1;
  }

  has(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM messages WHERE id = ?').get(id) !== undefined;
  }

  /** The last `limit` messages of a conversation, oldest first; with `search`, only those containing it (any case). */
  conversation(user: string, options: { limit?: number; search?: string } = {}): StoredMessage[] {
    const limit = options.limit ?? 50;
    const rows = options.search
      ? (this.db
          .prepare("SELECT * FROM messages WHERE conversation = ? AND text LIKE ? ESCAPE '\\' ORDER BY sent_at_ms DESC, rowid DESC LIMIT ?")
          .all(user, `%${options.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, limit) as Row[])
      : (this.db.prepare('SELECT * FROM messages WHERE conversation = ? ORDER BY sent_at_ms DESC, rowid DESC LIMIT ?').all(user, limit) as Row[]);
    return rows.reverse().map(fromRow);
  }

  close(): void {
    this.db.close();
  }
}
