import { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/** The module's own tables, in the configured schema (never dumped, never restored over). */
export class InitialSchema1763900000000 implements MigrationInterface {
  name = 'InitialSchema1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await queryRunner.query(`
      CREATE TABLE ${s}.backup_history (
        id uuid PRIMARY KEY,
        status varchar(16) NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        type varchar(16) NOT NULL,
        filename text NOT NULL,
        size_bytes bigint NOT NULL DEFAULT 0,
        sha256 char(64),
        compression varchar(16) NOT NULL,
        encrypted boolean NOT NULL DEFAULT false,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        finished_at timestamptz,
        duration_ms integer,
        notes text,
        tags text[] NOT NULL DEFAULT '{}',
        error text,
        verified_at timestamptz,
        metadata jsonb
      )`);
    await queryRunner.query(`CREATE INDEX backup_history_created_at_idx ON ${s}.backup_history (created_at DESC)`);
    await queryRunner.query(`
      CREATE TABLE ${s}.restore_history (
        id uuid PRIMARY KEY,
        backup_id uuid NOT NULL,
        status varchar(16) NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        safety_backup_id uuid,
        started_by text NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        duration_ms integer,
        error text,
        detail jsonb
      )`);
    await queryRunner.query(`CREATE INDEX restore_history_started_at_idx ON ${s}.restore_history (started_at DESC)`);
    await queryRunner.query(`
      CREATE TABLE ${s}.operation_lock (
        name text PRIMARY KEY,
        type varchar(16) NOT NULL,
        operation_id uuid NOT NULL,
        started_by text NOT NULL,
        started_at timestamptz NOT NULL,
        bytes_done bigint NOT NULL DEFAULT 0,
        holder_pid integer NOT NULL,
        instance_id text NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE ${s}.audit_log (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        action text NOT NULL,
        actor text,
        outcome varchar(16) NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
        target text,
        ip text,
        created_at timestamptz NOT NULL DEFAULT now(),
        detail jsonb
      )`);
    await queryRunner.query(`CREATE INDEX audit_log_created_at_idx ON ${s}.audit_log (created_at DESC)`);
    await queryRunner.query(`CREATE INDEX audit_log_actor_idx ON ${s}.audit_log (actor, created_at DESC)`);
    await queryRunner.query(`
      CREATE TABLE ${s}.backup_config (
        id integer PRIMARY KEY CHECK (id = 1),
        enabled boolean NOT NULL,
        schedule text,
        retention jsonb NOT NULL,
        archive_after_days integer,
        compression varchar(16) NOT NULL,
        verify_after_create boolean NOT NULL,
        updated_at timestamptz NOT NULL,
        updated_by text
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    for (const table of ['backup_config', 'audit_log', 'operation_lock', 'restore_history', 'backup_history']) {
      await queryRunner.query(`DROP TABLE IF EXISTS ${s}.${table}`);
    }
  }
}
