// Parts of the call panel that change many times a second or on their own clock: the call's
// time and the two level meters. Each re-renders alone, not the whole app.
import { useEffect, useState } from 'preact/hooks';
import type { AudioEngine, AudioLevels } from './audio.js';

/** The meters show -60 dBFS (near silence) to 0 dBFS (full scale) as 0 to 1. */
const METER_FLOOR_DB = -60;

/** mm:ss (h:mm:ss from an hour) since `sinceMs`. */
export function formatCallTime(elapsedMs: number): string {
  const total = Math.max(0, Math.floor(elapsedMs / 1000));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

/** The call's time since it was answered, ticking each second. */
export function CallTimer({ sinceMs }: { sinceMs: number }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1_000);
    return () => window.clearInterval(timer);
  }, []);
  return (
    <span class="timer" role="timer" aria-label="Call time">
      {formatCallTime(now - sinceMs)}
    </span>
  );
}

/** An RMS level (full scale 1) on the meter's 0–1 scale. */
function meterValue(rms: number): number {
  if (rms <= 0) return 0;
  return Math.min(1, Math.max(0, (20 * Math.log10(rms) - METER_FLOOR_DB) / -METER_FLOOR_DB));
}

/** The microphone's level (what this side says) and the speaker's (what the other side says). */
export function LevelMeters({ engine, peer }: { engine: AudioEngine; peer: string }) {
  const [levels, setLevels] = useState<AudioLevels>({ input: 0, output: 0 });
  useEffect(() => engine.onLevels(setLevels), [engine]);
  return (
    <div class="levels">
      <label for="level-in">Your voice</label>
      <meter id="level-in" min={0} max={1} value={meterValue(levels.input)} />
      <label for="level-out">{peer}'s voice</label>
      <meter id="level-out" min={0} max={1} value={meterValue(levels.output)} />
    </div>
  );
}
