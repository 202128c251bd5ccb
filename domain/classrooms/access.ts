// The classroom policy lives with every other access rule, in domain/access/classroom.ts.
export {
  authorizeClassroom,
  checkClassroomAccess,
  ClassroomPolicy,
  loadClassroomAccess,
  visibleClassroomIds,
  type Admission,
  type Classroom,
  type ClassroomAccess,
  type ClassroomAction,
  type StageState,
} from '../access/classroom.ts';
export { assertLive } from './status.ts';
