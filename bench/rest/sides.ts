/**
 * The three servers `npm run bench` measures, each startable in this process or in a child process of its own
 * (bench/rest/sideProcess.ts), so the load generator can be kept off the servers' thread.
 */
import { fork } from 'node:child_process';
import pino from 'pino';
import { parseEnv } from '../../server/env.ts';
import { createNode } from '../../server/node.ts';
import { startBaselineServer, startKoaPgBaseline, type BenchServer } from '../baselineServer.ts';

export type SideSpec =
  | { kind: 'floor'; body: unknown }
  | { kind: 'koa-pg'; databaseUrl: string; jwtSecret: string; poolMax: number }
  | { kind: 'edulure'; databaseUrl: string; jwtKey: { kid: string; secret: string } };

export async function startSide(spec: SideSpec): Promise<BenchServer> {
  switch (spec.kind) {
    case 'floor':
      return startBaselineServer(spec.body);
    case 'koa-pg':
      return startKoaPgBaseline(spec);
    case 'edulure':
      return startEdulure(spec.databaseUrl, spec.jwtKey);
  }
}

/** One Edulure node as production runs it (no Redis: in-memory revocations and rate limits), logging off. */
async function startEdulure(databaseUrl: string, jwtKey: { kid: string; secret: string }): Promise<BenchServer> {
  const parsed = parseEnv({ NODE_ENV: 'production', LOG_LEVEL: 'silent', RATE_LIMIT_AUTH_PER_MINUTE: '1000000' });
  if (!('env' in parsed)) throw new Error('bad bench env');
  const node = await createNode({
    env: parsed.env,
    databaseUrl,
    jwtKeys: [jwtKey],
    publicUrl: 'http://localhost',
    allowedOrigins: [],
    logger: pino({ level: 'silent' }),
  });
  const port = await node.listen(0, '127.0.0.1');
  return { url: `http://127.0.0.1:${port}`, close: () => node.close() };
}

/** Starts `spec` in a child process; close() stops the server and waits for the child to exit. */
export async function startSideProcess(spec: SideSpec): Promise<BenchServer> {
  const child = fork(new URL('./sideProcess.ts', import.meta.url), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`bench side ${spec.kind} exited with ${code} before listening`)));
    child.send(spec);
  });
  return {
    url,
    close: async () => {
      child.send('close');
      await exited;
    },
  };
}
