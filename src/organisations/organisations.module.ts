import { Module } from '@nestjs/common';
import { OrganisationCommandHandler } from './organisation.command-handler.js';
import { OrganisationMembersHandler, OrganisationViewHandler } from './organisation.queries.js';
import { OrganisationsController } from './organisations.controller.js';
import { OrganisationHistoryHandler } from './organisation-history.query.js';
import { ExemptionsController } from './exemptions.controller.js';

@Module({
  controllers: [OrganisationsController, ExemptionsController],
  providers: [OrganisationCommandHandler, OrganisationViewHandler, OrganisationMembersHandler, OrganisationHistoryHandler],
})
export class OrganisationsModule {}
