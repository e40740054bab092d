// Saving audio parts, as client/demo/saving.js does: a part that does not fit says so on the
// indicator (through the Zustand store's `storageFull`), and TTS goes on.
import { useStudio } from './studio';
import { errorText, get, statusLine, store } from './ui';

/** Stores a part; resolves whether it was stored. TTS never waits on a full disk. */
export async function storeChunk(id: string, index: number, bytes: ArrayBuffer): Promise<boolean> {
  try {
    // Through the Zustand store: the part waits for its take's text, voice and params.
    const result = await useStudio.recovery.appendPart(index, bytes, { id });
    const { storageFull } = get();
    if (result.stored && !result.evicted.length && storageFull) useStudio.setState({ storageFull: null });
    if (!result.stored && !storageFull) {
      useStudio.setState({ storageFull: 'this audio part is not saved on this device. TTS goes on.' });
    }
    return result.stored;
  } catch (e) {
    // No store at all (recovery off, or it did not open: the indicator says so) is no news per part.
    if (store()) statusLine.set(`Audio part not saved: ${errorText(e)}`);
    return false;
  }
}
