import { z } from 'zod';
import type { Ack } from './errors.ts';
import { UserRef } from './communities.ts';

/** The host may start (and fetch a video token) this long before the scheduled start. */
export const EARLY_START_MINUTES = 15;
/** Video tokens live at most this long; clients renew through the same endpoint before expiry. */
export const RTC_TOKEN_MAX_TTL_SECONDS = 3600;
export const POLL_MAX_OPTIONS = 10;

export const CLASSROOM_STATUSES = ['scheduled', 'live', 'ended', 'cancelled'] as const;
export type ClassroomStatus = (typeof CLASSROOM_STATUSES)[number];
/** Roles in the room: the host, co-hosts, learners currently on stage (speakers) and everyone else. */
export const ROOM_ROLES = ['host', 'cohost', 'speaker', 'learner'] as const;
export type RoomRole = (typeof ROOM_ROLES)[number];
/** `held`: a paid seat kept for the buyer while they pay (until the checkout expires). */
export const REGISTRATION_STATUSES = ['registered', 'waitlisted', 'cancelled', 'held'] as const;
export type RegistrationStatus = (typeof REGISTRATION_STATUSES)[number];

const title = z.string().trim().min(3, 'Title needs at least 3 characters.').max(160);
const description = z.string().trim().max(5000);
const startsAt = z.iso.datetime({ offset: true, message: 'startsAt must be an ISO date-time, e.g. 2026-12-01T18:00:00Z.' });
const durationMinutes = z.number().int().min(5, 'A class lasts at least 5 minutes.').max(600, 'A class lasts at most 10 hours.');
const capacity = z.number().int().min(1).max(10_000);
/** A ticket's price in the currency's minor unit; 0 is a free class. A priced class needs a currency. */
const priceMinor = z.number().int().min(0).max(100_000_000);
const currency = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z]{3}$/, 'An ISO 4217 code such as EUR.');

export const CreateClassroomInput = z
  .strictObject({
    communityId: z.uuid(),
    title,
    description: description.default(''),
    startsAt,
    durationMinutes,
    capacity,
    waitingRoom: z.boolean().default(false),
    priceMinor: priceMinor.default(0),
    currency: currency.optional(),
  })
  .refine((v) => v.priceMinor === 0 || v.currency !== undefined, { message: 'A priced class needs a currency.', path: ['currency'] })
  .describe('CreateClassroomInput');
export type CreateClassroomInput = z.infer<typeof CreateClassroomInput>;

