/** A database that exercises what a dump must carry: several schemas, enums, domains, sequences,
 * views, a materialized view, functions, triggers, jsonb, bytea, large objects, partitions, grants. */
export const RICH_FIXTURE = `
create extension if not exists pgcrypto;
create role reporting nologin;
create schema app;
create schema "Mixed Case";
create type app.mood as enum ('happy', 'sad', 'meh');
create domain app.email as text check (value like '%@%');
create table public.users (id serial primary key, email app.email unique not null, name text, mood app.mood,
  created_at timestamptz not null default now(), profile jsonb, avatar bytea);
insert into public.users (email, name, mood, profile, avatar)
  select 'u' || g || '@example.com', case when g % 10 = 0 then null else 'Zoë ' || g || E' \\'quoted\\' \\\\ tab\\t🚀' end,
         (array['happy','sad','meh'])[1 + g % 3]::app.mood, jsonb_build_object('n', g, 'tags', array['a', 'b']), gen_random_bytes(64)
  from generate_series(1, 3000) g;
create table app.orders (id bigint generated always as identity primary key, user_id int references public.users(id) on delete cascade,
  amount numeric(12, 2), placed_at timestamptz default now());
insert into app.orders (user_id, amount) select 1 + g % 3000, (g * 1.37)::numeric(12, 2) from generate_series(1, 8000) g;
create index orders_amount_idx on app.orders (amount);
create sequence app.invoice_seq start 1000;
select setval('app.invoice_seq', 4242);
create view app.user_totals as select u.id, sum(o.amount) total from public.users u join app.orders o on o.user_id = u.id group by u.id;
create materialized view app.big_spenders as select id, total from app.user_totals where total > 100;
create function app.touch() returns trigger language plpgsql as $$ begin new.placed_at := now(); return new; end $$;
create trigger orders_touch before update on app.orders for each row execute function app.touch();
create function "Mixed Case"."Add"(a int, b int) returns int language sql immutable as $$ select a + b $$;
create table "Mixed Case"."Events" (id int, at date not null, payload jsonb) partition by range (at);
create table "Mixed Case"."Events_2025" partition of "Mixed Case"."Events" for values from ('2025-01-01') to ('2026-01-01');
create table "Mixed Case"."Events_2026" partition of "Mixed Case"."Events" for values from ('2026-01-01') to ('2027-01-01');
insert into "Mixed Case"."Events" select g, date '2025-06-01' + g % 400, jsonb_build_object('g', g) from generate_series(1, 2000) g;
comment on table app.orders is 'orders of the shop';
grant select on app.orders to reporting;
grant usage on schema app to reporting;
select lo_from_bytea(0, convert_to('large object payload ' || repeat('x', 5000), 'UTF8'));
select lo_from_bytea(0, (select string_agg(gen_random_bytes(1000), ''::bytea) from generate_series(1, 100)));
`;

/** Changes made after the backup, which a restore must undo. */
export const MUTATIONS = `
delete from app.orders where id % 2 = 0;
update public.users set name = 'changed', avatar = null;
drop view app.user_totals cascade;
create table app.after_backup (x int);
insert into app.after_backup values (1);
create schema created_later;
create table created_later.t (x int);
create extension if not exists "uuid-ossp";
select setval('app.invoice_seq', 99999);
select lo_unlink(min(oid)) from pg_largeobject_metadata;
select lo_from_bytea(0, convert_to('new large object', 'UTF8'));
revoke select on app.orders from reporting;
drop table "Mixed Case"."Events_2026";
`;
