// Table types for Kysely. Times are Unix epoch milliseconds; flags are 0/1 integers so the
// same rows work in SQLite and PostgreSQL.
import type { ColumnType, Generated } from 'kysely';

/** The SQL engines the schema is written for (migrations.ts writes each one's column types). */
export type DialectName = 'sqlite' | 'postgres';

export interface UsersTable {
  id: Generated<number>;
  /** Normalised (NFKC, lower case): unique, and what lookups and prefix search use. */
  username: string;
  /** What the name looks like (wire/confusables.ts): unique, so no new name passes for another; NULL for older look-alikes. */
  username_skeleton: string | null;
  /** As the user typed it, for display. */
  display_name: string;
  password_hash: string;
  created_at_ms: number;
  discoverable: number;
  show_last_seen: number;
  last_seen_ms: number | null;
}

export interface DevicesTable {
  id: Generated<number>;
  user_id: number;
  signing_key: Uint8Array;
  dh_key: Uint8Array;
  name: string;
  created_at_ms: number;
  last_login_ms: number;
  revoked_at_ms: number | null;
}

export interface LoginChallengesTable {
  /** Issue order: the oldest are evicted first. */
  id: Generated<number>;
  /** Random, base64url; single use. */
  challenge: string;
  device_id: number;
  /** The address (or IPv6 /64) that asked for it: a flood from one address evicts its own first. */
  source: string;
  expires_at_ms: number;
}

export interface ContactsTable {
  user_id: number;
  contact_id: number;
  /** 'buddy' or 'blocked'. */
  kind: string;
}

export interface ContactListsTable {
  user_id: number;
  version: number;
}

export interface BuddyRequestsTable {
  id: Generated<number>;
  from_user_id: number;
  to_user_id: number;
  message: string;
  created_at_ms: number;
}

export interface OfflineMessagesTable {
  id: Generated<number>;
  recipient_device_id: number;
  sender_username: string;
  ciphertext: Uint8Array;
  created_at_ms: number;
  /** 1 when the sender was not on the recipient's buddy list at deposit time (counts toward the strangers' share). */
  from_stranger: ColumnType<number, number | undefined, never>;
}

export interface ThrottlesTable {
  key: string;
  failures: number;
  locked_until_ms: number;
  updated_at_ms: number;
}

export interface CountersTable {
  name: string;
  value: number;
}

/** A single-use token an operator made for enrolling one supernode; only its hash is kept. */
export interface EnrolmentTokensTable {
  /** SHA-256 of the token, hex. */
  token_hash: string;
  label: string;
  created_at_ms: number;
  expires_at_ms: number;
  used_at_ms: number | null;
}

/** An operator's supernode: its keys, where it listens, when it last renewed. */
export interface SupernodesTable {
  id: Generated<number>;
  signing_key: Uint8Array;
  dh_key: Uint8Array;
  label: string;
  host: string;
  port: number;
  web_port: number | null;
  enrolled_at_ms: number;
  last_seen_ms: number;
  revoked_at_ms: number | null;
}

export interface Schema {
  users: UsersTable;
  devices: DevicesTable;
  login_challenges: LoginChallengesTable;
  contacts: ContactsTable;
  contact_lists: ContactListsTable;
  buddy_requests: BuddyRequestsTable;
  offline_messages: OfflineMessagesTable;
  throttles: ThrottlesTable;
  counters: CountersTable;
  enrolment_tokens: EnrolmentTokensTable;
  supernodes: SupernodesTable;
}
