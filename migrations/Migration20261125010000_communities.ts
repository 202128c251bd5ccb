import { Migration } from '@mikro-orm/migrations';

export class Migration20261125010000_communities extends Migration {
  override name = 'Migration20261125010000_communities';

  override up(): void {
    this.addSql(`
      create table communities (
        id uuid primary key,
        slug varchar(64) not null,
        name varchar(80) not null,
        description text not null default '',
        visibility text not null default 'public' check (visibility in ('public', 'private')),
        created_by_id uuid null references users (id) on delete set null,
        is_demo boolean not null default false,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        archived_at timestamptz null,
        constraint communities_slug_unique unique (slug)
      );`);
    this.addSql(`
      create table community_members (
        community_id uuid not null references communities (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        role text not null default 'member' check (role in ('owner', 'admin', 'moderator', 'member')),
        joined_at timestamptz not null default now(),
        primary key (community_id, user_id)
      );`);
    this.addSql(`create index community_members_user_idx on community_members (user_id);`);
    this.addSql(`
      create table channels (
        id uuid primary key,
        community_id uuid null references communities (id) on delete cascade,
        kind text not null default 'channel' check (kind in ('channel', 'dm', 'group_dm')),
        name varchar(80) null,
        topic text not null default '',
        visibility text not null default 'public' check (visibility in ('public', 'private')),
        last_seq bigint not null default 0 check (last_seq >= 0),
        created_by_id uuid null references users (id) on delete set null,
        created_at timestamptz not null default now(),
        archived_at timestamptz null,
        constraint channels_named_in_community check (kind <> 'channel' or (community_id is not null and name is not null))
      );`);
    this.addSql(`create unique index channels_community_name_unique on channels (community_id, lower(name)) where kind = 'channel';`);
    this.addSql(`
      create table channel_members (
        channel_id uuid not null references channels (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        added_at timestamptz not null default now(),
        primary key (channel_id, user_id)
      );`);
    this.addSql(`create index channel_members_user_idx on channel_members (user_id);`);
  }

  override down(): void {
    this.addSql('drop table if exists channel_members, channels, community_members, communities cascade;');
  }
}
