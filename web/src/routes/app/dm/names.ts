import type { ChannelDto } from '$contracts/communities.ts';

/** What a DM is called: the other people in it. */
export function dmTitle(channel: ChannelDto): string {
  const names = channel.members.map((m) => m.displayName);
  return names.length > 0 ? names.join(', ') : (channel.name ?? 'Conversation');
}
