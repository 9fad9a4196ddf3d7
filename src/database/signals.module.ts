import { Module } from '@nestjs/common';
import { DatabaseSignals } from './database-signals';

@Module({ providers: [DatabaseSignals], exports: [DatabaseSignals] })
export class SignalsModule {}
