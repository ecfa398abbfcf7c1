import { Module } from '@nestjs/common';
import { BackupCodeHasher } from './backup-code.hasher.js';
import { TwoFactorFlows } from './two-factor.flows.js';
import { UserCommandHandler } from './user.command-handler.js';
import { UserViewHandler } from './user.queries.js';
import { UserByEmailHandler, UserTimelineHandler } from './user-lookup.queries.js';
import { UsersController } from './users.controller.js';
import { ResetRequestsController } from './reset-requests.controller.js';
import { TrustedDevicesHandler } from './trusted-devices.queries.js';
import { PendingResetRequestsHandler } from './reset-requests.queries.js';

@Module({
  controllers: [UsersController, ResetRequestsController],
  providers: [UserCommandHandler, UserViewHandler, UserByEmailHandler, UserTimelineHandler, TrustedDevicesHandler, PendingResetRequestsHandler, TwoFactorFlows, BackupCodeHasher],
})
export class UsersModule {}
