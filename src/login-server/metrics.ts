// The login server's Prometheus metrics, in a registry of its own per server (two servers in
// one process, as in tests or replicas side by side, count apart). Label values come from our
// own code — route patterns, error codes, throttle scopes — never from what a client sent, so
// the number of series stays bounded.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type LoginKind = 'password' | 'device';

export class LoginMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'parley_login_http_requests_total',
    help: 'HTTP requests answered, by route pattern (no_route when none matched), method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'parley_login_http_request_duration_seconds',
    help: 'Time from request to response, by route pattern.',
    labelNames: ['route'] as const,
    // Most answers take milliseconds; a password check (scrypt) some tens of them.
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly logins = new Counter({
    name: 'parley_login_logins_total',
    help: 'Login attempts by kind (password: first login on a device; device: challenge signed by the device key) and result (ok or the refusal code).',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });

  readonly registrations = new Counter({
    name: 'parley_login_registrations_total',
    help: 'Account registrations by result (ok or the refusal code).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly certificatesIssued = new Counter({
    name: 'parley_login_certificates_issued_total',
    help: 'Certificates signed by the network CA, by role (device at each login, supernode for a promoted device).',
    labelNames: ['role'] as const,
    registers: [this.registry],
  });

  readonly throttleRefusals = new Counter({
    name: 'parley_login_throttle_refusals_total',
    help: 'Requests refused with 429 because a throttle was locked, by scope (login-ip, login-account-ip, login-account, challenge-ip, register-ip, search-ip, enrol-ip).',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });

  readonly hashRefusals = new Counter({
    name: 'parley_login_hash_refusals_total',
    help: 'Password hashes refused with 503 because the hash queue was full (queue_full) or held its fair share for the source address (source_busy).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly hashesRunning = new Gauge({
    name: 'parley_login_hashes_running',
    help: 'Password hashes running now (bounded by the hash queue).',
    registers: [this.registry],
  });

  readonly hashesWaiting = new Gauge({
    name: 'parley_login_hashes_waiting',
    help: 'Password hashes waiting in the hash queue now.',
    registers: [this.registry],
  });

  readonly offlineStored = new Counter({
    name: 'parley_login_offline_messages_stored_total',
    help: 'Offline messages (sealed) stored for a device.',
    registers: [this.registry],
  });

  readonly offlineDelivered = new Counter({
    name: 'parley_login_offline_messages_delivered_total',
    help: 'Offline messages the recipient device acknowledged (and so were deleted).',
    registers: [this.registry],
  });

  // Refusals of what a peer asks us to keep for someone else (issue 19): the reason is our own
  // error code, so the series stay few.
  readonly offlineRefused = new Counter({
    name: 'parley_login_offline_messages_refused_total',
    help: "Offline messages refused, by reason: quota_exceeded (the device's store is full), sender_share_exceeded (this sender's share of it), strangers_share_exceeded (the share of all senders who are not the recipient's buddies).",
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly buddyRequestsRefused = new Counter({
    name: 'parley_login_buddy_requests_refused_total',
    help: 'Buddy requests refused, by reason: too_many_requests (the recipient has too many pending), too_many_outgoing_requests (the sender has), already_requested.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
}
