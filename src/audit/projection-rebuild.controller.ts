import { Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../http/current-principal.decorator.js';
import { Problem } from '../http/problem.js';
import { hasRole, type Principal } from '../kernel/principal.js';
import { READ_MODEL_PROGRESS } from '../ports/injection.tokens.js';
import { ProjectionRunner } from '../projections/projection.runner.js';
import { RebuildInProgressError, type ProjectionRebuild, type RebuildProgress } from '../projections/projection.rebuild.js';
import type { ReadModelProgress } from '../projections/read-model-progress.js';

function requireOperator(principal: Principal): void {
  if (!hasRole(principal, 'operator')) throw new Problem(403, 'forbidden', 'Only operators may rebuild read models.');
}

@ApiTags('admin')
@Controller('v1/admin/projections/rebuild')
export class ProjectionRebuildController {
  constructor(@Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress) {}

  /** 202: the rebuild runs in the background; GET the same route to follow it. */
  @Post()
  @HttpCode(202)
  start(@CurrentPrincipal() principal: Principal): RebuildProgress {
    requireOperator(principal);
    try {
      return this.rebuild().start();
    } catch (error) {
      if (error instanceof RebuildInProgressError) throw new Problem(409, 'rebuild_in_progress', 'A rebuild is already running; follow it with GET.');
      throw error;
    }
  }

  @Get()
  status(@CurrentPrincipal() principal: Principal): RebuildProgress {
    requireOperator(principal);
    return this.rebuild().progress();
  }

  /**
   * Only the process running the projections can pause them for the swap; an API-only instance
   * (ROLES without `projector`) sends the operator there.
   */
  private rebuild(): ProjectionRebuild {
    if (this.progress instanceof ProjectionRunner) return this.progress.rebuild;
    throw new Problem(409, 'projector_not_here', 'This instance does not run the projector; ask the instance with ROLES including projector, or use the CLI.');
  }
}
