import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { Problem } from './problem.js';
import type { Principal } from '../kernel/principal.js';
import { InvalidTokenError, TokenVerifier } from './token-verifier.js';

const PUBLIC_ROUTE = 'tfe:public';
export const PublicRoute = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/** Every route needs a bearer token unless it is marked public (health probes, docs). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    request.principal = await authenticate(this.verifier, request.headers.authorization);
    return true;
  }
}

/** The bearer token's principal, or a 401 problem; also used by the routes served outside Nest. */
export async function authenticate(verifier: TokenVerifier, header: string | undefined): Promise<Principal> {
  try {
    return await verifier.verify(bearerToken(header));
  } catch (error) {
    if (error instanceof InvalidTokenError) throw unauthorized('The bearer token is not valid or has expired.');
    throw error;
  }
}

/**
 * The principal of a bearer token verified shortly before, without waiting; undefined when the
 * token needs a full check (then `authenticate`). A missing or malformed header is a 401 here too.
 */
export function authenticatedBefore(verifier: TokenVerifier, header: string | undefined): Principal | undefined {
  return verifier.verifiedBefore(bearerToken(header));
}

function bearerToken(header: string | undefined): string {
  // RFC 9110 section 11.1: the scheme is case-insensitive, and one or more spaces may follow it.
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  if (!match) throw unauthorized('A bearer token is required.');
  return match[1]!;
}

const BEARER = /^bearer +([A-Za-z0-9._~+/=-]+)$/i;

function unauthorized(detail: string): Problem {
  return new Problem(401, 'unauthorized', detail, { headers: { 'www-authenticate': 'Bearer' } });
}
