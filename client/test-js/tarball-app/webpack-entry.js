// The package as a webpack 5 app uses it, with no configuration for the wasm (webpack-check.mjs):
// open a store, save a session, read it back, report on the page.
import { openRecoveryStore } from '@chatterbox/recovery-client';

const out = document.getElementById('out');
try {
  const store = await openRecoveryStore({ dbName: `webpack-${Date.now()}`, listenPageEvents: false });
  await store.save({ id: 's1', text: 'bundled by webpack', params: { seed: 1 } });
  const restored = await store.restore('s1');
  out.dataset.result = restored?.text === 'bundled by webpack' ? 'ok' : `wrong: ${JSON.stringify(restored)}`;
  await store.close();
} catch (e) {
  out.dataset.result = `failed: ${e instanceof Error ? e.message : e}`;
}
