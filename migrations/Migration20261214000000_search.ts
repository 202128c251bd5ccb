import { Migration } from '@mikro-orm/migrations';

/*
 * Explorer search. `search_documents` holds one row per searchable item (the index of record, fed by the indexer
 * from domain events); visibility is decided at query time by joining each row to its source through the access
 * predicates, so nothing here says who may see what.
 *
 * Text is folded before it is indexed or matched: lower case, accents removed (`search_fold`). `unaccent()` is only
 * STABLE (its dictionary could change), so it is wrapped in an IMMUTABLE function naming its dictionary, which is
 * what an index or a generated column needs. Titles carry the most weight, then keywords (tags, summary, author,
 * headline), then the body; titles also get a trigram index for typo-tolerant matching.
 */
export class Migration20261214000000_search extends Migration {
  override name = 'Migration20261214000000_search';

  override up(): void {
    this.addSql(`create extension if not exists unaccent;`);
    this.addSql(`create extension if not exists pg_trgm;`);
    this.addSql(`
      create or replace function search_fold(text) returns text
        language sql immutable parallel safe strict
        as $$ select lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;`);
    this.addSql(`
      create or replace function search_vector(title text, keywords text, body text) returns tsvector
        language sql immutable parallel safe
        as $$
          select setweight(to_tsvector('simple'::regconfig, search_fold(coalesce(title, ''))), 'A')
              || setweight(to_tsvector('simple'::regconfig, search_fold(coalesce(keywords, ''))), 'B')
              || setweight(to_tsvector('simple'::regconfig, search_fold(coalesce(body, ''))), 'C')
        $$;`);
    this.addSql(`
      create table search_documents (
        type varchar(16) not null check (type in ('course', 'ebook', 'community', 'classroom', 'person', 'post')),
        source_id uuid not null,
        community_id uuid null,
        community_visibility varchar(8) null check (community_visibility in ('public', 'private')),
        author_id uuid null,
        title text not null,
        keywords text not null default '',
        body text not null default '',
        tags text[] not null default '{}',
        level varchar(16) null,
        price_minor integer null,
        currency varchar(3) null,
        popularity integer not null default 0,
        published_at timestamptz not null,
        first_indexed_at timestamptz not null default now(),
        indexed_at timestamptz not null default now(),
        title_folded text generated always as (search_fold(title)) stored,
        title_tsv tsvector generated always as (to_tsvector('simple'::regconfig, search_fold(title))) stored,
        tsv tsvector generated always as (search_vector(title, keywords, body)) stored,
        primary key (type, source_id)
      );`);
    this.addSql(`create index search_documents_tsv_idx on search_documents using gin (tsv);`);
    this.addSql(`create index search_documents_title_trgm_idx on search_documents using gin (title_folded gin_trgm_ops);`);
    // Suggestions match title words by prefix; the weighted vector cannot narrow by weight in its index.
    this.addSql(`create index search_documents_title_tsv_idx on search_documents using gin (title_tsv);`);
    this.addSql(`create index search_documents_recent_idx on search_documents (published_at desc, type, source_id);`);
    this.addSql(`create index search_documents_community_idx on search_documents (community_id);`);
    this.addSql(`create index search_documents_new_idx on search_documents (first_indexed_at);`);

    this.addSql(`
      create table search_history (
        user_id uuid not null references users (id) on delete cascade,
        query varchar(200) not null,
        searched_at timestamptz not null default now(),
        primary key (user_id, query)
      );`);
    this.addSql(`create index search_history_recent_idx on search_history (user_id, searched_at desc);`);
    this.addSql(`
      create table saved_searches (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        name varchar(80) not null,
        query varchar(1000) not null,
        alert boolean not null default true,
        created_at timestamptz not null default now(),
        checked_at timestamptz not null default now()
      );`);
    this.addSql(`create index saved_searches_user_idx on saved_searches (user_id, created_at desc);`);
    this.addSql(`create index saved_searches_alert_idx on saved_searches (checked_at) where alert;`);

    // Message search folds accents and case the same way.
    this.addSql(`drop index if exists messages_search_idx;`);
    this.addSql(`alter table messages drop column search;`);
    this.addSql(`alter table messages add column search tsvector generated always as (to_tsvector('simple'::regconfig, search_fold(body))) stored;`);
    this.addSql(`create index messages_search_idx on messages using gin (search);`);
  }

  override down(): void {
    this.addSql(`drop index if exists messages_search_idx;`);
    this.addSql(`alter table messages drop column search;`);
    this.addSql(`alter table messages add column search tsvector generated always as (to_tsvector('simple', body)) stored;`);
    this.addSql(`create index messages_search_idx on messages using gin (search);`);
    this.addSql(`drop table if exists saved_searches, search_history, search_documents;`);
    this.addSql(`drop function if exists search_vector(text, text, text);`);
    this.addSql(`drop function if exists search_fold(text);`);
  }
}
