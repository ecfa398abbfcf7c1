import { Module } from '@nestjs/common';
import { EnforcementController } from './enforcement.controller.js';
import { EnforcementDecisionHandler } from './enforcement.query.js';

@Module({
  controllers: [EnforcementController],
  providers: [EnforcementDecisionHandler],
})
export class EnforcementModule {}
