/**
 * Bench data for Edulure, written straight into PostgreSQL (registering thousands of users over HTTP would spend
 * minutes in argon2): public communities of `communitySize` consecutive users, one public channel per room (in its
 * members' community), one session per user, and an access token per user signed with the key ring the nodes use.
 */
import pg from 'pg';
import { hashPassword } from '../../domain/auth/passwords.ts';
import { TokenService, type JwtKey } from '../../domain/auth/tokens.ts';

export interface ChatBenchData {
  userIds: string[];
  channelIds: string[];
  tokens: string[];
}

export async function seedChatBench(
  databaseUrl: string,
  options: { users: number; roomSize: number; communitySize: number; jwtKey: JwtKey; tokenTtlSeconds: number },
): Promise<ChatBenchData> {
  const { users, roomSize, communitySize } = options;
  const rooms = Math.ceil(users / roomSize);
  const passwordHash = await hashPassword('bench users never sign in with a password');
  const userIds = Array.from({ length: users }, () => crypto.randomUUID());
  const sessionIds = Array.from({ length: users }, () => crypto.randomUUID());
  const channelIds = Array.from({ length: rooms }, () => crypto.randomUUID());
  const communityIds = Array.from({ length: Math.ceil(users / communitySize) }, () => crypto.randomUUID());
  // User i belongs to community i / communitySize; a room (channel) to its first member's community.
  const communityOfUser = (i: number) => communityIds[Math.floor(i / communitySize)]!;
  const tag = communityIds[0]!.slice(0, 8);

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('begin');
    await client.query(
      `insert into users (id, email, password_hash, display_name, email_verified_at)
       select id, email, $3, name, now() from unnest($1::uuid[], $2::text[], $4::text[]) as t(id, email, name)`,
      [userIds, userIds.map((_, i) => `bench-${tag}-${i}@bench.test`), passwordHash, userIds.map((_, i) => `Bench ${i}`)],
    );
    await client.query(
      `insert into communities (id, slug, name, description, visibility, created_by_id)
       select id, $2 || '-' || ord, 'Bench ' || $2 || ' ' || ord, '', 'public', owner
       from unnest($1::uuid[], $3::uuid[]) with ordinality as t(id, owner, ord)`,
      [communityIds, `bench-${tag}`, communityIds.map((_, c) => userIds[c * communitySize])],
    );
    await client.query(
      `insert into community_members (community_id, user_id, role)
       select community_id, id, case when (ord - 1) % $3 = 0 then 'owner' else 'member' end
       from unnest($1::uuid[], $2::uuid[]) with ordinality as t(community_id, id, ord)`,
      [userIds.map((_, i) => communityOfUser(i)), userIds, communitySize],
    );
    await client.query(
      `insert into channels (id, community_id, kind, name, visibility, created_by_id)
       select id, community_id, 'channel', 'room-' || ord, 'public', $3 from unnest($1::uuid[], $2::uuid[]) with ordinality as t(id, community_id, ord)`,
      [channelIds, channelIds.map((_, r) => communityOfUser(r * roomSize)), userIds[0]],
    );
    await client.query(
      `insert into sessions (id, user_id, user_agent, expires_at)
       select id, user_id, 'bench', now() + interval '1 day' from unnest($1::uuid[], $2::uuid[]) as t(id, user_id)`,
      [sessionIds, userIds],
    );
    await client.query('commit');
    await client.query('analyze');
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    await client.end();
  }

  const tokenService = new TokenService([options.jwtKey], options.tokenTtlSeconds);
  const tokens = await Promise.all(
    userIds.map((userId, i) => tokenService.signAccessToken({ userId, sessionId: sessionIds[i]!, role: 'user' })),
  );
  return { userIds, channelIds, tokens };
}
