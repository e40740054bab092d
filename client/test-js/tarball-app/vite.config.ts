import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vite';

// index.html: the app as a new user writes it. host-css.html: the components under a host's
// Tailwind v4 preflight and dark theme (host-css.check.mjs).
export default defineConfig({
  plugins: [tailwindcss()],
  build: { rollupOptions: { input: ['index.html', 'host-css.html'] } },
});
