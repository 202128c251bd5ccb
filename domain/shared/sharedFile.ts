import { randomBytes } from 'node:crypto';
import { link, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

/*
 * A file in DATA_DIR that every node started on it must agree on (the development JWT key ring, the development VAPID
 * key pair): whoever creates it first decides its contents, and every other node reads that one instead of its own.
 */

/** How long a file that is present but unreadable is waited for before start-up gives up on it. */
const UNREADABLE_ATTEMPTS = 40;
const UNREADABLE_RETRY_MS = 50;

/**
 * Reads `file`, or creates it with `generate()` when it is missing. `parse` answers null for contents that are not
 * (yet) valid: a node that cannot publish atomically may still be writing it, so it is read again for a while before
 * `unreadable` (the message to start-up with) is thrown.
 */
export async function loadOrCreateSharedFile<T>(
  file: string,
  options: { parse: (text: string) => T | null; generate: () => T; unreadable: string },
): Promise<{ value: T; created: boolean }> {
  let unreadable = 0;
  for (;;) {
    const found = await readShared(file, options.parse);
    if (found !== 'missing' && found !== 'unreadable') return { value: found, created: false };
    if (found === 'missing') {
      const value = options.generate();
      if (await createExclusively(file, JSON.stringify(value, null, 2))) return { value, created: true };
      continue; // another node published its own first: read and use that one
    }
    if (++unreadable >= UNREADABLE_ATTEMPTS) throw new Error(options.unreadable);
    await new Promise((resolve) => setTimeout(resolve, UNREADABLE_RETRY_MS));
  }
}

async function readShared<T>(file: string, parse: (text: string) => T | null): Promise<T | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  try {
    return parse(text) ?? 'unreadable';
  } catch {
    return 'unreadable'; // not JSON (yet)
  }
}

/** Filesystems without hard links answer link() with one of these. */
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Creates `file` with `contents` (mode 0600) unless it already exists; false when it does. The complete contents are
 * written to a private temporary file first and then hard-linked to the final name, so a reader never sees a partly
 * written file and exactly one of several racing creators wins (link fails with EEXIST for the others).
 */
async function createExclusively(file: string, contents: string): Promise<boolean> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeNewFile(temp, contents);
    try {
      await link(temp, file);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') return false;
      if (!LINK_UNSUPPORTED.has(code)) throw err;
    }
    // No hard links here: create the final name directly. Still exclusive; readers retry while it is being written.
    try {
      await writeNewFile(file, contents);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  } finally {
    await rm(temp, { force: true });
  }
}

/** Creates `file` (failing with EEXIST if it exists) and writes it through to disk; removes it again if writing fails. */
async function writeNewFile(file: string, contents: string): Promise<void> {
  const handle = await open(file, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(contents, 'utf8');
      // On disk before it gets its final name, so a crash cannot leave an empty file behind.
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
}
