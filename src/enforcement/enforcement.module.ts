import { Module } from '@nestjs/common';
import { EnforcementChangesController } from './enforcement-changes.controller.js';
import { EnforcementChangeFeed } from './enforcement-changes.feed.js';
import { EnforcementDocumentHandler } from './enforcement-document.query.js';
import type { Config } from '../config/config.js';
import type { Clock } from '../kernel/clock.js';
import type { ReadStore } from '../ports/read-store.port.js';
import { CLOCK, CONFIG, READ_MODEL_CHANGES, READ_MODEL_PROGRESS, READ_STORE } from '../ports/injection.tokens.js';
import type { ReadModelProgress } from '../projections/read-model-progress.js';
import type { ReadModelChanges } from '../projections/read-model.changes.js';
import { EnforcementCheckRoute } from './enforcement.controller.js';
import { EnforcementDocCache } from './enforcement-doc.cache.js';
import { EnforcementDecisionHandler, EnforcementDecisions } from './enforcement.query.js';
import { EnforcementPreviewController } from './enforcement-preview.controller.js';
import { EnforcementPreviewHandler } from './enforcement-preview.query.js';

@Module({
  controllers: [EnforcementChangesController, EnforcementPreviewController],
  providers: [
    {
      provide: EnforcementDocCache,
      inject: [READ_STORE, READ_MODEL_CHANGES, CONFIG],
      useFactory: (store: ReadStore, changes: ReadModelChanges | null, config: Config) => new EnforcementDocCache(store, changes, config.ENFORCEMENT_CACHE_SIZE),
    },
    {
      provide: EnforcementDecisions,
      inject: [EnforcementDocCache, READ_MODEL_PROGRESS, CONFIG, CLOCK],
      useFactory: (docs: EnforcementDocCache, progress: ReadModelProgress, config: Config, clock: Clock) => new EnforcementDecisions(docs, progress, config, clock),
    },
    EnforcementDecisionHandler,
    EnforcementCheckRoute,
    EnforcementPreviewHandler,
    EnforcementDocumentHandler,
    EnforcementChangeFeed,
  ],
  exports: [EnforcementDecisions],
})
export class EnforcementModule {}
