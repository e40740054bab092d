// Restoring or dismissing a crashed session, as client/demo/recovery.js does (the banner and the
// modal are the package's components, in App.tsx).
import { emit } from './announce';
import { showChunks } from './audio';
import { useStudio } from './studio';
import { errorText, get, statusLine } from './ui';

export async function restore(id: string): Promise<void> {
  try {
    const session = await get().recovery.restore(id);
    if (session) {
      const chunks = await showChunks(session);
      // The restored snapshot is autosaved, which claims the session for this tab.
      await useStudio.recovery.flush();
      emit('restored', { id, text: session.text, voiceId: session.voiceId, params: session.params, chunks });
    }
  } catch (e) {
    statusLine.set(`Could not restore: ${errorText(e)}`);
  }
}

export async function dismiss(id: string): Promise<void> {
  try {
    await get().recovery.dismiss(id);
    emit('dismissed', { id });
  } catch (e) {
    statusLine.set(`Could not dismiss: ${errorText(e)}`);
  }
}
