// The ICE check list (RFC 8445 section 6.1.2 and 7) as a state machine with no I/O: no socket, no
// timer, no clock. It is told what happened (the other side's candidates, a check that came in,
// an answer to one of ours) and what time it is, and answers with what to do: checks to send,
// a path chosen, the path lost. `deadlineMs()` says when it wants to be woken (`tick`) next.
// Its driver (ice-agent.ts) owns the socket, the TURN client, STUN encoding and the one timer.
//
// What it does:
// - pairs every remote candidate with the local candidates of its address family that send
//   checks (host and relay; the server-reflexive one shares the host's socket; a dual-stack
//   agent has an IPv4 and an IPv6 host candidate, so a remote one still pairs with at most two),
//   ordered by RFC 8445 pair priority;
// - paces checks (one every PACE_MS; triggered checks, answering the peer's, go first) and
//   retransmits each (RTO_MS, doubling) up to CHECK_ATTEMPTS times;
// - controlling side: after the first success waits a little for better pairs
//   (NOMINATION_WAIT_MS, RELAY_WAIT_MS for a relayed pair), then nominates the best pair that
//   works, and nominates again when a better one works later; controlled side: selects the pair
//   the controlling side nominated once its own check on it succeeded;
// - once a pair is chosen, pairs no better than it are no longer checked on our initiative
//   (RFC 8445 section 8.1.2; the peer's checks still trigger ours), better ones are checked again
//   every RECHECK_EVERY_TICKS seconds (a relay is a fallback, not a home);
// - consent (RFC 7675, faster): a check on the chosen pair every CONSENT_INTERVAL_MS; after
//   CONSENT_FAILURES unanswered in a row the path is dead: the next pair that works takes over
//   and everything is checked again.
//
// Bounds (a peer knows our check password, so it can send checks from as many addresses as it
// likes): remote candidates, pairs, queued checks and pending checks each have a named limit;
// what goes beyond is refused and counted in `refused`.
import { sameEndpoint, type Endpoint, type Random } from '../env/types.js';
import { toHex } from '../crypto/bytes.js';
import { candidatePriority, localFor, pairPriority, pathKind, sameFamily, type IceCandidate, type SelectedPath } from './ice-candidate.js';

/** Checks: a new one every PACE_MS, each sent again after RTO_MS (doubling), CHECK_ATTEMPTS times in all. */
export const PACE_MS = 5;
export const RTO_MS = 100;
export const CHECK_ATTEMPTS = 6;
/** After the first pair works, better pairs get this long (at least) to work too before nomination. */
export const NOMINATION_WAIT_MS = 100;
/**
 * A relayed pair is a fallback: while a direct or hole-punched pair is still being checked it
 * waits this long (at least) before it is nominated, so a loaded machine's slow answers do not
 * settle a call on the relay (it would move later, but the first path is the one people see).
 */
export const RELAY_WAIT_MS = 500;
/** Consent (RFC 7675, faster): a check on the chosen pair every second; three unanswered and the path is dead. */
export const CONSENT_INTERVAL_MS = 1_000;
export const CONSENT_FAILURES = 3;
/**
 * While on a worse path than the best pair, the better pairs that failed are checked again this
 * often (in consent ticks), each with fewer retransmissions than a first check: a path that
 * healed is back within about this many seconds.
 */
export const RECHECK_EVERY_TICKS = 2;
export const RECHECK_ATTEMPTS = 3;
/**
 * Remote candidates one agent keeps: those the offer named and the peer-reflexive ones learned
 * from checks. A check needs only the password, so the peer (or anyone it told it) can send
 * checks from as many source addresses as it likes, and each address learned costs a pair, a
 * triggered check with its retransmissions to that address, and through the relay a TURN
 * permission. With at most two local candidates that send checks (host, relay) this keeps the
 * check list at 64 pairs, under RFC 8445's default limit of 100 (section 6.1.2.5). A device has
 * a few addresses; an offer brings at most 16 (connector.ts), so 16 are left for peer-reflexive ones.
 */
