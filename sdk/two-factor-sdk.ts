/**
 * The two-factor enforcement host SDK: what a host application installs to ask the service
 * what must happen per request, hand its users to the service's pages, and trust the
 * second-factor assertions they send back. Imports nothing of the service itself.
 * @packageDocumentation
 */
export { createEnforcementClient, type DecideOptions, type EnforcementCacheOptions, type EnforcementClient, type EnforcementClientOptions, type TokenSource } from './enforcement.client.js';
export type { FeedState } from './change-feed.follower.js';
export type { HostDecisionDocument } from './host-decision.cache.js';
export type { EnforcementAction, EnforcementDecision, EnforcementMode, EnforcingOrganisation, Requirement } from './enforcement.decision.js';
export { HANDOFF_AUDIENCE, type HandoffClaims, type HandoffPurpose, type HandoffRequest, type HandoffSigning } from './handoff.token.js';
export { MAX_ASSERTION_LIFETIME_SECONDS, type AssertionKeys, type VerifiedAssertion } from './assertion.verifier.js';
export { MemoryReplayStore, type ReplayStore } from './replay.store.js';
export { EnforcementServiceError, TwoFactorAssertionError, type AssertionErrorCode } from './sdk.errors.js';
export { enforceRequest, type EnforcedUser, type EnforcementOptions, type EnforcementOutcome, type PathMatcher, type RequestFacts } from './request.enforcement.js';
export { expressEnforcement, type ExpressLikeNext, type ExpressLikeRequest, type ExpressLikeResponse } from './express.enforcement.js';
export { fastifyEnforcement, type FastifyEnforcementOptions } from './fastify.enforcement.js';
export { EnforcementGuard, type NestLikeRequest } from './nest.enforcement.guard.js';
export { DEFAULT_PROMPT_STRINGS, escapeHtml, renderPrompt, type PromptContext, type PromptStrings, type RenderPromptOptions } from './prompt.render.js';
