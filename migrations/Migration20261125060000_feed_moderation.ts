import { Migration } from '@mikro-orm/migrations';

export class Migration20261125060000_feed_moderation extends Migration {
  override name = 'Migration20261125060000_feed_moderation';

  override up(): void {
    // ------------------------------------------------------------------ feed
    this.addSql(`
      create table posts (
        id uuid primary key,
        community_id uuid not null references communities (id) on delete cascade,
        author_id uuid not null references users (id) on delete cascade,
        kind varchar(8) not null check (kind in ('text', 'link', 'poll')),
        body text not null,
        link_url text null,
        poll_question varchar(300) null,
        poll_options jsonb null,
        pinned_at timestamptz null,
        pinned_by_id uuid null references users (id) on delete set null,
        comment_count integer not null default 0,
        reaction_count integer not null default 0,
        created_at timestamptz not null default now(),
        edited_at timestamptz null,
        deleted_at timestamptz null,
        hidden_at timestamptz null,
        hidden_by_id uuid null references users (id) on delete set null,
        check ((kind = 'poll') = (poll_options is not null)),
        check ((kind = 'link') = (link_url is not null))
      );`);
    this.addSql(`create index posts_community_recent_idx on posts (community_id, created_at desc, id desc) where deleted_at is null;`);
    this.addSql(`create index posts_author_recent_idx on posts (author_id, created_at desc) where deleted_at is null;`);
    this.addSql(`
      create table post_poll_votes (
        post_id uuid not null references posts (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        option integer not null check (option >= 0),
        created_at timestamptz not null default now(),
        primary key (post_id, user_id)
      );`);
    this.addSql(`
      create table comments (
        id uuid primary key,
        post_id uuid not null references posts (id) on delete cascade,
        community_id uuid not null references communities (id) on delete cascade,
        parent_id uuid null references comments (id) on delete cascade,
        author_id uuid not null references users (id) on delete cascade,
        body text not null,
        created_at timestamptz not null default now(),
        edited_at timestamptz null,
        deleted_at timestamptz null,
        hidden_at timestamptz null,
        hidden_by_id uuid null references users (id) on delete set null
      );`);
    this.addSql(`create index comments_post_idx on comments (post_id, created_at, id);`);
    this.addSql(`create index comments_author_idx on comments (author_id, created_at desc);`);
    this.addSql(`
      create table post_reactions (
        post_id uuid not null references posts (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        emoji varchar(32) not null,
        created_at timestamptz not null default now(),
        primary key (post_id, user_id, emoji)
      );`);
    this.addSql(`
      create table comment_reactions (
        comment_id uuid not null references comments (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        emoji varchar(32) not null,
        created_at timestamptz not null default now(),
        primary key (comment_id, user_id, emoji)
      );`);
    this.addSql(`
      create table user_follows (
        follower_id uuid not null references users (id) on delete cascade,
        followee_id uuid not null references users (id) on delete cascade,
        created_at timestamptz not null default now(),
        primary key (follower_id, followee_id),
        check (follower_id <> followee_id)
      );`);
    this.addSql(`create index user_follows_followee_idx on user_follows (followee_id);`);
    this.addSql(`
      create table user_mutes (
        muter_id uuid not null references users (id) on delete cascade,
        muted_id uuid not null references users (id) on delete cascade,
        created_at timestamptz not null default now(),
        primary key (muter_id, muted_id),
        check (muter_id <> muted_id)
      );`);

    // ------------------------------------------------------------------ moderation
    // Hidden by a moderator: gone for members everywhere (REST, history, catch-up, search), marked for moderators.
    this.addSql(`alter table messages add column hidden_at timestamptz null, add column hidden_by_id uuid null references users (id) on delete set null;`);
    this.addSql(`create index messages_author_recent_idx on messages (author_id, created_at desc);`);
    this.addSql(`alter table channels add column slow_mode_seconds integer not null default 0 check (slow_mode_seconds between 0 and 21600);`);
    this.addSql(`alter table users add column suspended_at timestamptz null, add column suspended_reason text null;`);

    this.addSql(`
      create table moderation_cases (
        id uuid primary key,
        community_id uuid not null references communities (id) on delete cascade,
        target_type varchar(16) not null check (target_type in ('message', 'post', 'comment', 'user')),
        target_id uuid not null,
        target_user_id uuid null references users (id) on delete set null,
        status varchar(16) not null default 'open' check (status in ('open', 'claimed', 'resolved', 'dismissed')),
        report_count integer not null default 0,
        -- Opened by the word filter (mode 'flag') rather than by a member's report, and the words it matched.
        automod boolean not null default false,
        automod_words text[] not null default '{}',
        claimed_by_id uuid null references users (id) on delete set null,
        claimed_at timestamptz null,
        resolution_action varchar(16) null,
        resolved_by_id uuid null references users (id) on delete set null,
        resolution_reason text null,
        resolved_at timestamptz null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);
    // Reports on the same target merge into the one active case.
    this.addSql(`create unique index moderation_cases_active_target_unique on moderation_cases (community_id, target_type, target_id) where status in ('open', 'claimed');`);
    this.addSql(`create index moderation_cases_queue_idx on moderation_cases (community_id, status, updated_at desc, id);`);
    this.addSql(`
      create table reports (
        id uuid primary key,
        case_id uuid not null references moderation_cases (id) on delete cascade,
        reporter_id uuid not null references users (id) on delete cascade,
        reason varchar(32) not null,
        note text null,
        created_at timestamptz not null default now(),
        constraint reports_case_reporter_unique unique (case_id, reporter_id)
      );`);

    // Append-only: no foreign keys (a cascade would rewrite history) and a trigger refusing updates and deletes.
    this.addSql(`
      create table moderation_audit (
        id bigserial primary key,
        community_id uuid null,
        actor_id uuid not null,
        action varchar(16) not null,
        target_type varchar(16) null,
        target_id text null,
        target_user_id uuid null,
        case_id uuid null,
        reason text not null default '',
        before jsonb null,
        after jsonb null,
        created_at timestamptz not null default now()
      );`);
    this.addSql(`create index moderation_audit_community_idx on moderation_audit (community_id, id desc);`);
    this.addSql(`create index moderation_audit_target_user_idx on moderation_audit (target_user_id, community_id, id desc);`);
    this.addSql(`
      create function moderation_audit_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'moderation_audit is append-only';
      end $$;`);
    this.addSql(`
      create trigger moderation_audit_no_change before update or delete on moderation_audit
      for each row execute function moderation_audit_append_only();`);

    // A ban has no expiry; a kick is a ban that expires (rejoining is refused until then).
    this.addSql(`
      create table community_bans (
        community_id uuid not null references communities (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        reason text not null,
        banned_by_id uuid null references users (id) on delete set null,
        created_at timestamptz not null default now(),
        expires_at timestamptz null,
        primary key (community_id, user_id)
      );`);
    this.addSql(`
      create table community_timeouts (
        community_id uuid not null references communities (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        until timestamptz not null,
        reason text not null,
        created_by_id uuid null references users (id) on delete set null,
        created_at timestamptz not null default now(),
        primary key (community_id, user_id)
      );`);
    this.addSql(`
      create table community_moderation_settings (
        community_id uuid primary key references communities (id) on delete cascade,
        word_filter_words text[] not null default '{}',
        word_filter_mode varchar(8) not null default 'flag' check (word_filter_mode in ('block', 'flag')),
        new_member_link_limit integer null check (new_member_link_limit is null or new_member_link_limit >= 0),
        updated_at timestamptz not null default now()
      );`);
  }

  override down(): void {
    this.addSql(`drop table if exists community_moderation_settings, community_timeouts, community_bans, reports, moderation_cases cascade;`);
    this.addSql(`drop trigger if exists moderation_audit_no_change on moderation_audit;`);
    this.addSql(`drop table if exists moderation_audit;`);
    this.addSql(`drop function if exists moderation_audit_append_only();`);
    this.addSql(`alter table users drop column suspended_at, drop column suspended_reason;`);
    this.addSql(`alter table channels drop column slow_mode_seconds;`);
    this.addSql(`drop index if exists messages_author_recent_idx;`);
    this.addSql(`alter table messages drop column hidden_at, drop column hidden_by_id;`);
    this.addSql(`drop table if exists user_mutes, user_follows, comment_reactions, post_reactions, comments, post_poll_votes, posts cascade;`);
  }
}
