// The community rules live in domain/access/community.ts; this path stays until every import has moved there.
export { CommunityPolicy, type CommunityAccess } from '../access/community.ts';
