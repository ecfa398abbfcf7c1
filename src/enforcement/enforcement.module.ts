import { Module } from '@nestjs/common';
import { EnforcementController } from './enforcement.controller.js';
import { EnforcementDecisionHandler } from './enforcement.query.js';
import { EnforcementPreviewController } from './enforcement-preview.controller.js';
import { EnforcementPreviewHandler } from './enforcement-preview.query.js';

@Module({
  controllers: [EnforcementController, EnforcementPreviewController],
  providers: [EnforcementDecisionHandler, EnforcementPreviewHandler],
})
export class EnforcementModule {}
