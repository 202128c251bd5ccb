/**
 * `npm start`: builds the web app when the build is missing or older than its sources, then runs the server.
 * The build is skipped when nothing changed, so restarts are quick.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const handler = path.join(root, 'build', 'handler.js');

function newestMtime(entry: string): number {
  const full = path.join(root, entry);
  if (!existsSync(full)) return 0;
  const stat = statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const child of readdirSync(full)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

const sources = ['web', 'contracts', 'svelte.config.js', 'vite.config.ts', 'package-lock.json'];
const built = existsSync(handler) ? statSync(handler).mtimeMs : 0;
if (built < Math.max(...sources.map(newestMtime))) {
  process.stdout.write('Building the web app (first start or sources changed)…\n');
  const result = spawnSync(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    process.stderr.write('The web build failed; see above.\n');
    process.exit(result.status ?? 1);
  }
}

await import('../server/main.ts');
