import { Migration } from '@mikro-orm/migrations';

export class Migration20261205000000_courses_ebooks_media extends Migration {
  override name = 'Migration20261205000000_courses_ebooks_media';

  override up(): void {
    // ------------------------------------------------------------------ media
    // A row exists from the first byte of an upload ('pending'); it becomes 'ready' only once the stored object is
    // complete, so a crash mid-upload leaves a pending row (never served) that the clean-up job removes with its object.
    this.addSql(`
      create table assets (
        id uuid primary key,
        owner_id uuid not null references users (id) on delete cascade,
        status varchar(8) not null default 'pending' check (status in ('pending', 'ready')),
        kind varchar(8) not null check (kind in ('image', 'video', 'audio', 'pdf', 'epub', 'file')),
        mime varchar(100) not null,
        byte_size bigint not null default 0 check (byte_size >= 0),
        original_name varchar(255) not null default '',
        storage_key varchar(200) not null,
        thumbnail_key varchar(200) null,
        width integer null,
        height integer null,
        sha256 varchar(64) null,
        created_at timestamptz not null default now(),
        ready_at timestamptz null,
        attached_at timestamptz null,
        constraint assets_storage_key_unique unique (storage_key)
      );`);
    this.addSql(`create index assets_owner_idx on assets (owner_id, created_at desc);`);
    this.addSql(`create index assets_unattached_idx on assets (created_at) where attached_at is null;`);

    // ------------------------------------------------------------------ entitlements
    // The one answer to "is this user entitled to X?": free enrolments and claims, staff grants, and (with commerce)
    // paid orders all write a row here; a refund or a removal revokes it.
    this.addSql(`
      create table entitlements (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        resource_type varchar(16) not null check (resource_type in ('course', 'ebook')),
        resource_id uuid not null,
        source varchar(8) not null check (source in ('free', 'grant', 'order')),
        granted_by_id uuid null references users (id) on delete set null,
        created_at timestamptz not null default now(),
        revoked_at timestamptz null
      );`);
    this.addSql(`create unique index entitlements_active_unique on entitlements (user_id, resource_type, resource_id) where revoked_at is null;`);
    this.addSql(`create index entitlements_resource_idx on entitlements (resource_type, resource_id, created_at);`);

    // ------------------------------------------------------------------ courses
    this.addSql(`alter table channels drop constraint channels_kind_check;`);
    this.addSql(`alter table channels add constraint channels_kind_check check (kind in ('channel', 'dm', 'group_dm', 'classroom', 'course'));`);
    this.addSql(`
      create table courses (
        id uuid primary key,
        community_id uuid null references communities (id) on delete cascade,
        owner_id uuid not null references users (id) on delete cascade,
        channel_id uuid not null references channels (id) on delete restrict,
        title varchar(200) not null,
        summary varchar(500) not null default '',
        description text not null default '',
        level varchar(16) not null check (level in ('beginner', 'intermediate', 'advanced')),
        tags text[] not null default '{}',
        language varchar(16) not null default 'en',
        price_minor integer not null default 0 check (price_minor >= 0),
        currency varchar(3) null,
        cover_asset_id uuid null references assets (id) on delete set null,
        status varchar(16) not null default 'draft' check (status in ('draft', 'published', 'unpublished')),
        published_at timestamptz null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint courses_channel_unique unique (channel_id),
        check ((price_minor = 0) or (currency is not null))
      );`);
    this.addSql(`create index courses_catalogue_idx on courses (published_at desc, id desc) where status = 'published';`);
    this.addSql(`create index courses_community_idx on courses (community_id);`);
    this.addSql(`create index courses_tags_idx on courses using gin (tags);`);
    this.addSql(`
      create table course_instructors (
        course_id uuid not null references courses (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        role varchar(16) not null default 'instructor' check (role in ('owner', 'instructor')),
        added_at timestamptz not null default now(),
        primary key (course_id, user_id)
      );`);
    this.addSql(`create index course_instructors_user_idx on course_instructors (user_id);`);
    this.addSql(`
      create table course_modules (
        id uuid primary key,
        course_id uuid not null references courses (id) on delete cascade,
        title varchar(200) not null,
        position integer not null,
        created_at timestamptz not null default now()
      );`);
    this.addSql(`create index course_modules_course_idx on course_modules (course_id, position);`);
    // A quiz's questions, answer keys included, live in \`quiz\`; presenters strip the keys for learners.
    this.addSql(`
      create table course_lessons (
        id uuid primary key,
        course_id uuid not null references courses (id) on delete cascade,
        module_id uuid not null references course_modules (id) on delete cascade,
        title varchar(200) not null,
        kind varchar(16) not null check (kind in ('text', 'video', 'file', 'quiz', 'assignment', 'live')),
        body text not null default '',
        asset_id uuid null references assets (id) on delete set null,
        classroom_id uuid null references classrooms (id) on delete set null,
        duration_minutes integer null check (duration_minutes is null or duration_minutes >= 0),
        preview boolean not null default false,
        required boolean not null default true,
        release_type varchar(16) not null default 'immediate' check (release_type in ('immediate', 'afterEnrolment', 'onDate')),
        release_days integer null check (release_days is null or release_days >= 0),
        release_at timestamptz null,
        quiz jsonb null,
        pass_percent integer null check (pass_percent is null or (pass_percent >= 0 and pass_percent <= 100)),
        max_attempts integer null check (max_attempts is null or max_attempts > 0),
        position integer not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        check ((release_type = 'afterEnrolment') = (release_days is not null)),
        check ((release_type = 'onDate') = (release_at is not null))
      );`);
    this.addSql(`create index course_lessons_module_idx on course_lessons (module_id, position);`);
    this.addSql(`create index course_lessons_course_idx on course_lessons (course_id);`);
    this.addSql(`
      create table course_enrolments (
        course_id uuid not null references courses (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        enrolled_at timestamptz not null default now(),
        last_lesson_id uuid null references course_lessons (id) on delete set null,
        last_activity_at timestamptz not null default now(),
        completed_at timestamptz null,
        primary key (course_id, user_id)
      );`);
    this.addSql(`create index course_enrolments_user_idx on course_enrolments (user_id, last_activity_at desc);`);
    this.addSql(`create index course_enrolments_course_day_idx on course_enrolments (course_id, enrolled_at);`);
    this.addSql(`
      create table lesson_progress (
        lesson_id uuid not null references course_lessons (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        course_id uuid not null references courses (id) on delete cascade,
        position_seconds integer not null default 0 check (position_seconds >= 0),
        completed_at timestamptz null,
        updated_at timestamptz not null default now(),
        primary key (lesson_id, user_id)
      );`);
    this.addSql(`create index lesson_progress_course_user_idx on lesson_progress (course_id, user_id);`);
    this.addSql(`
      create table quiz_attempts (
        id uuid primary key,
        lesson_id uuid not null references course_lessons (id) on delete cascade,
        course_id uuid not null references courses (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        attempt_no integer not null check (attempt_no > 0),
        answers jsonb not null,
        results jsonb not null,
        score_percent integer not null check (score_percent >= 0 and score_percent <= 100),
        passed boolean not null,
        created_at timestamptz not null default now(),
        constraint quiz_attempts_number_unique unique (lesson_id, user_id, attempt_no)
      );`);
    this.addSql(`create index quiz_attempts_course_idx on quiz_attempts (course_id, user_id);`);
    this.addSql(`
      create table assignment_submissions (
        id uuid primary key,
        lesson_id uuid not null references course_lessons (id) on delete cascade,
        course_id uuid not null references courses (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        text text not null default '',
        asset_ids uuid[] not null default '{}',
        status varchar(16) not null default 'submitted' check (status in ('submitted', 'graded')),
        score_percent integer null check (score_percent is null or (score_percent >= 0 and score_percent <= 100)),
        passed boolean null,
        feedback text null,
        graded_by_id uuid null references users (id) on delete set null,
        graded_at timestamptz null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);
    this.addSql(`create index assignment_submissions_course_idx on assignment_submissions (course_id, status, created_at);`);
    this.addSql(`create index assignment_submissions_learner_idx on assignment_submissions (lesson_id, user_id, created_at desc);`);
    // What the certificate said when it was issued: names and titles are copied, so a later rename never rewrites it.
    this.addSql(`
      create table certificates (
        id uuid primary key,
        course_id uuid not null references courses (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        recipient_name varchar(120) not null,
        course_title varchar(200) not null,
        issuer_name varchar(200) not null,
        issued_at timestamptz not null default now(),
        constraint certificates_course_user_unique unique (course_id, user_id)
      );`);

    // ------------------------------------------------------------------ ebooks
    this.addSql(`
      create table ebooks (
        id uuid primary key,
        community_id uuid null references communities (id) on delete cascade,
        owner_id uuid not null references users (id) on delete cascade,
        title varchar(200) not null,
        author varchar(200) not null,
        description text not null default '',
        price_minor integer not null default 0 check (price_minor >= 0),
        currency varchar(3) null,
        cover_asset_id uuid null references assets (id) on delete set null,
        status varchar(16) not null default 'draft' check (status in ('draft', 'published', 'unpublished')),
        published_at timestamptz null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        check ((price_minor = 0) or (currency is not null))
      );`);
    this.addSql(`create index ebooks_catalogue_idx on ebooks (published_at desc, id desc) where status = 'published';`);
    this.addSql(`
      create table ebook_chapters (
        id uuid primary key,
        ebook_id uuid not null references ebooks (id) on delete cascade,
        title varchar(200) not null,
        body text not null default '',
        position integer not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);
    this.addSql(`create index ebook_chapters_ebook_idx on ebook_chapters (ebook_id, position);`);
    this.addSql(`
      create table ebook_positions (
        ebook_id uuid not null references ebooks (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        chapter_id uuid not null references ebook_chapters (id) on delete cascade,
        "offset" integer not null default 0 check ("offset" >= 0),
        updated_at timestamptz not null default now(),
        primary key (ebook_id, user_id)
      );`);
    this.addSql(`
      create table ebook_highlights (
        id uuid primary key,
        ebook_id uuid not null references ebooks (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        chapter_id uuid not null references ebook_chapters (id) on delete cascade,
        start_offset integer not null check (start_offset >= 0),
        end_offset integer not null,
        color varchar(16) not null default 'yellow',
        note text null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        check (end_offset > start_offset)
      );`);
    this.addSql(`create index ebook_highlights_reader_idx on ebook_highlights (ebook_id, user_id, chapter_id);`);
    this.addSql(`
      create table ebook_bookmarks (
        id uuid primary key,
        ebook_id uuid not null references ebooks (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        chapter_id uuid not null references ebook_chapters (id) on delete cascade,
        "offset" integer not null default 0 check ("offset" >= 0),
        label varchar(200) not null default '',
        created_at timestamptz not null default now()
      );`);
    this.addSql(`create index ebook_bookmarks_reader_idx on ebook_bookmarks (ebook_id, user_id);`);
  }

  override down(): void {
    for (const table of [
      'ebook_bookmarks',
      'ebook_highlights',
      'ebook_positions',
      'ebook_chapters',
      'ebooks',
      'certificates',
      'assignment_submissions',
      'quiz_attempts',
      'lesson_progress',
      'course_enrolments',
      'course_lessons',
      'course_modules',
      'course_instructors',
      'courses',
      'entitlements',
      'assets',
    ]) {
      this.addSql(`drop table if exists ${table};`);
    }
    this.addSql(`delete from channels where kind = 'course';`);
    this.addSql(`alter table channels drop constraint channels_kind_check;`);
    this.addSql(`alter table channels add constraint channels_kind_check check (kind in ('channel', 'dm', 'group_dm', 'classroom'));`);
  }
}
