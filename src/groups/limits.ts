// Every bound of group chats, in one place (docs/groups.md and docs/limits.md state them): what
// a hostile member, inviter or sender can make a device spend.

/** Members of one group (users; each may have several devices). An ADD beyond is refused. */
export const MAX_GROUP_MEMBERS = 128;
/** Groups one device is in (or invited to); a welcome beyond is refused (`too_many_groups`). */
export const MAX_GROUPS = 256;
/** Welcomes one inviting user may give this device: a burst, then one a minute (`rate_limited`). */
export const WELCOME_BURST = 10;
export const WELCOMES_PER_SECOND = 1 / 60;
/** A group's name, in UTF-8 bytes. */
export const MAX_GROUP_NAME_BYTES = 128;
/** A group message's text, in UTF-8 bytes (as a 1:1 message). */
export const MAX_GROUP_TEXT_BYTES = 8 * 1024;
/** Members one message may mention. */
export const MAX_MENTIONS = 32;
/** Message keys a receiver derives ahead of the next expected one, and keeps for late messages, per sender key. */
export const MAX_SKIPPED_MESSAGE_KEYS = 1024;
/** Sender keys kept per sending device: the current one and the one before (messages in flight across a re-key). */
export const SENDER_KEYS_PER_DEVICE = 2;
/** Sending devices one group keeps keys for (every device of every member, with room for churn). */
export const MAX_SENDER_DEVICES = 1024;
/** Messages held back per sending device while an earlier one is missing, and per group in all. */
export const MAX_HELD_PER_SENDER = 256;
export const MAX_HELD_PER_GROUP = 2048;
/** A gap in a sender's sequence is waited for this long, then passed over (counted as `gap_skipped`). */
export const GAP_WAIT_MS = 60_000;
/** Membership ops held while an earlier version is missing. */
export const MAX_HELD_OPS = 64;