export const MAX_REMOTE_CANDIDATES = 32;
/** Local candidates that send checks: host and relay (a server-reflexive one shares the host's socket). */
const CHECKING_LOCALS = 2;
export const MAX_PAIRS = CHECKING_LOCALS * MAX_REMOTE_CANDIDATES;
/** Each pair is queued at most once. */
export const MAX_QUEUED_CHECKS = MAX_PAIRS;
/** Checks waiting for an answer: one per pair, and as many again for nominations and consent. */
export const MAX_PENDING_CHECKS = 2 * MAX_PAIRS;

export type PairState = 'waiting' | 'in-progress' | 'succeeded' | 'failed';

/** A candidate pair as the check list shows it (read only: the check list alone changes pairs). */
export interface CandidatePair {
  readonly local: IceCandidate;
  readonly remote: IceCandidate;
  readonly priority: bigint;
  readonly state: PairState;
  readonly rttMs: number;
  /** The other side asked for it (USE-CANDIDATE), or we did and it answered. */
  readonly nominated: boolean;
}

/**
 * Why a check is sent: `ordinary` (the check list's own, paced), `triggered` (the peer checked
 * the pair: RFC 8445 section 7.3.1.4), `nominate` (controlling side, USE-CANDIDATE), `consent`.
 */
export type CheckPurpose = 'ordinary' | 'triggered' | 'nominate' | 'consent';

export type CheckListOutput =
  /** Send a Binding request from `local` (its socket, or through the relay) to `to`. Retransmissions carry the same transaction id. */
  | {
      readonly kind: 'check';
      readonly transactionId: Uint8Array;
      readonly local: IceCandidate;
      readonly to: Endpoint;
      readonly useCandidate: boolean;
      readonly purpose: CheckPurpose;
      /** 1 for the first transmission. */
      readonly attempt: number;
    }
  /** A peer-reflexive remote candidate learned from a check that came `via` that local candidate. */
  | { readonly kind: 'learned'; readonly remote: IceCandidate; readonly via: 'host' | 'relay' }
  /** A pair was chosen (first, or instead of another): data goes there now. */
  | { readonly kind: 'selected'; readonly path: SelectedPath }
  /** The chosen pair died and no other works: no path until a check succeeds again. */
  | { readonly kind: 'lost' };

/** A connectivity check from the peer, already authenticated (and answered) by the driver. */
export interface ReceivedCheck {
  /** Which local candidate it came to: the host's socket, or through our relay. */
  readonly via: 'host' | 'relay';
  readonly from: Endpoint;
  /** Its PRIORITY attribute (the priority of a peer-reflexive candidate at `from`), when it had one. */
  readonly priority: number | null;
  readonly useCandidate: boolean;
}

/** An authenticated answer to one of our checks (see `awaits`). */
export interface ReceivedAnswer {
  readonly transactionId: Uint8Array;
  readonly from: Endpoint;
  readonly success: boolean;
}

export interface CheckListOptions {
  readonly controlling: boolean;
  /** A path is needed now: a relayed pair is nominated without RELAY_WAIT_MS (IceAgentOptions.urgent). */
  readonly urgent?: boolean;
  /** Our gathered candidates. */
  readonly locals: readonly IceCandidate[];
  /** For transaction ids. */
  readonly random: Random;
}

interface Pair extends CandidatePair {
  state: PairState;
  rttMs: number;
  nominated: boolean;
  /** Checked again after it failed or died: fewer retransmissions. */
  recheck: boolean;
}

interface Queued {
  readonly pair: Pair;
  triggered: boolean;
}

interface Transaction {
  readonly transactionId: Uint8Array;
  readonly pair: Pair;
  readonly purpose: CheckPurpose;
  readonly startedMs: number;
  attempt: number;
  nextRtoMs: number;
  /** When it is sent again, or given up. */
  dueMs: number;
  /** Order among timers due at the same millisecond: the one set first runs first. */
  order: number;
}

interface Timer {
  atMs: number;
  order: number;
}

type Due =
  | { readonly kind: 'pace'; readonly timer: Timer }
  | { readonly kind: 'nominate'; readonly timer: Timer }
  | { readonly kind: 'consent'; readonly timer: Timer }
  | { readonly kind: 'transaction'; readonly id: string; readonly timer: Timer };

