// Keystrokes to typing indicators: "typing" at the first key, again every few seconds while keys
// keep coming (a receiver shows one for at most TYPING_STALE_MS), and "stopped" after a pause or
// when the line is sent. One indicator per pause, not one per key.
import type { Clock, Timer } from '../env/types.js';

/** Typing is said again this often while keys come; this long without a key is a pause. */
export const TYPING_REFRESH_MS = 5_000;

export class TypingSignal {
  private activeSinceMs: number | null = null;
  private lastSaidMs = 0;
  private pause: Timer | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly say: (active: boolean) => void,
  ) {}

  keystroke(): void {
    const now = this.clock.now();
    if (this.activeSinceMs === null || now - this.lastSaidMs >= TYPING_REFRESH_MS) {
      this.activeSinceMs ??= now;
      this.lastSaidMs = now;
      this.say(true);
    }
    this.pause?.cancel();
    this.pause = this.clock.after(TYPING_REFRESH_MS, () => this.stop());
  }

  /** The line was sent, or typing paused: "stopped", once. */
  stop(): void {
    this.pause?.cancel();
    this.pause = null;
    if (this.activeSinceMs === null) return;
    this.activeSinceMs = null;
    this.say(false);
  }
}
