import { IdParam, MemberParams, PageQuery } from '../../contracts/communities.ts';
import {
  AuditPage,
  BanEnvelope,
  BanInput,
  BanList,
  CaseActionInput,
  CaseDetailEnvelope,
  CaseEnvelope,
  CasePage,
  CasesQuery,
  CreateReportInput,
  ReportEnvelope,
  RestrictionList,
  SuspendInput,
  SuspensionEnvelope,
} from '../../contracts/moderation.ts';
import { actOnCase, claimCase } from '../../domain/moderation/actions.ts';
import { listAuditLog } from '../../domain/moderation/auditLog.ts';
import { banUser, listBans, unbanUser } from '../../domain/moderation/bans.ts';
import { getCaseDetail, listCases } from '../../domain/moderation/caseQueries.ts';
import { createReport } from '../../domain/moderation/reports.ts';
import { listMyRestrictions } from '../../domain/moderation/restrictions.ts';
import { suspendUser, unsuspendUser } from '../../domain/moderation/suspensions.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import { reply, type RouteKit } from '../routeKit.ts';

const tags = ['moderation'];

/** Reports, the moderation queue and its actions, bans, suspensions and the audit log. */
export function moderationRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/me/restrictions',
      summary: 'My running timeouts and standing bans, by community, with until when and why',
      tags,
      auth: true,
      responses: { 200: { description: 'My restrictions', schema: RestrictionList } },
    },
    async (ctx) => ({ data: await listMyRestrictions(deps, actorOf(ctx)) }),
  );

  route(
    {
      method: 'post',
      path: '/reports',
      summary: 'Report a message, post, comment or person to the community moderators (201; 200 if you already reported it)',
      tags,
      auth: true,
      body: CreateReportInput,
      responses: { 201: { description: 'Reported', schema: ReportEnvelope }, 200: { description: 'Already reported by you', schema: ReportEnvelope } },
    },
    async (ctx, { body }) => {
      const { report, recorded } = await createReport(deps, actorOf(ctx), body);
      return reply(recorded ? 201 : 200, { report });
    },
  );

  route(
    {
      method: 'get',
      path: '/communities/:id/moderation/cases',
      summary: "The community's moderation queue, most recently active first; cursor pagination",
      tags,
      auth: true,
      params: IdParam,
      query: CasesQuery,
      responses: { 200: { description: 'A page of cases', schema: CasePage } },
    },
    (ctx, { params, query }) => listCases(deps, actorOf(ctx), params.id, query),
  );

  route(
    {
      method: 'get',
      path: '/moderation/cases/:id',
      summary: 'One case with its reports and context (surrounding messages, author history, prior actions)',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'The case', schema: CaseDetailEnvelope } },
    },
    async (ctx, { params }) => ({ case: await getCaseDetail(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'post',
      path: '/moderation/cases/:id/claim',
      summary: 'Claim a case (409 naming who, if another moderator has it)',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Claimed', schema: CaseEnvelope } },
    },
    async (ctx, { params }) => ({ case: await claimCase(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'post',
      path: '/moderation/cases/:id/actions',
      summary: 'Act on a case and close it: dismiss, hide, delete, warn, timeout, kick or ban',
      tags,
      auth: true,
      params: IdParam,
      body: CaseActionInput,
      responses: { 200: { description: 'Done; the closed case', schema: CaseEnvelope } },
    },
    async (ctx, { params, body }) => ({ case: await actOnCase(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'get',
      path: '/communities/:id/bans',
      summary: 'Standing bans and kick blocks (moderators)',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'Bans, newest first', schema: BanList } },
    },
    async (ctx, { params }) => ({ data: await listBans(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'post',
      path: '/communities/:id/bans',
      summary: 'Ban someone: removed from the community and all its rooms on every node; cannot rejoin',
      tags,
      auth: true,
      params: IdParam,
      body: BanInput,
      responses: { 201: { description: 'Banned', schema: BanEnvelope } },
    },
    async (ctx, { params, body }) => ({ ban: await banUser(deps, actorOf(ctx), params.id, body) }),
  );

  route(
    {
      method: 'delete',
      path: '/communities/:id/bans/:userId',
      summary: 'Lift a ban or a kick block (the person may join again)',
      tags,
      auth: true,
      params: MemberParams,
      responses: { 204: { description: 'Lifted' } },
    },
    async (ctx, { params }) => {
      await unbanUser(deps, actorOf(ctx), params.id, params.userId);
    },
  );

  route(
    {
      method: 'get',
      path: '/communities/:id/audit-log',
      summary: "The community's moderation audit log, newest first (admins and owners)",
      tags,
      auth: true,
      params: IdParam,
      query: PageQuery,
      responses: { 200: { description: 'A page of entries', schema: AuditPage } },
    },
    (ctx, { params, query }) => listAuditLog(deps, actorOf(ctx), params.id, query),
  );

  route(
    {
      method: 'post',
      path: '/users/:id/suspend',
      summary: 'Suspend an account (platform admins): every session revoked, every socket cut, sign-in refused',
      tags,
      auth: true,
      params: IdParam,
      body: SuspendInput,
      responses: { 200: { description: 'Suspended', schema: SuspensionEnvelope } },
    },
    async (ctx, { params, body }) => ({ suspension: await suspendUser(deps, actorOf(ctx), params.id, body.reason) }),
  );

  route(
    {
      method: 'delete',
      path: '/users/:id/suspend',
      summary: 'Lift a suspension (platform admins)',
      tags,
      auth: true,
      params: IdParam,
      responses: { 204: { description: 'Lifted' } },
    },
    async (ctx, { params }) => {
      await unsuspendUser(deps, actorOf(ctx), params.id);
    },
  );
}
