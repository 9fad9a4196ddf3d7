import { Module } from '@nestjs/common';
import { BackupEvents } from './backup-events';

@Module({ providers: [BackupEvents], exports: [BackupEvents] })
export class EventsModule {}