export class CheckList {
  private readonly controlling: boolean;
  private readonly urgent: boolean;
  private readonly locals: readonly IceCandidate[];
  private readonly random: Random;
  /** The candidates the other side's parameters named; null until `connect`. */
  private offered: readonly IceCandidate[] | null = null;
  private readonly remotes: IceCandidate[] = [];
  /** Highest priority first. */
  private readonly pairs: Pair[] = [];
  private readonly queue: Queued[] = [];
  private readonly transactions = new Map<string, Transaction>();
  private chosen: Pair | null = null;
  private startedMs = 0;
  private nextOrder = 0;
  /** The next paced check may go at this time (it runs only while the queue holds something). */
  private pace: Timer = { atMs: -Infinity, order: 0 };
  private nomination: Timer | null = null;
  private plannedFor: Pair | null = null;
  private consent: Timer | null = null;
  private consentTicks = 0;
  private consentFailures = 0;
  private out: CheckListOutput[] = [];
  /**
   * What was refused: remote candidates beyond MAX_REMOTE_CANDIDATES, pairs beyond MAX_PAIRS,
   * checks beyond MAX_QUEUED_CHECKS (queued) or MAX_PENDING_CHECKS (waiting for an answer).
   */
  readonly refused = { candidates: 0, pairs: 0, queued: 0, pending: 0 };

  constructor(options: CheckListOptions) {
    this.controlling = options.controlling;
    this.urgent = options.urgent === true;
    this.locals = [...options.locals];
    this.random = options.random;
  }

  /** The other side's candidates: pairs are formed and checks begin. */
  connect(candidates: readonly IceCandidate[], nowMs: number): CheckListOutput[] {
    this.startedMs = nowMs;
    this.offered = [...candidates];
    // Checks that came before the parameters taught us peer-reflexive addresses; what the other
    // side says of an address counts first (its host candidate is not peer-reflexive).
    const learned = this.remotes.splice(0);
    for (const candidate of [...candidates, ...learned]) this.addRemote(candidate);
    return this.finish(nowMs);
  }

  /**
   * A check from the peer (the driver checked its integrity and answered it). A new source
   * address is learned as a peer-reflexive candidate (bounded); the pair gets a triggered check;
   * on the controlled side USE-CANDIDATE nominates it.
   */
  checkReceived(check: ReceivedCheck, nowMs: number): CheckListOutput[] {
    const local = localFor(this.locals, check.via, check.from);
    if (!local) return this.finish(nowMs);
    let remote = this.remotes.find((r) => sameEndpoint(r.address, check.from));
    if (!remote) {
      // Answered (by the driver), but not learned: no pair, no check of ours goes there.
      if (this.remotes.length >= MAX_REMOTE_CANDIDATES) {
        this.refused.candidates++;
        return this.finish(nowMs);
      }
      remote = { type: 'prflx', address: check.from, priority: check.priority ?? candidatePriority('prflx') };
      this.remotes.push(remote);
      this.out.push({ kind: 'learned', remote, via: check.via });
    }
    if (!this.offered) return this.finish(nowMs); // before the other side's parameters: paired later
    const pair = this.addPair(local, remote);
    if (!pair) return this.finish(nowMs);
    // A triggered check: our answer alone does not prove our direction works.
    if (pair.state !== 'succeeded') this.enqueue(pair, true);
    if (!this.controlling && check.useCandidate) {
      pair.nominated = true;
      if (pair.state === 'succeeded') this.select(pair, nowMs);
    }
    return this.finish(nowMs);
  }

  /** Whether an answer with this transaction id from this address is one we wait for (cheap: before its integrity is checked). */
  awaits(transactionId: Uint8Array, from: Endpoint): boolean {
    const transaction = this.transactions.get(toHex(transactionId));
    return transaction !== undefined && sameEndpoint(from, transaction.pair.remote.address);
  }

  /** An answer to one of our checks, its integrity checked. */
  answerReceived(answer: ReceivedAnswer, nowMs: number): CheckListOutput[] {
    const id = toHex(answer.transactionId);
    const transaction = this.transactions.get(id);
    if (!transaction || !sameEndpoint(answer.from, transaction.pair.remote.address)) return this.finish(nowMs);
    this.transactions.delete(id);
    const { pair, purpose } = transaction;
    const ordinary = purpose === 'ordinary' || purpose === 'triggered';
    if (!answer.success) {
      if (ordinary) pair.state = 'failed';
      if (purpose === 'consent') this.consentAnswered(pair, false, nowMs);
      return this.finish(nowMs);
    }
    pair.rttMs = nowMs - transaction.startedMs;
    const fresh = pair.state !== 'succeeded';
    pair.state = 'succeeded';
    if (purpose === 'consent') this.consentAnswered(pair, true, nowMs);
    if (purpose === 'nominate') {
      pair.nominated = true;
      this.select(pair, nowMs);
    } else if (!this.controlling) {
      if (pair.nominated) this.select(pair, nowMs);
    } else if (fresh) {
      this.considerNomination(nowMs);
    }
    return this.finish(nowMs);
  }

