// Building requests' companions: a response to a request (RFC 3261 section 8.2.6: Via, From,
// Call-ID and CSeq copied, To copied with our tag added when it has none) and the ACK a client
// transaction sends for a non-2xx final response to an INVITE (section 17.1.1.3).
import { firstHeader, headerValues, type SipHeader, type SipRequest, type SipResponse } from './message.js';

/** A response to `request`; `toTag` is added to To unless To has a tag already (never on 100 Trying). */
export function responseTo(request: SipRequest, status: number, reason: string, options: { toTag?: string; headers?: readonly SipHeader[]; body?: Uint8Array } = {}): SipResponse {
  const headers: SipHeader[] = [];
  for (const header of request.headers) {
    if (header.name === 'via' || header.name === 'from' || header.name === 'call-id' || header.name === 'cseq' || (header.name === 'record-route' && status > 100 && status < 300)) headers.push(header);
    else if (header.name === 'to') {
      const needsTag = options.toTag !== undefined && status !== 100 && !/;\s*tag=/i.test(header.value);
      headers.push({ name: 'to', value: needsTag ? `${header.value};tag=${options.toTag}` : header.value });
    }
  }
  headers.push(...(options.headers ?? []));
  return { kind: 'response', status, reason, headers, body: options.body ?? new Uint8Array(0) };
}

/** The ACK for a 300-699 response to `invite`: same branch, the response's To (with its tag). */
export function ackFor(invite: SipRequest, response: SipResponse): SipRequest {
  const headers: SipHeader[] = [];
  const topVia = headerValues(invite, 'via')[0];
  if (topVia !== undefined) headers.push({ name: 'via', value: topVia });
  for (const route of headerValues(invite, 'route')) headers.push({ name: 'route', value: route });
  const from = firstHeader(invite, 'from');
  const callId = firstHeader(invite, 'call-id');
  const to = firstHeader(response, 'to');
  const cseq = firstHeader(invite, 'cseq');
  if (from !== null) headers.push({ name: 'from', value: from });
  if (to !== null) headers.push({ name: 'to', value: to });
  if (callId !== null) headers.push({ name: 'call-id', value: callId });
  if (cseq !== null) headers.push({ name: 'cseq', value: `${cseq.split(/\s+/)[0]} ACK` });
  headers.push({ name: 'max-forwards', value: '70' });
  return { kind: 'request', method: 'ACK', uri: invite.uri, headers, body: new Uint8Array(0) };
}
