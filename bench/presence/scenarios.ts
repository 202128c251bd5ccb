/**
 * The two shapes of community the presence bench compares, and who each client shows on its screen (what it sends
 * in presence:watch):
 *   - communities of 20: each client shows its 19 community mates;
 *   - one community of everyone: each client shows the first page of the member list (the same members for everyone,
 *     without itself) and a handful of other members at random, like a DM list.
 */
import { seededRandom } from '../chat/stats.ts';
import type { PresenceBenchConfig } from './config.ts';
import type { PresenceClientSpec } from './protocol.ts';

export type ScenarioName = 'communities-of-20' | 'one-community';
export const SCENARIOS: ScenarioName[] = ['communities-of-20', 'one-community'];

export interface Scenario {
  name: ScenarioName;
  communitySize: number;
  userIds: string[];
  clients: PresenceClientSpec[];
}

/** Users of a scenario as seeded: consecutive users share a community, user i is on node i % nodes. */
export function buildScenario(cfg: PresenceBenchConfig, name: ScenarioName, data: { userIds: string[]; tokens: string[] }): Scenario {
  const n = data.userIds.length;
  const random = seededRandom(cfg.seed * 1_000_003 + (name === 'one-community' ? 2 : 1));
  const communitySize = name === 'one-community' ? n : cfg.smallCommunitySize;
  const clients = data.userIds.map((_, user): PresenceClientSpec => {
    let watch: number[];
    if (name === 'communities-of-20') {
      const first = Math.floor(user / communitySize) * communitySize;
      watch = [];
      for (let mate = first; mate < Math.min(first + communitySize, n); mate++) if (mate !== user) watch.push(mate);
    } else {
      const page = Array.from({ length: cfg.memberListPage }, (_, i) => i).filter((m) => m !== user);
      const others = new Set<number>();
      while (others.size < cfg.randomOthers) {
        const other = cfg.memberListPage + Math.floor(random() * (n - cfg.memberListPage));
        if (other !== user) others.add(other);
      }
      watch = [...page, ...others];
    }
    return { user, node: user % cfg.nodes, token: data.tokens[user]!, watch };
  });
  return { name, communitySize, userIds: data.userIds, clients };
}

/** Which load generator holds a client: consecutive pairs (one per node) go to the same generator, round robin. */
export const loaderOf = (cfg: PresenceBenchConfig, user: number) => Math.floor(user / cfg.nodes) % cfg.loadProcesses;

/** The scenarios of round `round`, alternating which goes first. */
export const orderOfRound = (round: number): ScenarioName[] => (round % 2 === 0 ? [...SCENARIOS] : [...SCENARIOS].reverse());