  /** Runs what is due by `nowMs`: paced checks, retransmissions, timeouts, nomination, consent. */
  tick(nowMs: number): CheckListOutput[] {
    return this.finish(nowMs);
  }

  /** When `tick` should be called next, or null when nothing is planned. */
  deadlineMs(): number | null {
    return this.earliest()?.timer.atMs ?? null;
  }

  /** Data from this address is the peer's: it comes on the chosen pair (checked first: this runs per media packet) or another that works. */
  acceptsDataFrom(from: Endpoint): boolean {
    const chosen = this.chosen;
    if (chosen && sameEndpoint(chosen.remote.address, from)) return true;
    return this.pairs.some((p) => p.state === 'succeeded' && sameEndpoint(p.remote.address, from));
  }

  get selected(): CandidatePair | null {
    return this.chosen;
  }

  /** The chosen path, described; `nowMs` for its setup time. */
  path(nowMs: number): SelectedPath | null {
    return this.chosen ? this.describe(this.chosen, nowMs) : null;
  }

  /** For tests and metrics: the sizes that have bounds. */
  get sizes(): { remotes: number; pairs: number; queued: number; pending: number } {
    return { remotes: this.remotes.length, pairs: this.pairs.length, queued: this.queue.length, pending: this.transactions.size };
  }

  get candidatePairs(): readonly CandidatePair[] {
    return this.pairs;
  }

  private addRemote(candidate: IceCandidate): void {
    if (this.remotes.some((r) => sameEndpoint(r.address, candidate.address))) return;
    if (this.remotes.length >= MAX_REMOTE_CANDIDATES) {
      this.refused.candidates++;
      return;
    }
    this.remotes.push(candidate);
    for (const local of this.locals) {
      if (local.type !== 'host' && local.type !== 'relay') continue;
      if (!sameFamily(local.address, candidate.address)) continue;
      const pair = this.addPair(local, candidate);
      if (pair) this.enqueue(pair, false);
    }
  }

  private addPair(local: IceCandidate, remote: IceCandidate): Pair | null {
    const existing = this.pairs.find((p) => p.local === local && sameEndpoint(p.remote.address, remote.address));
    if (existing) return existing;
    if (this.pairs.length >= MAX_PAIRS) {
      this.refused.pairs++;
      return null;
    }
    const pair: Pair = {
      local,
      remote,
      priority: this.controlling ? pairPriority(local.priority, remote.priority) : pairPriority(remote.priority, local.priority),
      state: 'waiting',
      rttMs: 0,
      nominated: false,
      recheck: false,
    };
    this.pairs.push(pair);
    this.pairs.sort((a, b) => (a.priority > b.priority ? -1 : a.priority < b.priority ? 1 : 0));
    return pair;
  }

  /** Queues a check: triggered checks go first; our own wait for their turn and stop at the chosen pair. */
  private enqueue(pair: Pair, triggered: boolean): void {
    if (pair.state === 'in-progress') return;
    const at = this.queue.findIndex((q) => q.pair === pair);
    if (at >= 0) {
      if (triggered && at > 0) {
        const [entry] = this.queue.splice(at, 1);
        entry!.triggered = true;
        this.queue.unshift(entry!);
      } else if (triggered) {
        this.queue[0]!.triggered = true;
      }
      return;
    }
    if (!triggered && this.chosen && pair.priority <= this.chosen.priority) return;
    if (this.queue.length >= MAX_QUEUED_CHECKS) {
      this.refused.queued++;
      return;
    }
    const entry = { pair, triggered };
    if (triggered) this.queue.unshift(entry);
    else this.queue.push(entry);
  }

