import { Module } from '@nestjs/common';
import { TwoFactorFlows } from './two-factor.flows.js';
import { UserCommandHandler } from './user.command-handler.js';
import { UserViewHandler } from './user.queries.js';
import { UsersController } from './users.controller.js';

@Module({
  controllers: [UsersController],
  providers: [UserCommandHandler, UserViewHandler, TwoFactorFlows],
})
export class UsersModule {}
