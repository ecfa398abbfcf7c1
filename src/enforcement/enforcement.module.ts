import { Module } from '@nestjs/common';
import { EnforcementController } from './enforcement.controller.js';
import { EnforcementChangesController } from './enforcement-changes.controller.js';
import { EnforcementChangeFeed } from './enforcement-changes.feed.js';
import { EnforcementDocumentHandler } from './enforcement-document.query.js';
import { EnforcementDecisionHandler } from './enforcement.query.js';
import { EnforcementPreviewController } from './enforcement-preview.controller.js';
import { EnforcementPreviewHandler } from './enforcement-preview.query.js';

@Module({
  controllers: [EnforcementChangesController, EnforcementController, EnforcementPreviewController],
  providers: [EnforcementDecisionHandler, EnforcementPreviewHandler, EnforcementDocumentHandler, EnforcementChangeFeed],
})
export class EnforcementModule {}