  /** Starts a check on `pair`: a Binding request (the driver signs it with the other side's password). */
  private check(pair: Pair, purpose: CheckPurpose, nowMs: number): void {
    if (!this.offered) return;
    if (purpose === 'nominate' && [...this.transactions.values()].some((t) => t.pair === pair && t.purpose === 'nominate')) return;
    const ordinary = purpose === 'ordinary' || purpose === 'triggered';
    if (this.transactions.size >= MAX_PENDING_CHECKS) {
      this.refused.pending++;
      // Not checked: a failed pair is checked again later (a waiting one might never be).
      if (ordinary) pair.state = 'failed';
      return;
    }
    if (ordinary) pair.state = 'in-progress';
    const transactionId = this.random.bytes(12);
    const transaction: Transaction = { transactionId, pair, purpose, startedMs: nowMs, attempt: 0, nextRtoMs: RTO_MS, dueMs: 0, order: 0 };
    this.transactions.set(toHex(transactionId), transaction);
    this.transmit(transaction, nowMs);
  }

  private transmit(transaction: Transaction, nowMs: number): void {
    transaction.attempt++;
    const { pair } = transaction;
    this.out.push({
      kind: 'check',
      transactionId: transaction.transactionId,
      local: pair.local,
      to: pair.remote.address,
      // The controlling side's consent checks nominate again: a controlled side that lost the
      // pair on its own (its consent checks lost, ours answered) comes back to it; without
      // this it stayed without a path (or on another pair) while we used this one.
      useCandidate: transaction.purpose === 'nominate' || (transaction.purpose === 'consent' && this.controlling),
      purpose: transaction.purpose,
      attempt: transaction.attempt,
    });
    transaction.dueMs = nowMs + transaction.nextRtoMs;
    transaction.order = this.nextOrder++;
    transaction.nextRtoMs *= 2;
  }

  private retransmitOrGiveUp(id: string, transaction: Transaction, nowMs: number): void {
    const attempts = transaction.purpose === 'consent' ? 1 : transaction.pair.recheck ? RECHECK_ATTEMPTS : CHECK_ATTEMPTS;
    if (transaction.attempt < attempts) return this.transmit(transaction, nowMs);
    this.transactions.delete(id);
    const { pair, purpose } = transaction;
    if ((purpose === 'ordinary' || purpose === 'triggered') && pair.state === 'in-progress') pair.state = 'failed';
    if (purpose === 'consent') this.consentAnswered(pair, false, nowMs);
  }

  /** Controlling side: after the first success, wait a little for better pairs, then nominate the best that works. */
  private considerNomination(nowMs: number): void {
    // Planned again when the best working pair changes: a better pair may shorten the wait (or end it).
    const best = this.bestValid();
    if (!best || (this.nomination && this.plannedFor === best)) return;
    this.nomination = null;
    this.plannedFor = best;
    if (this.chosen && best.priority <= this.chosen.priority) return;
    // Nothing better is still being checked: nominate at once.
    const better = this.pairs.some((p) => p.priority > best.priority && (p.state === 'waiting' || p.state === 'in-progress'));
    const relayed = best.local.type === 'relay' || best.remote.type === 'relay';
    const waitMs = !better ? 0 : relayed && !this.urgent ? Math.max(RELAY_WAIT_MS, 4 * best.rttMs) : Math.max(NOMINATION_WAIT_MS, 2 * best.rttMs);
    this.nomination = this.timer(nowMs + waitMs);
  }

  private nominate(nowMs: number): void {
    this.nomination = null;
    const best = this.bestValid();
    if (best && (!this.chosen || best.priority > this.chosen.priority)) this.check(best, 'nominate', nowMs);
  }

  private bestValid(): Pair | null {
    return this.pairs.find((p) => p.state === 'succeeded') ?? null;
  }

