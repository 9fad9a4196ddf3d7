import { Module } from '@nestjs/common';
import { AuthModule } from './auth.module';
import { MeController } from './me.controller';

/** The caller's own rights (`GET /me`), apart from AuthModule, which every feature imports for its guard. */
@Module({ imports: [AuthModule], controllers: [MeController] })
export class AuthApiModule {}
