import type { ClassroomPatchDto, PollResultsDto, RtcTokenDto } from '../../contracts/classrooms.ts';

/*
 * The classrooms' domain events, emitted after commit. A room's shared state changes only through numbered patches
 * (`classroom.state_changed`, one per state version, in version order per room); everything else concerns particular
 * people: who hears that a class was scheduled or moved, started or was called off, who moved up from the waitlist,
 * who was admitted, taken out of the room, or given a new video role. Losing or gaining the class chat is announced with the channel events
 * (`channel.added`, `channel.access_revoked`), like any other channel.
 */

/** Why someone was taken out of a room: left the community, gave up their registration, or turned away by the host. */
export type EvictionReason = 'removed' | 'unregistered' | 'denied';

/** A learner's answer moved a poll's live results (answers stay with the host and co-hosts until revealed). */
export type PollResultsEvent = { classroomId: string; pollId: string; resultsVersion: number } & PollResultsDto;

declare module '../shared/events.ts' {
  interface DomainEvents {
    /** One change to a room's shared state, with the state version it used. */
    'classroom.state_changed': { patch: ClassroomPatchDto };
    /**
     * A class was scheduled or its start time changed (`startsAt` ISO). Also recorded durably in the change's
     * transaction, so reminders follow the schedule even if the node dies right after the commit.
     */
    'classroom.scheduled': { classroomId: string; startsAt: string; status: 'scheduled' };
    /**
     * A scheduled or live class was edited without moving its start (title, description, length, seats, waiting room,
     * price; a move is `classroom.scheduled`). Also recorded durably in the edit's transaction.
     */
    'classroom.updated': { classroomId: string };
    /**
     * The class went live. `attendeeIds`: its host, co-hosts and registered learners. Also recorded durably in the
     * change's transaction.
     */
    'classroom.started': { classroomId: string; communityId: string; title: string; attendeeIds: string[] };
    /**
     * Called off before it started. `learnerIds`: who was registered or waitlisted; their places are gone. Also
     * recorded durably in the change's transaction.
     */
    'classroom.cancelled': { classroomId: string; communityId: string; learnerIds: string[] };
    /** The host ended the live class. Also recorded durably in the change's transaction. */
    'classroom.ended': { classroomId: string; communityId: string };
    /** Seats freed up and these learners moved from the waitlist to registered (never emitted for nobody). */
    'classroom.registrations_promoted': { classroomId: string; title: string; userIds: string[] };
    /** Someone now runs the room with the host. */
    'classroom.cohost_added': { classroomId: string; userId: string };
    /** Someone no longer runs the room. */
    'classroom.cohost_removed': { classroomId: string; userId: string };
    /** The host or a co-host let a learner in from the waiting room, or turned them away while they waited. */
    'classroom.admission_decided': { classroomId: string; userId: string; admitted: boolean };
    /**
     * Someone can no longer be in the room; they were in it (on the roster, waiting or connected) when `wasInRoom`.
     * A learner turned away while still waiting hears `classroom.admission_decided` instead.
     */
    'classroom.participant_removed': { classroomId: string; userId: string; reason: EvictionReason; wasInRoom: boolean };
    /** Someone's video role changed (on or off the stage, made a co-host during the class): a token for the new role. */
    'classroom.video_role_changed': { classroomId: string; userId: string; token: RtcTokenDto };
    /** A learner answered a poll or changed their answer. */
    'poll.results_changed': { results: PollResultsEvent };
  }
}
