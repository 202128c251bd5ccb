// The channel rules live in domain/access/channel.ts; this path stays until every import has moved there.
export {
  accessKey,
  authorizeChannel,
  ChannelPolicy,
  checkChannelAccess,
  loadChannelAccess,
  loadChannelAccessMany,
  type ChannelAccess,
  type ChannelAction,
} from '../access/channel.ts';
