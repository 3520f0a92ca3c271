// A device's groups on disk: each group's session (membership, sender keys, order: as JSON) and
// every group message it showed or sent, in an embedded SQLite file in the profile (0600, WAL).
// The messages' primary key (group, id) also keeps a message delivered again after a restart
// from being shown twice.
import Database from 'better-sqlite3';
import { preparePrivateDatabase } from '../env/private-files.js';

export interface StoredGroupMessage {
  readonly groupId: string;
  readonly id: string;
  readonly from: string;
  readonly fromDevice: string;
  readonly seq: bigint;
  readonly lamport: bigint;
  readonly sentAtMs: number;
  readonly receivedAtMs: number;
  readonly text: string;
  readonly mentions: readonly string[];
}

/** What the group client needs of a store (this SQLite file, or memory). */
export interface GroupStore {
  loadSessions(): { id: string; json: string }[];
  saveSession(id: string, json: string): void;
  /** Stores a message; false when it is here already (shown before). */
  addMessage(message: StoredGroupMessage): boolean;
  /** The last `limit` messages of a group in the display order (lamport, sender, device, seq), oldest first. */
  messages(groupId: string, limit: number): StoredGroupMessage[];
}

interface Row {
  group_id: string;
  id: string;
  sender: string;
  sender_device: string;
  seq: string;
  lamport: string;
  sent_at_ms: number;
  received_at_ms: number;
  text: string;
  mentions: string;
}

export class GroupHistory implements GroupStore {
  private constructor(private readonly db: Database.Database) {}

  static open(path: string): GroupHistory {
    if (path !== ':memory:') preparePrivateDatabase(path);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // seq and lamport are 64-bit counters kept as zero-padded text: ordered as numbers, no precision lost.
    db.exec(`
      CREATE TABLE IF NOT EXISTS group_sessions (id TEXT PRIMARY KEY, json TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS group_messages (
        group_id TEXT NOT NULL,
        id TEXT NOT NULL,
        sender TEXT NOT NULL,
        sender_device TEXT NOT NULL,
        seq TEXT NOT NULL,
        lamport TEXT NOT NULL,
        sent_at_ms INTEGER NOT NULL,
        received_at_ms INTEGER NOT NULL,
        text TEXT NOT NULL,
        mentions TEXT NOT NULL,
        PRIMARY KEY (group_id, id)
      );
      CREATE INDEX IF NOT EXISTS group_messages_in_order ON group_messages (group_id, lamport, sender, sender_device, seq);
    `);
    return new GroupHistory(db);
  }

  loadSessions(): { id: string; json: string }[] {
    return this.db.prepare('SELECT id, json FROM group_sessions ORDER BY id').all() as { id: string; json: string }[];
  }

  saveSession(id: string, json: string): void {
    this.db.prepare('INSERT INTO group_sessions (id, json) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET json = excluded.json').run(id, json);
  }

  addMessage(m: StoredGroupMessage): boolean {
    const pad = (n: bigint) => n.toString().padStart(20, '0');
    const result = this.db
      .prepare('INSERT OR IGNORE INTO group_messages (group_id, id, sender, sender_device, seq, lamport, sent_at_ms, received_at_ms, text, mentions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(m.groupId, m.id, m.from, m.fromDevice, pad(m.seq), pad(m.lamport), m.sentAtMs, m.receivedAtMs, m.text, JSON.stringify(m.mentions));
    return result.changes === 1;
  }

  messages(groupId: string, limit: number): StoredGroupMessage[] {
    const rows = this.db.prepare('SELECT * FROM group_messages WHERE group_id = ? ORDER BY lamport DESC, sender DESC, sender_device DESC, seq DESC LIMIT ?').all(groupId, limit) as Row[];
    return rows.reverse().map((r) => ({
      groupId: r.group_id,
      id: r.id,
      from: r.sender,
      fromDevice: r.sender_device,
      seq: BigInt(r.seq),
      lamport: BigInt(r.lamport),
      sentAtMs: r.sent_at_ms,
      receivedAtMs: r.received_at_ms,
      text: r.text,
      mentions: JSON.parse(r.mentions) as string[],
    }));
  }

  close(): void {
    this.db.close();
  }
}

/** The same in memory (tests, the simulator): kept across a client's restart while the object lives. */
export class MemoryGroupStore implements GroupStore {
  private readonly sessions = new Map<string, string>();
  private readonly byGroup = new Map<string, Map<string, StoredGroupMessage>>();

  loadSessions(): { id: string; json: string }[] {
    return [...this.sessions].map(([id, json]) => ({ id, json }));
  }

  saveSession(id: string, json: string): void {
    this.sessions.set(id, json);
  }

  addMessage(m: StoredGroupMessage): boolean {
    let group = this.byGroup.get(m.groupId);
    if (!group) this.byGroup.set(m.groupId, (group = new Map()));
    if (group.has(m.id)) return false;
    group.set(m.id, m);
    return true;
  }

  messages(groupId: string, limit: number): StoredGroupMessage[] {
    const all = [...(this.byGroup.get(groupId)?.values() ?? [])].sort(displayOrder);
    return all.slice(Math.max(0, all.length - limit));
  }

  close(): void {}
}

/** The display order every device agrees on: (lamport, sender, device, seq). */
export function displayOrder(a: StoredGroupMessage, b: StoredGroupMessage): number {
  if (a.lamport !== b.lamport) return a.lamport < b.lamport ? -1 : 1;
  if (a.from !== b.from) return a.from < b.from ? -1 : 1;
  if (a.fromDevice !== b.fromDevice) return a.fromDevice < b.fromDevice ? -1 : 1;
  return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
}
