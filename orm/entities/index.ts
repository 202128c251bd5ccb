export { User, type IUser } from './User.ts';
export { Session, type ISession } from './Session.ts';
export { RefreshToken, type IRefreshToken } from './RefreshToken.ts';
export { EmailVerificationToken } from './EmailVerificationToken.ts';
export { EmailOutbox } from './EmailOutbox.ts';
export { Community, CommunityMember, type ICommunity } from './Community.ts';
export { Channel, ChannelMember, type IChannel } from './Channel.ts';
export { Message, CommunityInvite, UserBlock, ChannelReadState, type IMessage } from './Chat.ts';

import { User } from './User.ts';
import { Session } from './Session.ts';
import { RefreshToken } from './RefreshToken.ts';
import { EmailVerificationToken } from './EmailVerificationToken.ts';
import { EmailOutbox } from './EmailOutbox.ts';
import { Community, CommunityMember } from './Community.ts';
import { Channel, ChannelMember } from './Channel.ts';
import { Message, CommunityInvite, UserBlock, ChannelReadState } from './Chat.ts';

export const entities = [
  User,
  Session,
  RefreshToken,
  EmailVerificationToken,
  EmailOutbox,
  Community,
  CommunityMember,
  Channel,
  ChannelMember,
  Message,
  CommunityInvite,
  UserBlock,
  ChannelReadState,
];