export const UpdateClassroomInput = z
  .strictObject({
    title: title.optional(),
    description: description.optional(),
    startsAt: startsAt.optional(),
    durationMinutes: durationMinutes.optional(),
    capacity: capacity.optional(),
    waitingRoom: z.boolean().optional(),
    priceMinor: priceMinor.optional(),
    currency: currency.nullable().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'Change at least one field.')
  .describe('UpdateClassroomInput');
export type UpdateClassroomInput = z.infer<typeof UpdateClassroomInput>;

export const CohostInput = z.strictObject({ userId: z.uuid() });

export const ListClassroomsQuery = z.strictObject({
  communityId: z.uuid().optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const AttendanceQuery = z.strictObject({ format: z.enum(['json', 'csv']).default('json') });

export const ClassroomDto = z
  .object({
    id: z.uuid(),
    communityId: z.uuid(),
    title: z.string(),
    description: z.string(),
    startsAt: z.iso.datetime(),
    durationMinutes: z.number().int(),
    capacity: z.number().int(),
    waitingRoom: z.boolean(),
    priceMinor: z.number().int(),
    /** ISO 4217; null for a free class. */
    currency: z.string().nullable(),
    status: z.enum(CLASSROOM_STATUSES),
    host: UserRef,
    cohosts: z.array(UserRef),
    registeredCount: z.number().int(),
    waitlistCount: z.number().int(),
    /** The in-class chat: a channel used through the chat protocol (channel:join, message:send …). */
    channelId: z.uuid(),
    startedAt: z.iso.datetime().nullable(),
    endedAt: z.iso.datetime().nullable(),
    cancelledAt: z.iso.datetime().nullable(),
    /** The caller's own relation to the class. */
    myRole: z.enum(['host', 'cohost', 'learner']).nullable(),
    /** `held`: a paid seat kept for the caller until `myHoldExpiresAt` (buy the ticket to take it). */
    myRegistration: z.enum(['registered', 'waitlisted', 'held']).nullable(),
    /** 1-based waitlist position when waitlisted. */
    myWaitlistPosition: z.number().int().nullable(),
    myHoldExpiresAt: z.iso.datetime().nullable(),
  })
  .describe('Classroom');
export type ClassroomDto = z.infer<typeof ClassroomDto>;
export const ClassroomEnvelope = z.object({ classroom: ClassroomDto }).describe('ClassroomEnvelope');
export type ClassroomEnvelope = z.infer<typeof ClassroomEnvelope>;
export const ClassroomList = z.object({ data: z.array(ClassroomDto) }).describe('ClassroomList');
export type ClassroomList = z.infer<typeof ClassroomList>;

export const RegistrationDto = z
  .object({
    user: UserRef,
    status: z.enum(REGISTRATION_STATUSES),
    /** 1-based position among the waitlisted, else null. */
    waitlistPosition: z.number().int().nullable(),
    registeredAt: z.iso.datetime(),
    /** Set when the class ends: present for at least the attendance threshold. */
    attended: z.boolean().nullable(),
  })
  .describe('Registration');
export type RegistrationDto = z.infer<typeof RegistrationDto>;
/** My registration and the class as it stands after it (counts, waitlist position). */
export const RegistrationEnvelope = z.object({ registration: RegistrationDto, classroom: ClassroomDto }).describe('RegistrationEnvelope');
export type RegistrationEnvelope = z.infer<typeof RegistrationEnvelope>;
export const RegistrationList = z.object({ data: z.array(RegistrationDto) }).describe('RegistrationList');
export type RegistrationList = z.infer<typeof RegistrationList>;

export const RtcTokenDto = z
  .object({
    appId: z.string(),
    /** Derived from the classroom id on the server. */
    channel: z.string(),
    /** Stable, non-zero, per user. */
    uid: z.number().int().positive(),
    token: z.string(),
    role: z.enum(['publisher', 'subscriber']),
    expiresAt: z.iso.datetime(),
  })
  .describe('RtcToken');
export type RtcTokenDto = z.infer<typeof RtcTokenDto>;

export const AttendanceIntervalDto = z.object({ joinedAt: z.iso.datetime(), leftAt: z.iso.datetime().nullable() });
export const AttendanceRowDto = z
  .object({
    user: UserRef,
    role: z.enum(['host', 'cohost', 'learner']),
    minutesAttended: z.number(),
    /** minutesAttended / class length, 0–100. */
    percent: z.number(),
    attended: z.boolean(),
    intervals: z.array(AttendanceIntervalDto),
  })
  .describe('AttendanceRow');
export type AttendanceRowDto = z.infer<typeof AttendanceRowDto>;
export const AttendanceReportDto = z
  .object({
    classroomId: z.uuid(),
    title: z.string(),
    status: z.enum(CLASSROOM_STATUSES),
    startedAt: z.iso.datetime().nullable(),
    endedAt: z.iso.datetime().nullable(),
    /** Length of the class used for percentages (actual when ended, else scheduled). */
    classMinutes: z.number(),
    thresholdPercent: z.number(),
    rows: z.array(AttendanceRowDto),
  })
  .describe('AttendanceReport');
export type AttendanceReportDto = z.infer<typeof AttendanceReportDto>;

// ---------------------------------------------------------------- room state (realtime)

export const ParticipantDto = z.object({
  user: UserRef,
  /** The person's video uid (RtcTokenDto.uid), so video tiles can be labelled with names. */
  rtcUid: z.number().int().positive(),
  role: z.enum(ROOM_ROLES),
  /** At least one of the user's devices is in the room now. */
  present: z.boolean(),
  /** Invited to the stage and not yet answered. */
  stageInvited: z.boolean(),
  /** Raised hand, else null; the queue order is `handQueue`. */
  handRaisedAt: z.iso.datetime().nullable(),
});
export type ParticipantDto = z.infer<typeof ParticipantDto>;

export const WaitingDto = z.object({ user: UserRef, since: z.iso.datetime() });
export type WaitingDto = z.infer<typeof WaitingDto>;

export const PollResultsDto = z.object({
  /** Number of answers choosing each option, in option order. */
  counts: z.array(z.number().int()),
  /** Learners who answered. */
  answered: z.number().int(),
});
export type PollResultsDto = z.infer<typeof PollResultsDto>;

export const PollDto = z
  .object({
    id: z.uuid(),
    question: z.string(),
    options: z.array(z.string()),
    multiple: z.boolean(),
    /** A quiz has correct options; they are shown once the host reveals the results. */
    quiz: z.boolean(),
    timeLimitSeconds: z.number().int().nullable(),
    closesAt: z.iso.datetime().nullable(),
    status: z.enum(['open', 'closed']),
    revealed: z.boolean(),
    createdAt: z.iso.datetime(),
    /** Null until revealed (the host and co-hosts get live results through `poll:results`). */
    results: PollResultsDto.nullable(),
    /** Null until revealed, and for plain polls. */
    correctOptions: z.array(z.number().int()).nullable(),
  })
  .describe('Poll');
export type PollDto = z.infer<typeof PollDto>;

/** The room as everyone in it sees it. `version` counts changes: every `classroom:state` patch carries the next one. */
export const ClassroomStateDto = z
  .object({
    classroomId: z.uuid(),
    version: z.number().int(),
    status: z.enum(CLASSROOM_STATUSES),
    startedAt: z.iso.datetime().nullable(),
    endedAt: z.iso.datetime().nullable(),
    /** Everyone who has been admitted to the room, present or not, plus the host and co-hosts. */
    participants: z.array(ParticipantDto),
    /** User ids with a raised hand, first raised first. */
    handQueue: z.array(z.uuid()),
    /** Learners waiting to be admitted (waiting-room classes). */
    waiting: z.array(WaitingDto),
    /** The last "mute everyone" request: publishers who joined before it mute themselves. */
    muteAll: z.object({ at: z.iso.datetime(), by: z.uuid() }).nullable(),
    polls: z.array(PollDto),
  })
  .describe('ClassroomState');
export type ClassroomStateDto = z.infer<typeof ClassroomStateDto>;

/**
 * One change to the room. Apply when `version` is the next one; hold a patch that arrives early (patches of
 * concurrent changes may overtake each other between nodes) and re-join for a fresh snapshot if the gap persists.
 * Fields present replace what the client holds: `participants` and `polls` are upserts by id, `removed` drops
 * participants, `handQueue` and `waiting` are whole lists.
 */
export const ClassroomPatchDto = z.object({
  classroomId: z.uuid(),
  version: z.number().int(),
  status: z.enum(CLASSROOM_STATUSES).optional(),
  startedAt: z.iso.datetime().nullable().optional(),
  endedAt: z.iso.datetime().nullable().optional(),
  participants: z.array(ParticipantDto).optional(),
  removed: z.array(z.uuid()).optional(),
  handQueue: z.array(z.uuid()).optional(),
  waiting: z.array(WaitingDto).optional(),
  muteAll: z.object({ at: z.iso.datetime(), by: z.uuid() }).nullable().optional(),
  polls: z.array(PollDto).optional(),
});
export type ClassroomPatchDto = z.infer<typeof ClassroomPatchDto>;

export type JoinClassroomResult =
  | {
      admitted: true;
      state: ClassroomStateDto;
      /** The caller's own answers, by poll id (to show and change them). */
      myAnswers: Record<string, number[]>;
    }
  | { admitted: false; waiting: true };

export const ClassroomIdInput = z.strictObject({ classroomId: z.uuid() });
export const ClassroomUserInput = z.strictObject({ classroomId: z.uuid(), userId: z.uuid() });
export const CreatePollInput = z
  .strictObject({
    classroomId: z.uuid(),
    question: z.string().trim().min(1, 'Ask a question.').max(300),
    options: z
      .array(z.string().trim().min(1, 'Options cannot be empty.').max(120))
      .min(2, 'A poll needs at least 2 options.')
      .max(POLL_MAX_OPTIONS, `A poll has at most ${POLL_MAX_OPTIONS} options.`),
    multiple: z.boolean().default(false),
    /** Makes it a quiz: indexes into options. */
    correctOptions: z.array(z.number().int().min(0).max(POLL_MAX_OPTIONS - 1)).min(1).optional(),
    timeLimitSeconds: z.number().int().min(5).max(3600).optional(),
  })
  .refine((v) => new Set(v.options.map((o) => o.toLowerCase())).size === v.options.length, 'Options must differ.')
  .refine((v) => !v.correctOptions || v.correctOptions.every((i) => i < v.options.length), 'A correct option is not among the options.')
  .refine((v) => v.multiple || !v.correctOptions || v.correctOptions.length === 1, 'A single-choice quiz has one correct option.');
export const AnswerPollInput = z.strictObject({
  classroomId: z.uuid(),
  pollId: z.uuid(),
  options: z.array(z.number().int().min(0).max(POLL_MAX_OPTIONS - 1)).min(1, 'Choose an option.').max(POLL_MAX_OPTIONS),
});
export const PollIdInput = z.strictObject({ classroomId: z.uuid(), pollId: z.uuid() });

export interface ClassroomTokenEvent extends RtcTokenDto {
  classroomId: string;
}

export interface ClassroomServerEvents {
  /** A versioned change to a room the socket joined. */
  'classroom:state': (patch: ClassroomPatchDto) => void;
  /** To every registered learner, host and co-host (user rooms) when the class goes live. */
  'classroom:started': (event: { classroomId: string; communityId: string; title: string }) => void;
  /** Sent to a user after promotion to or demotion from the stage: a token with the new role. */
  'classroom:token': (event: ClassroomTokenEvent) => void;
  /** The host admitted or denied a learner in the waiting room (to that learner's user room). */
  'classroom:admission': (event: { classroomId: string; admitted: boolean }) => void;
  /** The user can no longer be in the room (removed from the community, registration cancelled, denied). */
  'classroom:removed': (event: { classroomId: string; reason: 'removed' | 'unregistered' | 'denied' }) => void;
  /** A seat opened and the learner moved from the waitlist to registered. */
  'classroom:registration_promoted': (event: { classroomId: string; title: string }) => void;
  /** Live aggregated answers, to the host and co-hosts only; keep the highest `resultsVersion` per poll. */
  'poll:results': (event: { classroomId: string; pollId: string; resultsVersion: number } & PollResultsDto) => void;
}

type Input<S extends z.ZodType> = z.input<S>;
type Done = Ack<{ classroomId: string; version: number }>;

/** Every client event is acked; actions answer with the version of the change they made. */
export interface ClassroomClientEvents {
  'classroom:join': (input: Input<typeof ClassroomIdInput>, ack: Ack<JoinClassroomResult>) => void;
  'classroom:leave': (input: Input<typeof ClassroomIdInput>, ack: Ack<{ classroomId: string }>) => void;
  'hand:raise': (input: Input<typeof ClassroomIdInput>, ack: Done) => void;
  'hand:lower': (input: Input<typeof ClassroomIdInput>, ack: Done) => void;
  /** Host/co-host: lower someone's hand. */
  'hand:dismiss': (input: Input<typeof ClassroomUserInput>, ack: Done) => void;
  'stage:invite': (input: Input<typeof ClassroomUserInput>, ack: Done) => void;
  'stage:accept': (input: Input<typeof ClassroomIdInput>, ack: Done) => void;
  'stage:decline': (input: Input<typeof ClassroomIdInput>, ack: Done) => void;
  /** Host/co-host removes a speaker; a speaker may remove themself. */
  'stage:remove': (input: Input<typeof ClassroomUserInput>, ack: Done) => void;
  'room:mute_all': (input: Input<typeof ClassroomIdInput>, ack: Done) => void;
  'waiting:admit': (input: Input<typeof ClassroomUserInput>, ack: Done) => void;
  'waiting:deny': (input: Input<typeof ClassroomUserInput>, ack: Done) => void;
  'poll:create': (input: Input<typeof CreatePollInput>, ack: Ack<{ classroomId: string; version: number; poll: PollDto }>) => void;
  /** Once per learner; a second answer is refused (`conflict`); use poll:change to change it while open. */
  'poll:answer': (input: Input<typeof AnswerPollInput>, ack: Ack<{ pollId: string; options: number[] }>) => void;
  'poll:change': (input: Input<typeof AnswerPollInput>, ack: Ack<{ pollId: string; options: number[] }>) => void;
  'poll:close': (input: Input<typeof PollIdInput>, ack: Done) => void;
  'poll:reveal': (input: Input<typeof PollIdInput>, ack: Done) => void;
}
