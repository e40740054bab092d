import { recoveryHintScript } from '@chatterbox/recovery-client/hint';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vitest/config';

/**
 * Preloads the recovery client's .wasm from the HTML, as the plain demo does: its download then
 * overlaps the app's script instead of starting once that has run, so the recovery check (and
 * its banner) comes sooner.
 */
function preloadWasm(base: string): Plugin {
  return {
    name: 'preload-recovery-wasm',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const wasm = Object.keys(ctx.bundle ?? {}).find((file) => file.endsWith('.wasm'));
        if (!wasm) return [];
        const attrs = { rel: 'preload', href: `${base}${wasm}`, as: 'fetch', type: 'application/wasm', crossorigin: '' };
        return [{ tag: 'link', attrs, injectTo: 'head' }];
      },
    },
  };
}

/**
 * Puts the start-up hint (@chatterbox/recovery-client/hint) at the top of <head> as a classic
 * inline script: every browser runs it before its first paint, so the recovery banner is in it.
 * A module script would not do: the build folds it into the app's bundle, which is deferred.
 */
function firstPaintHint(): Plugin {
  return {
    name: 'recovery-first-paint-hint',
    transformIndexHtml: () => [{ tag: 'script', children: recoveryHintScript(), injectTo: 'head-prepend' }],
  };
}

// The app is served by the local gateway at /react/. The package is linked from ../.. (file:),
// so keep the link's path: React and Zustand then resolve from this app, once.
// `--mode profiling` builds the same app on React's profiling build into dist-profiling/
// (served at /react-profiling/), for scripts/renders.mjs.
export default defineConfig(({ mode }) => {
  const profiling = mode === 'profiling';
  const base = profiling ? '/react-profiling/' : '/react/';
  return {
    base,
    // React Fast Refresh in development (the build needs only the JSX transform).
    plugins: [react(), preloadWasm(base), firstPaintHint()],
    resolve: {
      preserveSymlinks: true,
      dedupe: ['react', 'react-dom', 'zustand'],
      alias: profiling ? [{ find: /^react-dom\/client$/, replacement: 'react-dom/profiling' }] : [],
    },
    build: { outDir: profiling ? 'dist-profiling' : 'dist', emptyOutDir: true, target: 'es2022' },
    test: {
      include: ['test/**/*.test.{ts,tsx}'],
      environment: 'node',
      // Through Vite, not Node: the linked package's imports of React then resolve from here.
      server: { deps: { inline: ['@chatterbox/recovery-client'] } },
    },
  };
});
