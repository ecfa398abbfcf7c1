import { Module } from '@nestjs/common';
import { BackupCodeHasher } from './backup-code.hasher.js';
import { TwoFactorFlows } from './two-factor.flows.js';
import { UserCommandHandler } from './user.command-handler.js';
import { UserViewHandler } from './user.queries.js';
import { UserByEmailHandler, UserTimelineHandler } from './user-lookup.queries.js';
import { UsersController } from './users.controller.js';

@Module({
  controllers: [UsersController],
  providers: [UserCommandHandler, UserViewHandler, UserByEmailHandler, UserTimelineHandler, TwoFactorFlows, BackupCodeHasher],
})
export class UsersModule {}