  private select(pair: Pair, nowMs: number): void {
    if (this.chosen === pair) return;
    this.chosen = pair;
    // One nomination stands: a late answer on a pair nominated before must not take the
    // controlled side back to it (it did: the two sides then stayed on different pairs).
    for (const other of this.pairs) if (other !== pair) other.nominated = false;
    this.consentFailures = 0;
    // Pairs no better than the chosen one are not checked on our initiative any more (RFC 8445
    // section 8.1.2): they wait for the path to die (then everything is checked again).
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const entry = this.queue[i]!;
      if (!entry.triggered && entry.pair.priority <= pair.priority) this.queue.splice(i, 1);
    }
    this.consentTicks = 0;
    this.consent = this.timer(nowMs + CONSENT_INTERVAL_MS);
    this.out.push({ kind: 'selected', path: this.describe(pair, nowMs) });
  }

  private describe(pair: Pair, nowMs: number): SelectedPath {
    return { kind: pathKind(pair.local, pair.remote, this.locals, this.offered ?? []), local: pair.local, remote: pair.remote, setupMs: nowMs - this.startedMs, rttMs: pair.rttMs };
  }

  /** Consent: the chosen pair is checked every second; better pairs that failed are checked again every RECHECK_EVERY_TICKS. */
  private consentTick(nowMs: number): void {
    const pair = this.chosen;
    if (!pair) {
      this.consent = null;
      return;
    }
    // Keep checking: a better path may work now (a relay is a fallback, not a home).
    if (++this.consentTicks % RECHECK_EVERY_TICKS === 0) {
      for (const better of this.pairs) {
        if (better.priority <= pair.priority) break;
        if (better.state === 'failed') {
          better.state = 'waiting';
          better.recheck = true;
          this.enqueue(better, false);
        }
      }
    }
    this.check(pair, 'consent', nowMs);
    this.consent = this.timer(nowMs + CONSENT_INTERVAL_MS);
  }

  private consentAnswered(pair: Pair, ok: boolean, nowMs: number): void {
    if (this.chosen !== pair) return;
    this.consentFailures = ok ? 0 : this.consentFailures + 1;
    if (this.consentFailures >= CONSENT_FAILURES) this.pathDied(pair, nowMs);
  }

  /** The chosen pair stopped answering: fall back to the next pair that works, and check everything again. */
  private pathDied(pair: Pair, nowMs: number): void {
    pair.state = 'failed';
    pair.nominated = false;
    this.chosen = null;
    this.consent = null;
    const fallback = this.bestValid();
    if (!fallback) this.out.push({ kind: 'lost' });
    else if (this.controlling) this.check(fallback, 'nominate', nowMs);
    // Everything else is checked again: the failed path may come back, or another may work now.
    for (const p of this.pairs) {
      if (p === fallback || p.state === 'in-progress') continue;
      p.state = 'waiting';
      p.recheck = true;
      this.enqueue(p, false);
    }
    // The controlled side moves at once (the controlling side's nomination may follow).
    if (fallback && !this.controlling) this.select(fallback, nowMs);
  }

  private timer(atMs: number): Timer {
    return { atMs, order: this.nextOrder++ };
  }

  /** The first thing due: timers at the same millisecond in the order they were set. */
  private earliest(): Due | null {
    const all: Due[] = [];
    if (this.queue.length > 0) all.push({ kind: 'pace', timer: this.pace });
    if (this.nomination) all.push({ kind: 'nominate', timer: this.nomination });
    if (this.consent) all.push({ kind: 'consent', timer: this.consent });
    for (const [id, t] of this.transactions) all.push({ kind: 'transaction', id, timer: { atMs: t.dueMs, order: t.order } });
    let first: Due | null = null;
    for (const due of all) {
      if (!first || due.timer.atMs < first.timer.atMs || (due.timer.atMs === first.timer.atMs && due.timer.order < first.timer.order)) first = due;
    }
    return first;
  }

  /** Runs everything due by `nowMs` (each step moves its timer forward or ends it), then hands over the outputs. */
  private finish(nowMs: number): CheckListOutput[] {
    for (;;) {
      const due = this.earliest();
      if (!due || due.timer.atMs > nowMs) break;
      if (due.kind === 'pace') {
        const next = this.queue.shift()!;
        this.check(next.pair, next.triggered ? 'triggered' : 'ordinary', nowMs);
        this.pace = this.timer(nowMs + PACE_MS);
      } else if (due.kind === 'nominate') {
        this.nominate(nowMs);
      } else if (due.kind === 'consent') {
        this.consentTick(nowMs);
      } else {
        this.retransmitOrGiveUp(due.id, this.transactions.get(due.id)!, nowMs);
      }
    }
    const out = this.out;
    this.out = [];
    return out;
  }
}
