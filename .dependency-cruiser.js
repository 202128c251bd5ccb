// @ts-check
/*
 * The dependency direction of docs/architecture.md, checked by `npm run lint`:
 *
 *   contracts ← domain ← (api | realtime) ← server
 *
 * orm sits under domain; web (web/src) reaches the server side only through contracts/. Composition and test code
 * (server/, scripts/, bench/, test/) may use anything below it. No module is part of an import cycle.
 *
 * Type-only imports count like any other: an `import type` across a boundary still couples the two sides, and cycles of
 * types are how value cycles start. One blind spot: Svelte strips TypeScript before dependency-cruiser sees a
 * component, so a `.svelte` file's type-only imports are not checked (its value imports are); the `.ts` files of web/src
 * are checked in full.
 */
import fs from 'node:fs';
import path from 'node:path';

// The root tsconfig.json extends the one SvelteKit generates, which holds the `$lib` and `$contracts` paths. Resolving
// them needs that file itself: tsconfig-paths would read the inherited paths relative to the root and miss every alias.
const svelteKitTsConfig = path.join(import.meta.dirname, '.svelte-kit', 'tsconfig.json');
if (!fs.existsSync(svelteKitTsConfig)) {
  throw new Error('.svelte-kit/tsconfig.json is missing: run `npx svelte-kit sync` first (`npm run lint` does).');
}

/** Top-level folders of the server side, as path patterns. */
const layer = (...names) => `^(${names.join('|')})/`;

/** Colocated tests (`sendMessage.test.ts`) may use the shared helpers and factories in test/; nothing else may. */
const TEST_FILE = '\\.test\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'This module is part of an import cycle. Move the piece both sides need into a small module that both import ' +
        '(see domain/communities/membership.ts, domain/classrooms/waitlist.ts). Entity files are the one exception: ' +
        'a relation both ways (a user has an avatar asset, an asset has an owner) is how the schema is, and ' +
        'defineEntity resolves relations through lazy thunks (`() => p.manyToOne(Asset)`), so the cycle is safe there.',
      from: { pathNot: '^orm/entities/' },
      to: { circular: true },
    },
    {
      name: 'contracts-stand-alone',
      severity: 'error',
      comment: 'contracts/ is client-safe and shared by every side: it imports npm packages and other contracts only.',
      from: { path: layer('contracts') },
      to: { path: layer('domain', 'orm', 'migrations', 'api', 'realtime', 'server', 'scripts', 'bench', 'web') },
    },
    {
      name: 'domain-below-transports',
      severity: 'error',
      comment:
        'domain/ holds the rules; REST, sockets and the process that composes them call into it, never the other ' +
        'way round. Reach a transport through an interface in domain/shared (e.g. the Publisher).',
      from: { path: layer('domain') },
      to: { path: layer('api', 'realtime', 'server', 'scripts', 'bench', 'web') },
    },
    {
      name: 'api-not-to-realtime',
      severity: 'error',
      comment: 'A transport never talks to another: api/ publishes through the domain Publisher, not through realtime/.',
      from: { path: layer('api') },
      to: { path: layer('realtime') },
    },
    {
      name: 'realtime-not-to-api',
      severity: 'error',
      comment: 'A transport never talks to another: realtime/ calls the domain, not api/.',
      from: { path: layer('realtime') },
      to: { path: layer('api') },
    },
    {
      name: 'orm-through-domain',
      severity: 'error',
      comment:
        'Tables are reached through domain operations. Only domain/, orm/ itself and composition or test code ' +
        '(server/, scripts/, test/, bench/) import orm/; transports, contracts and the web do not. Test files may ' +
        'arrange and inspect rows directly wherever they sit.',
      from: { pathNot: [layer('domain', 'orm', 'server', 'scripts', 'test', 'bench'), TEST_FILE] },
      to: { path: layer('orm') },
    },
    {
      name: 'orm-below-domain',
      severity: 'error',
      comment: 'Entities, the ORM config and the database helpers know nothing of the rules built on them.',
      from: { path: layer('orm'), pathNot: '^orm/seeders/' },
      to: { path: layer('domain', 'api', 'realtime', 'server', 'scripts', 'bench', 'web') },
    },
    {
      name: 'seeders-below-transports',
      severity: 'error',
      comment:
        'Seeders write demo data with the same domain helpers the product uses (password hashing, for one), but ' +
        'never through a transport or the server.',
      from: { path: '^orm/seeders/' },
      to: { path: layer('api', 'realtime', 'server', 'scripts', 'bench', 'web') },
    },
    {
      name: 'migrations-stand-alone',
      severity: 'error',
      comment: 'A migration is reviewed SQL, frozen once it lands: it must not change because application code did.',
      from: { path: layer('migrations') },
      to: { path: layer('contracts', 'domain', 'orm', 'api', 'realtime', 'server', 'scripts', 'bench', 'test', 'web') },
    },
    {
      name: 'server-is-the-top',
      severity: 'error',
      comment: 'server/ composes the process; only scripts/, bench/ and test code start it.',
      from: { pathNot: layer('server', 'scripts', 'bench', 'test') },
      to: { path: layer('server') },
    },
    {
      name: 'entry-points-not-imported',
      severity: 'error',
      comment: 'scripts/ and bench/ are entry points; shared code belongs in server/ or test/.',
      from: { pathNot: layer('scripts', 'bench') },
      to: { path: layer('scripts', 'bench') },
    },
    {
      name: 'test-helpers-only-in-tests',
      severity: 'error',
      comment:
        'test/ holds factories and helpers for tests (and the load generators in bench/); product code never ' +
        'imports them. This is the one place where tests are treated differently: they are otherwise held to the ' +
        'same direction as the code beside them. scripts/fuzz.ts (`npm run fuzz`) is the full run of the fuzz tests ' +
        'and drives a node through the same helpers.',
      from: { pathNot: [layer('test', 'bench'), '^web/e2e/', '^scripts/fuzz\\.ts$', TEST_FILE] },
      to: { path: layer('test') },
    },
    {
      name: 'no-importing-tests',
      severity: 'error',
      comment: 'A test file is run by vitest, never imported; share the helper through test/ instead.',
      from: {},
      to: { path: TEST_FILE },
    },
    {
      name: 'web-through-contracts',
      severity: 'error',
      comment:
        'The web client reaches the server side through contracts/ ($contracts) only: wire shapes, event maps, ' +
        'error codes. Anything else it needs comes over HTTP or the socket.',
      from: { path: '^web/src/' },
      to: {
        pathNot: ['^web/src/', layer('contracts'), '(^|/)node_modules/'],
        couldNotResolve: false,
        dependencyTypesNot: ['core'],
      },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment:
        'An import that does not resolve hides its edge from every rule above (an unknown alias, a missing file or ' +
        'package). SvelteKit provides $app/* and ./$types itself, so those are expected.',
      from: {},
      to: { couldNotResolve: true, pathNot: ['^\\$app/', '^\\$env/', '^\\$service-worker$', '(^|/)\\$types$'] },
    },
  ],
  options: {
    doNotFollow: { path: ['(^|/)node_modules/'] },
    // Generated and built output; node_modules is still resolved (so npm imports are recognised) but never crawled.
    exclude: { path: ['(^|/)\\.svelte-kit/', '^build/', '(^|/)\\.data/', '^bench/results/', '^coverage/'] },
    // See `import type` (and imports used only as types) as dependencies.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: svelteKitTsConfig },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
