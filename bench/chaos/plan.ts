/**
 * The drill's clients and its message schedule. Clients as in the chat bench: rooms of `roomSize` consecutive users
 * whose members alternate between the two nodes (half of every room on each). The schedule is one seeded open-loop
 * run: warm-up at a low rate, then the steady rate until the end; node 2 dies `killAfterSeconds` into the steady part.
 */
import { seededRandom } from '../chat/stats.ts';
import type { ChaosConfig } from './config.ts';
import type { ConnSpec, ScheduledSend } from './protocol.ts';

export const NODES = 2;

export interface Plan {
  sends: ScheduledSend[];
  startAt: number;
  /** Where the steady rate begins (warm-up before it). */
  loadStartAt: number;
  /** When node 2 is to be killed. */
  killAt: number;
  /** The last scheduled send. */
  endAt: number;
}

export function buildConnections(cfg: ChaosConfig, data: { channelIds: string[]; tokens: string[] }): ConnSpec[] {
  return Array.from({ length: cfg.connections }, (_, index) => {
    const room = Math.floor(index / cfg.roomSize);
    return { index, node: index % NODES, room, position: index % cfg.roomSize, channelId: data.channelIds[room], token: data.tokens[index] };
  });
}

/** Which load process drives a connection: spread so every room has members in every process. */
export const ownerOf = (cfg: ChaosConfig, conn: number) => Math.floor(conn / NODES) % cfg.loadProcesses;

export function buildPlan(cfg: ChaosConfig, startAt: number): Plan {
  const random = seededRandom(cfg.seed * 1_000_003 + cfg.rate);
  const rooms = cfg.connections / cfg.roomSize;
  const sends: ScheduledSend[] = [];
  const phase = (from: number, rate: number, seconds: number) => {
    const count = Math.round(rate * seconds);
    for (let k = 0; k < count; k++) {
      const room = Math.floor(random() * rooms);
      const conn = room * cfg.roomSize + Math.floor(random() * cfg.roomSize);
      sends.push({ m: sends.length, at: from + (k * 1000) / rate, conn, room });
    }
    return from + (count * 1000) / rate;
  };
  const loadStartAt = phase(startAt, cfg.warmupRate, cfg.warmupSeconds);
  const endAt = phase(loadStartAt, cfg.rate, cfg.killAfterSeconds + cfg.afterKillSeconds);
  return { sends, startAt, loadStartAt, killAt: loadStartAt + cfg.killAfterSeconds * 1000, endAt };
}
