import { defineConfig } from 'vitest/config';

// The app is served by the local gateway at /react/. The package is linked from ../.. (file:),
// so keep the link's path: React and Zustand then resolve from this app, once.
export default defineConfig({
  base: '/react/',
  resolve: { preserveSymlinks: true, dedupe: ['react', 'react-dom', 'zustand'] },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    environment: 'node',
    // Through Vite, not Node: the linked package's imports of React then resolve from here.
    server: { deps: { inline: ['@chatterbox/recovery-client'] } },
  },
});
