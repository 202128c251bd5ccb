/**
 * The bare chat baseline: Socket.IO 4.8 with the same Redis adapter (@socket.io/redis-adapter over ioredis) that
 * Edulure uses, and nothing else — no auth, no validation, no persistence. `join {room}` joins a room; `send {room,
 * body}` broadcasts `msg {room, body}` to the whole room (sender included, as Edulure's io.to(room) does) and acks.
 * Started as a child process (two of them share one Redis): `node bench/chat/baselineServer.ts` with PORT and
 * REDIS_URL (and BENCH_REDIS_KEY to isolate the run).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const port = Number(process.env.PORT ?? 0);
const redisUrl = process.env.REDIS_URL;
if (!redisUrl) throw new Error('REDIS_URL is required');

const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const httpServer = http.createServer((req, res) => {
  res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'text/plain' });
  res.end(req.url === '/health' ? 'ok' : 'not found');
});
// Same engine settings as Edulure's realtime server, so the difference is the application, not the tuning.
const io = new Server(httpServer, {
  path: '/socket.io',
  maxHttpBufferSize: 64 * 1024,
  serveClient: false,
  pingInterval: 20_000,
  pingTimeout: 20_000,
  adapter: createAdapter(pub, sub, { key: process.env.BENCH_REDIS_KEY ?? 'bench-chat-baseline' }),
});

type Ack = (result: { ok: boolean }) => void;

io.on('connection', (socket) => {
  socket.on('join', async (input: { room: string }, ack?: Ack) => {
    await socket.join(input.room);
    ack?.({ ok: true });
  });
  socket.on('send', (input: { room: string; body: string }, ack?: Ack) => {
    io.to(input.room).emit('msg', { room: input.room, body: input.body });
    ack?.({ ok: true });
  });
});

httpServer.listen(port, '127.0.0.1', () => {
  process.stdout.write(`baseline listening on ${(httpServer.address() as AddressInfo).port}\n`);
});

const stop = () => {
  io.close();
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
