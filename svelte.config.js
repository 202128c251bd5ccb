import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    // The product keeps its web client under web/; the server, API and realtime layers live beside it.
    files: {
      src: 'web/src',
      assets: 'web/static',
      lib: 'web/src/lib',
      routes: 'web/src/routes',
      appTemplate: 'web/src/app.html',
      errorTemplate: 'web/src/error.html',
      hooks: {
        server: 'web/src/hooks.server',
        client: 'web/src/hooks.client',
        universal: 'web/src/hooks',
      },
      params: 'web/src/params',
      serviceWorker: 'web/src/service-worker',
    },
    // server/main.ts mounts the adapter-node handler behind Koa and Socket.IO on one port. Precompressed .br/.gz
    // files are served as they are (server/webDelivery.ts compresses pages and anything else as it goes).
    adapter: adapter({ out: 'build', precompress: true }),
    alias: {
      $contracts: 'contracts',
    },
    csrf: { trustedOrigins: [] },
    // The service worker only shows web pushes: it is registered when someone turns desktop notifications on
    // (components/push), not on every visit.
    serviceWorker: { register: false },
  },
};

export default config;
