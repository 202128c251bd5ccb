/** Quizzes, assignments, certificates and instructor analytics of courses (wire shapes for REST and sockets). */

/** Live events of graded work, sent to the learner's own room (`rooms.user`). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CourseLearningServerEvents {}
