// The user's settings: those the daemon keeps (who may call, being found, serving as a
// supernode) and this browser's own (which microphone and speaker), each applied as it changes.
import { useEffect, useState } from 'preact/hooks';
import type { Api, Settings } from './api.js';
import { audioDevices, type AudioDevicePrefs } from './audio.js';

export function SettingsPanel({ api, devices, setDevices, onError, onClose }: { api: Api; devices: AudioDevicePrefs; setDevices: (d: AudioDevicePrefs) => void; onError: (e: unknown) => void; onClose: () => void }) {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [inputs, setInputs] = useState<MediaDeviceInfo[]>([]);
  const [outputs, setOutputs] = useState<MediaDeviceInfo[]>([]);
  const [network, setNetwork] = useState<{ supernode: string | null; nat: string | null } | null>(null);
  useEffect(() => {
    api.request<Settings>('GET', '/settings').then(setSettings, onError);
    api.request<{ supernode: string | null; nat: string | null }>('GET', '/status').then(setNetwork, onError);
    audioDevices().then(({ inputs, outputs }) => (setInputs(inputs), setOutputs(outputs)), () => {});
  }, []);
  const change = (patch: Partial<Settings>) => api.request<Settings>('PATCH', '/settings', patch).then(setSettings, onError);
  return (
    <section class="settings" role="dialog" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      {settings && (
        <fieldset>
          <legend>Privacy and network</legend>
          <label class="check">
            <input type="checkbox" checked={settings.discoverable} onChange={(e) => change({ discoverable: (e.target as HTMLInputElement).checked })} /> Others can find me by searching
          </label>
          <label for="calls-from">Who may call me</label>
          <select id="calls-from" value={settings.callsFrom} onChange={(e) => change({ callsFrom: (e.target as HTMLSelectElement).value as Settings['callsFrom'] })}>
            <option value="buddies">Buddies only</option>
            <option value="anyone">Anyone</option>
          </select>
          {network && (
            <p class="presence">
              Attached to the supernode {network.supernode ?? '(none yet)'}; NAT type: {network.nat ?? 'not known yet'}.
            </p>
          )}
          <label class="check">
            <input type="checkbox" checked={settings.allowSupernode} onChange={(e) => change({ allowSupernode: (e.target as HTMLInputElement).checked })} /> Let this computer help the network as a supernode when it can
          </label>
        </fieldset>
      )}
      <fieldset>
        <legend>Audio</legend>
        <DeviceSelect id="microphone" label="Microphone" devices={inputs} value={devices.microphone} onChange={(microphone) => setDevices({ ...devices, microphone })} />
        <DeviceSelect id="speaker" label="Speaker" devices={outputs} value={devices.speaker} onChange={(speaker) => setDevices({ ...devices, speaker })} />
      </fieldset>
      <button onClick={onClose}>Close settings</button>
    </section>
  );
}

/** One audio device to choose, or the system's default (null). */
function DeviceSelect({ id, label, devices, value, onChange }: { id: string; label: string; devices: MediaDeviceInfo[]; value: string | null; onChange: (deviceId: string | null) => void }) {
  return (
    <>
      <label for={id}>{label}</label>
      <select id={id} value={value ?? ''} onChange={(e) => onChange((e.target as HTMLSelectElement).value || null)}>
        <option value="">The system's default</option>
        {devices.map((d, i) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label || `${label} ${i + 1}`}
          </option>
        ))}
      </select>
    </>
  );
}
