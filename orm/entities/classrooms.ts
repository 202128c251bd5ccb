import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from './auth.ts';
import { Channel } from './chat.ts';
import { Order } from './commerce.ts';
import { Community } from './communities.ts';

/** Live classrooms: schedule, co-hosts, registrations with waitlist, room state (participants, connections), attendance, polls. */

export const Classroom = defineEntity({
  name: 'Classroom',
  tableName: 'classrooms',
  indexes: [
    {
      name: 'classrooms_community_starts_idx',
      properties: ['community', 'startsAt'],
    },
  ],
  checks: [
    { name: 'classrooms_capacity_check', expression: 'capacity > 0' },
    {
      name: 'classrooms_duration_minutes_check',
      expression: '(duration_minutes >= 5) AND (duration_minutes <= 600)',
    },
    { name: 'classrooms_price_minor_check', expression: 'price_minor >= 0' },
    { name: 'classrooms_price_currency_check', expression: '(price_minor = 0) OR (currency IS NOT NULL)' },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    community: () => p.manyToOne(Community).deleteRule('cascade'),
    host: () => p.manyToOne(User).deleteRule('cascade'),
    channel: () => p.oneToOne(Channel).owner().deleteRule('restrict').unique('classrooms_channel_unique'),
    title: p.string().length(160),
    description: p.text().default(''),
    startsAt: p.datetime(),
    durationMinutes: p.integer(),
    capacity: p.integer(),
    waitingRoom: p.boolean().default(false),
    priceMinor: p.integer().default(0),
    currency: p.string().length(3).nullable(),
    status: p.enum(['scheduled', 'live', 'ended', 'cancelled']).default('scheduled').columnType('varchar(16)'),
    stateVersion: p.bigint('number').defaultRaw(`0`),
    muteAllAt: p.datetime().nullable(),
    muteAllBy: () => p.manyToOne(User).nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    startedAt: p.datetime().nullable(),
    endedAt: p.datetime().nullable(),
    cancelledAt: p.datetime().nullable(),
  },
});
export type IClassroom = InferEntity<typeof Classroom>;

export const ClassroomCohost = defineEntity({
  name: 'ClassroomCohost',
  tableName: 'classroom_cohosts',
  primaryKeys: ['classroom', 'user'],
  properties: {
    classroom: () => p.manyToOne(Classroom).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    addedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IClassroomCohost = InferEntity<typeof ClassroomCohost>;

export const ClassroomRegistration = defineEntity({
  name: 'ClassroomRegistration',
  tableName: 'classroom_registrations',
  primaryKeys: ['classroom', 'user'],
  indexes: [
    {
      name: 'classroom_registrations_waitlist_idx',
      properties: ['classroom', 'status', 'registeredAt'],
    },
  ],
  properties: {
    classroom: () => p.manyToOne(Classroom).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    // `held`: a paid seat kept for a buyer until `holdExpiresAt` while they pay for `order`.
    status: p.enum(['registered', 'waitlisted', 'cancelled', 'held']).columnType('varchar(16)'),
    registeredAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    attended: p.boolean().nullable(),
    minutesAttended: p.decimal().precision(8).scale(2).nullable(),
    holdExpiresAt: p.datetime().nullable(),
    order: () => p.manyToOne(Order).nullable().deleteRule('set null'),
  },
});
export type IClassroomRegistration = InferEntity<typeof ClassroomRegistration>;

export const ClassroomParticipant = defineEntity({
  name: 'ClassroomParticipant',
  tableName: 'classroom_participants',
  primaryKeys: ['classroom', 'user'],
  properties: {
    classroom: () => p.manyToOne(Classroom).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    admission: p.enum(['waiting', 'admitted', 'denied']).default('admitted').columnType('varchar(16)'),
    waitingSince: p.datetime().nullable(),
    handRaisedAt: p.datetime().nullable(),
    handOrder: p.bigint('number').nullable(),
    stage: p.enum(['none', 'invited', 'speaker']).default('none').columnType('varchar(16)'),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IClassroomParticipant = InferEntity<typeof ClassroomParticipant>;

export const ClassroomConnection = defineEntity({
  name: 'ClassroomConnection',
  tableName: 'classroom_connections',
  primaryKeys: ['classroom', 'socketId'],
  indexes: [
    { name: 'classroom_connections_user_idx', properties: ['classroom', 'user'] },
  ],
  properties: {
    classroom: () => p.manyToOne(Classroom).primary().updateRule('no action').deleteRule('cascade'),
    socketId: p.string().primary().length(64),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    nodeId: p.string().length(64).index('classroom_connections_node_idx'),
    connectedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IClassroomConnection = InferEntity<typeof ClassroomConnection>;

export const ClassroomAttendance = defineEntity({
  name: 'ClassroomAttendance',
  tableName: 'classroom_attendance',
  indexes: [
    {
      name: 'classroom_attendance_user_idx',
      properties: ['classroom', 'user', 'joinedAt'],
    },
  ],
  uniques: [
    {
      name: 'classroom_attendance_open_unique',
      where: 'left_at IS NULL',
      properties: ['classroom', 'user'],
    },
  ],
  checks: [
    {
      name: 'classroom_attendance_check',
      expression: '(left_at IS NULL) OR (left_at >= joined_at)',
    },
  ],
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    classroom: () => p.manyToOne(Classroom).deleteRule('cascade'),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    joinedAt: p.datetime(),
    leftAt: p.datetime().nullable(),
  },
});
export type IClassroomAttendance = InferEntity<typeof ClassroomAttendance>;

export const ClassroomPoll = defineEntity({
  name: 'ClassroomPoll',
  tableName: 'classroom_polls',
  indexes: [
    {
      name: 'classroom_polls_classroom_idx',
      properties: ['classroom', 'createdAt'],
    },
    {
      name: 'classroom_polls_open_deadline_idx',
      where: '(closed_at IS NULL) AND (closes_at IS NOT NULL)',
      properties: ['closesAt'],
    },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    classroom: () => p.manyToOne(Classroom).deleteRule('cascade'),
    createdBy: () => p.manyToOne(User).nullable(),
    question: p.string().length(300),
    options: p.json<string[]>(),
    multiple: p.boolean().default(false),
    correctOptions: p.array<number>(Number, String).columnType('int4[]').nullable(),
    timeLimitSeconds: p.integer().nullable(),
    closesAt: p.datetime().nullable(),
    closedAt: p.datetime().nullable(),
    revealedAt: p.datetime().nullable(),
    resultsVersion: p.bigint('number').defaultRaw(`0`),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IClassroomPoll = InferEntity<typeof ClassroomPoll>;

export const ClassroomPollAnswer = defineEntity({
  name: 'ClassroomPollAnswer',
  tableName: 'classroom_poll_answers',
  primaryKeys: ['poll', 'user'],
  properties: {
    poll: () => p.manyToOne(ClassroomPoll).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    options: p.array<number>(Number, String).columnType('int4[]'),
    answeredAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    changedAt: p.datetime().nullable(),
  },
});
export type IClassroomPollAnswer = InferEntity<typeof ClassroomPollAnswer>;
