// `import '@chatterbox/recovery-client/react.css'` is a side-effect import of a stylesheet: the
// `types` condition of the `./react.css` export points here, so TypeScript resolves it (and
// `noUncheckedSideEffectImports` passes) without an app-wide `declare module '*.css'` such as
// `vite/client`'s. Bundlers ignore the `types` condition and load the CSS.
export {};
