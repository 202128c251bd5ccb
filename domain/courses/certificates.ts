import type { EntityManager } from '@mikro-orm/postgresql';
import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import type { CertificateDto } from '../../contracts/courseLearning.ts';
import { db, type DB, type Db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import './learningEvents.ts';

/*
 * Certificates. A learner earns one when every required lesson of the course is complete, every required quiz lesson
 * has a passed attempt and every required assignment lesson a submission graded at pass. It is issued once (the
 * unique (course_id, user_id) decides), copies the names and the title as they are that day, and marks the enrolment
 * completed. A certificate is never taken back: a later re-grade, a new required lesson or a rename leave it as issued.
 */

/** What makes one required lesson count as done for `userId`, as a predicate over `course_lessons as l`. */
export function lessonMet(eb: ExpressionBuilder<DB & { l: DB['course_lessons'] }, 'l'>, userId: string) {
  return eb.and([
    eb.exists(
      eb
        .selectFrom('lesson_progress as lp')
        .select(sql.lit(1).as('one'))
        .whereRef('lp.lesson_id', '=', 'l.id')
        .where('lp.user_id', '=', userId)
        .where('lp.completed_at', 'is not', null),
    ),
    eb.or([
      eb('l.kind', '<>', 'quiz'),
      eb.exists(
        eb
          .selectFrom('quiz_attempts as qa')
          .select(sql.lit(1).as('one'))
          .whereRef('qa.lesson_id', '=', 'l.id')
          .where('qa.user_id', '=', userId)
          .where('qa.passed', '=', true),
      ),
    ]),
    eb.or([
      eb('l.kind', '<>', 'assignment'),
      eb.exists(
        eb
          .selectFrom('assignment_submissions as s')
          .select(sql.lit(1).as('one'))
          .whereRef('s.lesson_id', '=', 'l.id')
          .where('s.user_id', '=', userId)
          .where('s.status', '=', 'graded')
          .where('s.passed', '=', true),
      ),
    ]),
  ]);
}

/**
 * Whether `userId` has met every requirement of the course (one statement). A course without required lessons is
 * never earned: a certificate says someone did something.
 */
export async function certificateEarned(q: Db, courseId: string, userId: string): Promise<boolean> {
  const row = await q
    .selectFrom('course_lessons as l')
    .where('l.course_id', '=', courseId)
    .where('l.required', '=', true)
    .select((eb) => [sql<number>`count(*)::int`.as('required'), sql<number>`(count(*) filter (where not (${lessonMet(eb, userId)})))::int`.as('unmet')])
    .executeTakeFirstOrThrow();
  return row.required > 0 && row.unmet === 0;
}

/**
 * Inside the transaction of the change that may have met the last requirement (a completed lesson, a passing quiz or
 * grade): issues the certificate if it is earned and not yet issued, sets the enrolment's completed_at, and RECORDS
 * `certificate.issued` in the same transaction (durable: its listeners run iff this commits, so no caller has to
 * emit anything after its commit). Returns the certificate (new or already issued), or null while not earned or when
 * the user is not enrolled.
 *
 * The enrolment row is locked first. Two lessons completed at once in two transactions would otherwise each miss the
 * other's uncommitted progress and neither would issue; under the lock the second one's statements see the first's
 * committed progress (READ COMMITTED takes a new snapshot per statement).
 */
export async function issueCertificateIfEarned(
  deps: Deps,
  tx: EntityManager,
  input: { courseId: string; userId: string; at: Date },
): Promise<{ id: string } | null> {
  const q = db(tx);
  const { courseId, userId, at } = input;
  const enrolment = await q
    .selectFrom('course_enrolments')
    .select('completed_at')
    .where('course_id', '=', courseId)
    .where('user_id', '=', userId)
    .forUpdate()
    .executeTakeFirst();
  if (!enrolment) return null;
  const existing = await q.selectFrom('certificates').select('id').where('course_id', '=', courseId).where('user_id', '=', userId).executeTakeFirst();
  if (existing) return existing;
  if (!(await certificateEarned(q, courseId, userId))) return null;

  const names = await q
    .selectFrom('courses as c')
    .innerJoin('users as owner', 'owner.id', 'c.owner_id')
    .leftJoin('communities as co', 'co.id', 'c.community_id')
    .innerJoin('users as u', (join) => join.on('u.id', '=', userId))
    .select(['c.title', 'owner.display_name as owner_name', 'co.name as community_name', 'u.display_name as recipient_name'])
    .where('c.id', '=', courseId)
    .executeTakeFirstOrThrow();
  const inserted = await q
    .insertInto('certificates')
    .values({
      id: crypto.randomUUID(),
      course_id: courseId,
      user_id: userId,
      recipient_name: names.recipient_name,
      course_title: names.title,
      // The community that runs the course issues it; a course of no community, its owner.
      issuer_name: names.community_name ?? names.owner_name,
      issued_at: at,
    })
    .onConflict((oc) => oc.columns(['course_id', 'user_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) {
    // Unreachable under the enrolment lock, unless something issued without taking it: the first one stands.
    const first = await q.selectFrom('certificates').select('id').where('course_id', '=', courseId).where('user_id', '=', userId).executeTakeFirst();
    return first ?? null;
  }
  await q
    .updateTable('course_enrolments')
    .set({ completed_at: at })
    .where('course_id', '=', courseId)
    .where('user_id', '=', userId)
    .where('completed_at', 'is', null)
    .execute();
  await deps.events.record(tx, 'certificate.issued', {
    certificateId: inserted.id,
    courseId,
    userId,
    courseTitle: names.title,
    issuedAt: at.toISOString(),
  });
  return inserted;
}

export type CertificateRow = Selectable<DB['certificates']>;

/** The public page where anyone holding the id can check a certificate. */
export const verificationUrl = (deps: Pick<Deps, 'auth'>, id: string) => `${deps.auth.publicUrl.replace(/\/+$/, '')}/certificates/${id}`;

export function presentCertificate(deps: Pick<Deps, 'auth'>, row: CertificateRow): CertificateDto {
  return {
    id: row.id,
    courseId: row.course_id,
    recipientName: row.recipient_name,
    courseTitle: row.course_title,
    issuerName: row.issuer_name,
    issuedAt: row.issued_at.toISOString(),
    verificationUrl: verificationUrl(deps, row.id),
  };
}

/**
 * Public verification: a certificate states what it states to anyone holding its id (an unguessable uuid the
 * recipient chooses to share), without signing in. It shows the names printed on it and nothing else.
 */
export async function getCertificate(deps: Deps, id: string): Promise<CertificateRow> {
  const row = await db(deps.orm.em.fork()).selectFrom('certificates').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new AppError('not_found', 'No certificate with this id.');
  return row;
}

/** My certificates, newest first. */
export async function listMyCertificates(deps: Deps, actor: Actor): Promise<CertificateDto[]> {
  const rows = await db(deps.orm.em.fork())
    .selectFrom('certificates')
    .selectAll()
    .where('user_id', '=', actor.userId)
    .orderBy('issued_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map((row) => presentCertificate(deps, row));
}
