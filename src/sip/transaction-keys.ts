// Matching messages to transactions (RFC 3261 sections 17.1.3 and 17.2.3): a response belongs
// to the client transaction of its top Via's branch and its CSeq method; a request belongs to
// the server transaction of its top Via's branch and sent-by, and its method (an ACK to the
// INVITE's, a CANCEL has its own). Only RFC 3261 branches ("z9hG4bK…") are matched: RFC 2543
// peers, which predate them, are not supported and get a typed error.
import { err, ok, type CodedError, type Result } from '../result.js';
import { parseCSeq, parseVia } from './header-values.js';
import { firstHeader, headerValues, type SipMessage } from './message.js';

export const BRANCH_COOKIE = 'z9hG4bK';

export type TransactionKeyError = CodedError<'no_via' | 'bad_via' | 'no_rfc3261_branch' | 'bad_cseq'>;

export function transactionKey(message: SipMessage): Result<string, TransactionKeyError> {
  const top = headerValues(message, 'via')[0];
  if (top === undefined) return err({ code: 'no_via', message: 'no Via header' });
  const via = parseVia(top);
  if (!via.ok) return err({ code: 'bad_via', message: via.error.message });
  const branch = via.value.branch;
  if (branch === null || !branch.startsWith(BRANCH_COOKIE) || branch.length <= BRANCH_COOKIE.length) return err({ code: 'no_rfc3261_branch', message: 'the top Via has no RFC 3261 branch' });
  const cseqText = firstHeader(message, 'cseq');
  const cseq = cseqText === null ? null : parseCSeq(cseqText);
  if (!cseq || !cseq.ok) return err({ code: 'bad_cseq', message: 'no valid CSeq' });
  const method = cseq.value.method === 'ACK' ? 'INVITE' : cseq.value.method;
  if (message.kind === 'response') return ok(`${branch}|${method}`);
  const sentBy = `${via.value.host.toLowerCase()}:${via.value.port ?? 5060}`;
  return ok(`${branch}|${sentBy}|${method}`);
}

/** The key a client transaction's responses will carry (its own request's branch and method). */
export function clientKeyOfRequest(request: SipMessage): Result<string, TransactionKeyError> {
  const key = transactionKey(request);
  if (!key.ok) return key;
  const [branch, , method] = key.value.split('|');
  return ok(`${branch}|${method}`);
}

/** Transactions by key, at most `max` at once (a peer's requests create server transactions). */
export class TransactionTable<T> {
  private readonly byKey = new Map<string, T>();
  /** Creations refused because the table was full. */
  refusedFull = 0;

  constructor(readonly max: number) {}

  get(key: string): T | undefined {
    return this.byKey.get(key);
  }

  /** Adds a transaction; false (and counted) when the table is full. */
  add(key: string, transaction: T): boolean {
    if (this.byKey.size >= this.max && !this.byKey.has(key)) {
      this.refusedFull++;
      return false;
    }
    this.byKey.set(key, transaction);
    return true;
  }

  delete(key: string): void {
    this.byKey.delete(key);
  }

  get size(): number {
    return this.byKey.size;
  }

  values(): IterableIterator<T> {
    return this.byKey.values();
  }
}
