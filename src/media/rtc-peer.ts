// What Parley asks of a WebRTC stack (ICE, DTLS-SRTP, SDP offer/answer, Opus, SCTP data
// channels): one peer connection with an audio track each way and data channels, as narrow as a
// call needs. The stack itself (libwebrtc through @roamhq/wrtc: wrtc-peer.ts) is injected, so the
// protocol around it (client/webrtc-session.ts: signed descriptions, who may connect) is tested
// with any implementation, and a browser's RTCPeerConnection fits the same shape.

/** A STUN or TURN server as RTCPeerConnection takes it (RFC 7064/7065 URIs). */
export interface RtcIceServer {
  readonly urls: readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

export interface RtcPeerOptions {
  readonly iceServers: readonly RtcIceServer[];
  /** `relay`: relayed candidates only (no host address leaves the device). Default `all`. */
  readonly iceTransportPolicy?: 'all' | 'relay';
}

export type RtcConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export type RtcDescriptionType = 'offer' | 'answer';

/** Audio frames of 10 ms, 48 kHz mono, 16-bit: what a peer sends and hands back once decoded. */
export const RTC_AUDIO_RATE = 48_000;
export const RTC_AUDIO_FRAME_SAMPLES = 480;

/** Our audio track: frames written here are encoded (Opus) and sent. */
export interface RtcAudioInput {
  /** One 10 ms frame (RTC_AUDIO_FRAME_SAMPLES samples at RTC_AUDIO_RATE). */
  write(samples: Int16Array): void;
}

export interface RtcDataChannel {
  readonly label: string;
  readonly open: boolean;
  send(data: string | Uint8Array): void;
  /** Returns the removal. */
  onOpen(listener: () => void): () => void;
  onMessage(listener: (data: string | Uint8Array) => void): () => void;
  close(): void;
}

/** The kinds of the two candidates a connected peer's ICE chose ('host', 'srflx', 'prflx', 'relay'). */
export interface RtcSelectedPair {
  readonly local: string;
  readonly remote: string;
}

export interface RtcPeer {
  /** Adds an audio track to send; call before describing the offer or the answer. */
  addAudio(): RtcAudioInput;
  /** The other side's audio, decoded, in frames of `sampleRate` (10 ms each). Returns the removal. */
  onAudio(listener: (samples: Int16Array, sampleRate: number) => void): () => void;
  /** A data channel this side opens (negotiated in the offer when made before it). */
  createChannel(label: string): RtcDataChannel;
  /** Channels the other side opened. Returns the removal. */
  onChannel(listener: (channel: RtcDataChannel) => void): () => void;
  /**
   * Creates an offer (or, after a remote offer, the answer), sets it as the local description,
   * and resolves with its SDP once ICE gathering completed or `gatherTimeoutMs` passed, whichever
   * is first (candidates travel in the SDP: no trickle).
   */
  describe(type: RtcDescriptionType, gatherTimeoutMs: number): Promise<string>;
  /** Applies the other side's description; rejects when the stack refuses it. */
  applyRemote(type: RtcDescriptionType, sdp: string): Promise<void>;
  readonly connectionState: RtcConnectionState;
  /** Returns the removal. */
  onConnectionState(listener: (state: RtcConnectionState) => void): () => void;
  /** The candidate pair in use, once connected. */
  selectedPair(): Promise<RtcSelectedPair | null>;
  close(): void;
}

export interface RtcStack {
  createPeer(options: RtcPeerOptions): RtcPeer;
}
