import { defineConfig } from 'vitest/config';

// The app is served by the local gateway at /react/. The package is linked from ../.. (file:),
// so keep the link's path: React and Zustand then resolve from this app, once.
// `--mode profiling` builds the same app on React's profiling build into dist-profiling/
// (served at /react-profiling/), for scripts/renders.mjs.
export default defineConfig(({ mode }) => ({
  base: mode === 'profiling' ? '/react-profiling/' : '/react/',
  resolve: {
    preserveSymlinks: true,
    dedupe: ['react', 'react-dom', 'zustand'],
    alias: mode === 'profiling' ? [{ find: /^react-dom\/client$/, replacement: 'react-dom/profiling' }] : [],
  },
  build: { outDir: mode === 'profiling' ? 'dist-profiling' : 'dist', emptyOutDir: true, target: 'es2022' },
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    environment: 'node',
    // Through Vite, not Node: the linked package's imports of React then resolve from here.
    server: { deps: { inline: ['@chatterbox/recovery-client'] } },
  },
}));
