import { Migration } from '@mikro-orm/migrations';

/*
 * Messages that may notify someone are noted in `message_notices` by the statement that stores them, instead of a
 * queued job per send batch: the sending node makes their notifications right after the commit and removes the note,
 * and a periodic sweep takes over notes a node that died left behind. Batches still queued as `messages.noticed`
 * jobs are taken over (their messages noted, the jobs dropped); one running on an old node finishes there.
 */
export class Migration20261212100000_message_notices extends Migration {
  override name = 'Migration20261212100000_message_notices';

  override up(): void {
    this.addSql(`create table message_notices (
      message_id uuid not null primary key references messages (id) on delete cascade,
      created_at timestamptz not null default now(),
      attempts smallint not null default 0
    );`);
    this.addSql(`create index message_notices_created_idx on message_notices (created_at);`);
    this.addSql(`do $$
      begin
        if to_regclass('graphile_worker._private_jobs') is not null then
          insert into message_notices (message_id)
            select distinct m.id
              from graphile_worker._private_jobs j
              join graphile_worker._private_tasks t on t.id = j.task_id
              cross join lateral json_array_elements_text(j.payload -> 'payload' -> 'messageIds') as noted(id)
              join messages m on m.id = noted.id::uuid
             where t.identifier = 'domain-event' and j.payload ->> 'event' = 'messages.noticed' and j.locked_at is null
          on conflict do nothing;
          delete from graphile_worker._private_jobs j
            using graphile_worker._private_tasks t
           where t.id = j.task_id and t.identifier = 'domain-event' and j.payload ->> 'event' = 'messages.noticed' and j.locked_at is null;
        end if;
      end $$;`);
  }

  override down(): void {
    this.addSql(`drop table message_notices;`);
  }
}
