import { Profiler, type ProfilerOnRenderCallback, type ReactNode } from 'react';

declare global {
  interface Window {
    /** Set by a measuring harness (scripts/renders.mjs): each commit of a measured part. */
    __reactRenders?: { id: string; phase: string; at: number }[];
  }
}

const record: ProfilerOnRenderCallback = (id, phase, _actual, _base, _start, commitTime) => {
  window.__reactRenders?.push({ id, phase, at: commitTime });
};

/**
 * A part of the page whose renders a harness can count. React calls `onRender` only in a
 * profiling build (`vite build --mode profiling`); in the shipped build this costs nothing.
 */
export function Measured({ id, children }: { id: string; children: ReactNode }) {
  return <Profiler id={id} onRender={record}>{children}</Profiler>;
}
