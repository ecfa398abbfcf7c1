import { Module } from '@nestjs/common';
import type { Config } from '../config/config.js';
import { CONFIG, TOKEN_KEY } from '../ports/injection.tokens.js';
import { HandoffVerifier, type HandoffKey } from './handoff.verifier.js';
import { JwksController, PagesController, PagesErrorFilter, PagesSettings } from './pages.controller.js';
import { ConsoleController, ConsoleErrorFilter } from './console.controller.js';
import { IntegrityJobs } from './console.jobs.js';

@Module({
  controllers: [PagesController, JwksController, ConsoleController],
  providers: [
    PagesSettings,
    PagesErrorFilter,
    ConsoleErrorFilter,
    IntegrityJobs,
    {
      provide: HandoffVerifier,
      // The same key and issuer as API tokens: a host signs hand-offs as it signs its API calls.
      useFactory: (key: HandoffKey, config: Config, settings: PagesSettings) => new HandoffVerifier(key, config.AUTH_ISSUER, settings.returnOrigins),
      inject: [TOKEN_KEY, CONFIG, PagesSettings],
    },
  ],
})
export class PagesModule {}
