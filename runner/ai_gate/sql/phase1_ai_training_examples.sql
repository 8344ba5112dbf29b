-- A Phase-1-shaped ai_training_examples table for development databases: the shape
-- the product created before Phase 2 (no routing telemetry columns). ai-gate's
-- migration then adds the telemetry columns and indexes to it, as it does in
-- production. Never run this against the product's database.
create table if not exists {schema}.ai_training_examples (
    id uuid primary key default gen_random_uuid(),
    created_at timestamptz not null default now(),
    user_id uuid,
    prompt text,
    generation jsonb not null default '{{}}'::jsonb
);

alter table {schema}.ai_training_examples enable row level security;
