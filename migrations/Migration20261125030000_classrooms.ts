import { Migration } from '@mikro-orm/migrations';

export class Migration20261125030000_classrooms extends Migration {
  override name = 'Migration20261125030000_classrooms';

  override up(): void {
    // Agora uids are unsigned 32-bit numbers: each user gets a stable, unique, non-zero one.
    this.addSql(`alter table users add column rtc_uid serial not null;`);
    this.addSql(`create unique index users_rtc_uid_unique on users (rtc_uid);`);

    // In-class chat is a channel of its own kind: explicit membership (host, co-hosts, admitted learners).
    this.addSql(`alter table channels drop constraint channels_kind_check;`);
    this.addSql(`alter table channels add constraint channels_kind_check check (kind in ('channel', 'dm', 'group_dm', 'classroom'));`);

    this.addSql(`
      create table classrooms (
        id uuid primary key,
        community_id uuid not null references communities (id) on delete cascade,
        host_id uuid not null references users (id) on delete cascade,
        channel_id uuid not null references channels (id) on delete restrict,
        title varchar(160) not null,
        description text not null default '',
        starts_at timestamptz not null,
        duration_minutes integer not null check (duration_minutes between 5 and 600),
        capacity integer not null check (capacity > 0),
        waiting_room boolean not null default false,
        price_minor integer not null default 0 check (price_minor >= 0),
        status varchar(16) not null default 'scheduled' check (status in ('scheduled', 'live', 'ended', 'cancelled')),
        -- Every change to the live room's state takes the next version, in the transaction that makes it.
        state_version bigint not null default 0,
        mute_all_at timestamptz null,
        mute_all_by_id uuid null references users (id) on delete set null,
        created_at timestamptz not null default now(),
        started_at timestamptz null,
        ended_at timestamptz null,
        cancelled_at timestamptz null
      );`);
    this.addSql(`create index classrooms_community_starts_idx on classrooms (community_id, starts_at);`);
    this.addSql(`create unique index classrooms_channel_unique on classrooms (channel_id);`);

    this.addSql(`
      create table classroom_cohosts (
        classroom_id uuid not null references classrooms (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        added_at timestamptz not null default now(),
        primary key (classroom_id, user_id)
      );`);

    // One row per learner and class; cancelling keeps the row (status cancelled) so the history stays.
    this.addSql(`
      create table classroom_registrations (
        classroom_id uuid not null references classrooms (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        status varchar(16) not null check (status in ('registered', 'waitlisted', 'cancelled')),
        -- Waitlist order: the time of the (latest) registration.
        registered_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        attended boolean null,
        minutes_attended numeric(8, 2) null,
        primary key (classroom_id, user_id)
      );`);
    this.addSql(`create index classroom_registrations_waitlist_idx on classroom_registrations (classroom_id, status, registered_at);`);

    // Room state per person: admission (waiting room), hand, stage. Host and co-hosts get a row when they first join.
    this.addSql(`
      create table classroom_participants (
        classroom_id uuid not null references classrooms (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        admission varchar(16) not null default 'admitted' check (admission in ('waiting', 'admitted', 'denied')),
        waiting_since timestamptz null,
        hand_raised_at timestamptz null,
        -- The state version at which the hand went up: one order for everyone.
        hand_order bigint null,
        stage varchar(16) not null default 'none' check (stage in ('none', 'invited', 'speaker')),
        created_at timestamptz not null default now(),
        primary key (classroom_id, user_id)
      );`);

    // Sockets in a room, with the node holding them: a dead node's rows are swept by the survivors.
    this.addSql(`
      create table classroom_connections (
        classroom_id uuid not null references classrooms (id) on delete cascade,
        socket_id varchar(64) not null,
        user_id uuid not null references users (id) on delete cascade,
        node_id varchar(64) not null,
        connected_at timestamptz not null default now(),
        primary key (classroom_id, socket_id)
      );`);
    this.addSql(`create index classroom_connections_user_idx on classroom_connections (classroom_id, user_id);`);
    this.addSql(`create index classroom_connections_node_idx on classroom_connections (node_id);`);

    // Presence in the room per user: opened when the first device joins, closed when the last one leaves.
    this.addSql(`
      create table classroom_attendance (
        id bigserial primary key,
        classroom_id uuid not null references classrooms (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        joined_at timestamptz not null,
        left_at timestamptz null,
        check (left_at is null or left_at >= joined_at)
      );`);
    this.addSql(`create index classroom_attendance_user_idx on classroom_attendance (classroom_id, user_id, joined_at);`);
    this.addSql(`create unique index classroom_attendance_open_unique on classroom_attendance (classroom_id, user_id) where left_at is null;`);

    this.addSql(`
      create table classroom_polls (
        id uuid primary key,
        classroom_id uuid not null references classrooms (id) on delete cascade,
        created_by_id uuid null references users (id) on delete set null,
        question varchar(300) not null,
        options jsonb not null,
        multiple boolean not null default false,
        correct_options integer[] null,
        time_limit_seconds integer null,
        closes_at timestamptz null,
        closed_at timestamptz null,
        revealed_at timestamptz null,
        -- Bumped by every answer, so the live results the host sees can be ordered.
        results_version bigint not null default 0,
        created_at timestamptz not null default now()
      );`);
    this.addSql(`create index classroom_polls_classroom_idx on classroom_polls (classroom_id, created_at);`);
    // Every node looks for time-limited polls past their end that nobody closed (their node went away).
    this.addSql(
      `create index classroom_polls_open_deadline_idx on classroom_polls (closes_at) where closed_at is null and closes_at is not null;`,
    );
    this.addSql(`
      create table classroom_poll_answers (
        poll_id uuid not null references classroom_polls (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        options integer[] not null,
        answered_at timestamptz not null default now(),
        changed_at timestamptz null,
        primary key (poll_id, user_id)
      );`);
  }

  override down(): void {
    this.addSql(`drop table if exists classroom_poll_answers, classroom_polls, classroom_attendance, classroom_connections,
      classroom_participants, classroom_registrations, classroom_cohosts, classrooms cascade;`);
    this.addSql(`delete from channels where kind = 'classroom';`);
    this.addSql(`alter table users drop column rtc_uid;`);
    this.addSql(`alter table channels drop constraint channels_kind_check;`);
    this.addSql(`alter table channels add constraint channels_kind_check check (kind in ('channel', 'dm', 'group_dm'));`);
  }
}
