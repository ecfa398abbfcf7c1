import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller.js';
import { EventsHandler, StreamHistoryHandler } from './audit-history.queries.js';
import { ComplianceHandler, StateAsOfHandler, StreamIntegrityHandler } from './audit-replay.queries.js';
import { ProjectionRebuildController } from './projection-rebuild.controller.js';

@Module({
  controllers: [AuditController, ProjectionRebuildController],
  providers: [StreamHistoryHandler, EventsHandler, StateAsOfHandler, StreamIntegrityHandler, ComplianceHandler],
})
export class AuditModule {}
