import { Migration } from '@mikro-orm/migrations';

export class Migration20261125020000_chat extends Migration {
  override name = 'Migration20261125020000_chat';

  override up(): void {
    // 1:1 DMs are de-duplicated by the sorted pair of user ids.
    this.addSql(`alter table channels add column dm_key varchar(80) null;`);
    this.addSql(`create unique index channels_dm_key_unique on channels (dm_key) where dm_key is not null;`);
    this.addSql(`
      create table messages (
        id uuid primary key,
        channel_id uuid not null references channels (id) on delete cascade,
        seq bigint not null,
        author_id uuid not null references users (id) on delete cascade,
        client_id varchar(64) not null,
        body text not null,
        reply_to_id uuid null references messages (id) on delete set null,
        thread_count integer not null default 0,
        pinned_at timestamptz null,
        pinned_by_id uuid null references users (id) on delete set null,
        created_at timestamptz not null default now(),
        edited_at timestamptz null,
        deleted_at timestamptz null,
        search tsvector generated always as (to_tsvector('simple', body)) stored,
        constraint messages_channel_seq_unique unique (channel_id, seq),
        constraint messages_author_client_unique unique (author_id, client_id)
      );`);
    this.addSql(`create index messages_reply_idx on messages (reply_to_id) where reply_to_id is not null;`);
    this.addSql(`create index messages_search_idx on messages using gin (search);`);
    // Every change in a channel, numbered gaplessly per channel; message state is read from messages at replay time.
    this.addSql(`
      create table channel_events (
        channel_id uuid not null references channels (id) on delete cascade,
        seq bigint not null,
        type varchar(32) not null check (type in ('message:created', 'message:updated', 'message:deleted', 'reaction:updated')),
        message_id uuid not null references messages (id) on delete cascade,
        created_at timestamptz not null default now(),
        primary key (channel_id, seq)
      );`);
    this.addSql(`
      create table message_reactions (
        message_id uuid not null references messages (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        emoji varchar(32) not null,
        created_at timestamptz not null default now(),
        primary key (message_id, user_id, emoji)
      );`);
    this.addSql(`
      create table message_mentions (
        message_id uuid not null references messages (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        channel_id uuid not null references channels (id) on delete cascade,
        seq bigint not null,
        primary key (message_id, user_id)
      );`);
    this.addSql(`create index message_mentions_user_idx on message_mentions (user_id, channel_id, seq);`);
    this.addSql(`
      create table channel_read_states (
        channel_id uuid not null references channels (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        last_read_seq bigint not null default 0,
        updated_at timestamptz not null default now(),
        primary key (channel_id, user_id)
      );`);
    this.addSql(`
      create table community_invites (
        code varchar(32) primary key,
        community_id uuid not null references communities (id) on delete cascade,
        created_by_id uuid null references users (id) on delete set null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        uses integer not null default 0,
        max_uses integer not null default 100
      );`);
    this.addSql(`
      create table user_blocks (
        blocker_id uuid not null references users (id) on delete cascade,
        blocked_id uuid not null references users (id) on delete cascade,
        created_at timestamptz not null default now(),
        primary key (blocker_id, blocked_id),
        constraint user_blocks_not_self check (blocker_id <> blocked_id)
      );`);
    this.addSql(`create index user_blocks_blocked_idx on user_blocks (blocked_id);`);
  }

  override down(): void {
    this.addSql(
      'drop table if exists user_blocks, community_invites, channel_read_states, message_mentions, message_reactions, channel_events, messages cascade;',
    );
    this.addSql('drop index if exists channels_dm_key_unique; alter table channels drop column if exists dm_key;');
  }
}
