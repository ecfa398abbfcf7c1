import { Module } from '@nestjs/common';
import { BackupCodeHasher } from './backup-code.hasher.js';
import { TwoFactorFlows } from './two-factor.flows.js';
import { UserCommandHandler } from './user.command-handler.js';
import { UserViewHandler } from './user.queries.js';
import { UsersController } from './users.controller.js';
import { ResetRequestsController } from './reset-requests.controller.js';
import { TrustedDevicesHandler } from './trusted-devices.queries.js';

@Module({
  controllers: [UsersController, ResetRequestsController],
  providers: [UserCommandHandler, UserViewHandler, TrustedDevicesHandler, TwoFactorFlows, BackupCodeHasher],
})
export class UsersModule {}
