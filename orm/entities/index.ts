import { EmailChangeToken, PasswordResetToken } from './account.ts';
import { EmailOutbox, EmailVerificationToken, RefreshToken, Session, User } from './auth.ts';
import { Channel, ChannelEvent, ChannelMember, ChannelReadState, Message, MessageMention, MessageNotice, MessageReaction } from './chat.ts';
import {
  Classroom,
  ClassroomAttendance,
  ClassroomCohost,
  ClassroomConnection,
  ClassroomParticipant,
  ClassroomPoll,
  ClassroomPollAnswer,
  ClassroomRegistration,
} from './classrooms.ts';
import {
  Bundle,
  BundleItem,
  CommunityTier,
  Coupon,
  CouponRedemption,
  Dispute,
  LedgerEntry,
  Order,
  OrderLine,
  PaymentCustomer,
  PaymentEvent,
  Refund,
  Subscription,
  TaxRate,
} from './commerce.ts';
import { Community, CommunityInvite, CommunityMember, UserBlock } from './communities.ts';
import {
  AssignmentSubmission,
  Certificate,
  Course,
  CourseEnrolment,
  CourseInstructor,
  CourseLesson,
  CourseModule,
  LessonProgress,
  QuizAttempt,
} from './courses.ts';
import { Ebook, EbookBookmark, EbookChapter, EbookHighlight, EbookPosition } from './ebooks.ts';
import { Comment, CommentReaction, Post, PostPollVote, PostReaction, UserFollow, UserMute } from './feed.ts';
import {
  CommunityBan,
  CommunityModerationSettings,
  CommunityTimeout,
  ModerationAuditEntry,
  ModerationCase,
  Report,
} from './moderation.ts';
import { Asset, Entitlement } from './media.ts';
import { Notification, NotificationPreferences, PushSubscription } from './notifications.ts';
import { SavedSearch, SearchDocument, SearchHistory } from './search.ts';

export * from './account.ts';
export * from './auth.ts';
export * from './chat.ts';
export * from './classrooms.ts';
export * from './commerce.ts';
export * from './communities.ts';
export * from './courses.ts';
export * from './ebooks.ts';
export * from './feed.ts';
export * from './media.ts';
export * from './moderation.ts';
export * from './notifications.ts';
export * from './search.ts';

/**
 * Every table the migrations create has its entity here; orm/schemaDrift.test.ts fails when the two disagree.
 * The tuple keeps each entity's type, so `InferKyselyDB` (orm/db.ts) types queries from it.
 */
export const entities = [
  User,
  Session,
  RefreshToken,
  EmailVerificationToken,
  EmailOutbox,
  PasswordResetToken,
  EmailChangeToken,
  Community,
  CommunityMember,
  CommunityInvite,
  UserBlock,
  Channel,
  ChannelMember,
  Message,
  ChannelEvent,
  MessageReaction,
  MessageMention,
  MessageNotice,
  ChannelReadState,
  Classroom,
  ClassroomCohost,
  ClassroomRegistration,
  ClassroomParticipant,
  ClassroomConnection,
  ClassroomAttendance,
  ClassroomPoll,
  ClassroomPollAnswer,
  Post,
  PostPollVote,
  Comment,
  PostReaction,
  CommentReaction,
  UserFollow,
  UserMute,
  ModerationCase,
  Report,
  ModerationAuditEntry,
  CommunityBan,
  CommunityTimeout,
  CommunityModerationSettings,
  Asset,
  Entitlement,
  Course,
  CourseInstructor,
  CourseModule,
  CourseLesson,
  CourseEnrolment,
  LessonProgress,
  QuizAttempt,
  AssignmentSubmission,
  Certificate,
  Ebook,
  EbookChapter,
  EbookPosition,
  EbookHighlight,
  EbookBookmark,
  CommunityTier,
  Bundle,
  BundleItem,
  TaxRate,
  Coupon,
  Order,
  OrderLine,
  CouponRedemption,
  PaymentCustomer,
  Subscription,
  Refund,
  Dispute,
  PaymentEvent,
  LedgerEntry,
  Notification,
  NotificationPreferences,
  PushSubscription,
  SearchDocument,
  SearchHistory,
  SavedSearch,
] as const;
