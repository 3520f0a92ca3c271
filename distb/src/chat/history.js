// Local chat history: every message this device showed or sent, per conversation, in an
// embedded SQLite file in the profile (0600). It also remembers which message ids were shown,
// so a message repeated after a restart is not shown again. Searchable by words. And it keeps
// the outbox: messages sent but not yet acknowledged by a device, sent again after a restart.
import Database from 'better-sqlite3';
import { preparePrivateDatabase } from '../env/private-files.js';
const fromRow = (r) => ({
    id: r.id,
    conversation: r.conversation,
    from: r.sender,
    fromDevice: r.sender_device,
    sentAtMs: r.sent_at_ms,
    receivedAtMs: r.received_at_ms,
    text: r.text,
    offline: r.offline === 1,
});
/** A device that has not acknowledged a message in this long is not going to: the copy is dropped. */
export const OUTBOX_KEEP_MS = 30 * 24 * 3_600_000;
export class ChatHistory {
    db;
    constructor(db) {
        this.db = db;
    }
    static open(path) {
        if (path !== ':memory:')
            preparePrivateDatabase(path);
        const db = new Database(path);
        // WAL: `parley history` may read while `parley online` writes. NORMAL: a commit survives the
        // process dying (what a restart needs) without an fsync per message.
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
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
      CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        peer_user TEXT NOT NULL,
        peer_device BLOB NOT NULL,
        payload BLOB NOT NULL,
        queued_at_ms INTEGER NOT NULL
      );
    `);
        return new ChatHistory(db);
    }
    /** Stores a message; false when its id is already here (shown or sent before). */
    add(message) {
        const result = this.db
            .prepare('INSERT OR IGNORE INTO messages (id, conversation, sender, sender_device, sent_at_ms, received_at_ms, text, offline) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
            .run(message.id, message.conversation, message.from, message.fromDevice, message.sentAtMs, message.receivedAtMs, message.text, message.offline ? 1 : 0);
        return result.changes === 1;
    }
    has(id) {
        return this.db.prepare('SELECT 1 FROM messages WHERE id = ?').get(id) !== undefined;
    }
    /** The last `limit` messages of a conversation, oldest first; with `search`, only those containing it (any case). */
    conversation(user, options = {}) {
        const limit = options.limit ?? 50;
        const rows = options.search
            ? this.db
                .prepare("SELECT * FROM messages WHERE conversation = ? AND text LIKE ? ESCAPE '\\' ORDER BY sent_at_ms DESC, rowid DESC LIMIT ?")
                .all(user, `%${options.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, limit)
            : this.db.prepare('SELECT * FROM messages WHERE conversation = ? ORDER BY sent_at_ms DESC, rowid DESC LIMIT ?').all(user, limit);
        return rows.reverse().map(fromRow);
    }
    /** Keeps a message for a device until `release(id)`; returns the id. */
    keepUntilAcknowledged(user, deviceKey, payload, nowMs) {
        const result = this.db.prepare('INSERT INTO outbox (peer_user, peer_device, payload, queued_at_ms) VALUES (?, ?, ?, ?)').run(user, deviceKey, payload, nowMs);
        return Number(result.lastInsertRowid);
    }
    release(id) {
        this.db.prepare('DELETE FROM outbox WHERE id = ?').run(id);
    }
    /** What still waits for an acknowledgement, in the order it was sent (older than `OUTBOX_KEEP_MS`: dropped). */
    queued(nowMs) {
        this.db.prepare('DELETE FROM outbox WHERE queued_at_ms < ?').run(nowMs - OUTBOX_KEEP_MS);
        const rows = this.db.prepare('SELECT id, peer_user, peer_device, payload FROM outbox ORDER BY id').all();
        return rows.map((r) => ({ id: r.id, user: r.peer_user, deviceKey: new Uint8Array(r.peer_device), payload: new Uint8Array(r.payload) }));
    }
    close() {
        this.db.close();
    }
}
//# sourceMappingURL=history.js.map