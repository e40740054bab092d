import { useSyncExternalStore, type ChangeEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { firstMissing } from './audio';
import { generate, initialEndpoint, setEndpoint } from './generate';
import { statusLine } from './ui';
import { sameContent, useStudio, VOICES, type Settings } from './studio';

const SLIDERS = [
  { key: 'exaggeration', label: 'Exaggeration', testid: 'tts-exaggeration', min: 0.25, max: 2 },
  { key: 'cfgWeight', label: 'CFG weight', testid: 'tts-cfg-weight', min: 0, max: 1 },
  { key: 'temperature', label: 'Temperature', testid: 'tts-temperature', min: 0.05, max: 5 },
] as const satisfies readonly { key: keyof Settings; label: string; testid: string; min: number; max: number }[];

/** "Generate", or "Resume from part N" when the editor shows a take with parts missing. */
function useGenerateLabel(): { label: string; busy: boolean } {
  return useStudio(
    useShallow((s) => {
      const take = s.takes.get(s.sessionId);
      const resumable = take && take.chunks.size < take.parts && sameContent(take, s);
      return {
        busy: s.generating !== null,
        label: s.generating ? 'Generating…' : resumable ? `Resume from part ${firstMissing(take) + 1}` : 'Generate',
      };
    }),
  );
}

export function Editor() {
  const { text, voiceId, settings, edit, newSession } = useStudio(
    useShallow((s) => ({ text: s.text, voiceId: s.voiceId, settings: s.settings, edit: s.edit, newSession: s.newSession })),
  );
  const { label, busy } = useGenerateLabel();
  const status = useSyncExternalStore(statusLine.subscribe, statusLine.get);
  const setting = (key: keyof Settings) => (e: ChangeEvent<HTMLInputElement>) =>
    edit({ settings: { ...settings, [key]: Number(e.target.value) } });

  return (
    <section className="panel editor" aria-labelledby="editor-title">
      <h2 id="editor-title">Text to speech</h2>
      <label className="field">
        <span>Text</span>
        <textarea
          data-testid="tts-text"
          rows={7}
          placeholder="Type or paste the text to speak. Long text is generated sentence by sentence."
          value={text}
          onChange={(e) => edit({ text: e.target.value })}
        />
      </label>
      <div className="row">
        <label className="field">
          <span>Voice</span>
          <select data-testid="tts-voice" value={voiceId} onChange={(e) => edit({ voiceId: e.target.value })}>
            {VOICES.map((v) => <option key={v.id} value={v.id}>{v.name}</option>)}
          </select>
        </label>
        <label className="field">
          <span>Seed</span>
          <input
            type="number"
            data-testid="tts-seed"
            name="seed"
            min={0}
            max={4294967295}
            step={1}
            value={settings.seed}
            onChange={(e) => edit({ settings: { ...settings, seed: Math.max(0, Math.trunc(Number(e.target.value) || 0)) } })}
          />
        </label>
      </div>
      <div className="params">
        {SLIDERS.map(({ key, label: name, testid, min, max }) => (
          <label className="field slider" key={key}>
            <span>{name} <output>{settings[key].toFixed(2)}</output></span>
            <input type="range" data-testid={testid} name={key} min={min} max={max} step={0.05} value={settings[key]} onChange={setting(key)} />
          </label>
        ))}
      </div>
      <div className="actions">
        <button type="button" className="primary" data-testid="tts-generate" disabled={busy} onClick={() => void generate()}>
          {label}
        </button>
        <button type="button" data-testid="tts-new" onClick={newSession}>New text</button>
        <span className="generation" data-testid="tts-status" aria-live="polite">{status}</span>
      </div>
      <details className="endpoint">
        <summary>TTS endpoint</summary>
        <label className="field">
          <span>OpenAI-compatible <code>POST /v1/audio/speech</code> URL</span>
          <input type="url" data-testid="tts-endpoint" spellCheck={false} defaultValue={initialEndpoint} onChange={(e) => setEndpoint(e.target.value)} />
        </label>
      </details>
    </section>
  );
}
