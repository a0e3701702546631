-- Atlas — Billing: the reference design's seed usage (SPEC §3): `demo` on scale with 120,000 tokens
-- and 540 requests, `acme` on growth with 42,000 tokens and 210 requests, recorded as adjustments
-- of the billing period current when the database is created, and their plans as the baseline of
-- the plan history.
INSERT INTO billing_usage_adjustments (tenant_id, period_start, tokens_delta, requests_delta, actor, created_at)
VALUES
    ('demo', CAST(EXTRACT(EPOCH FROM date_trunc('month', now(), 'UTC')) * 1000 AS BIGINT), 120000, 540, 'system:seed',
     CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)),
    ('acme', CAST(EXTRACT(EPOCH FROM date_trunc('month', now(), 'UTC')) * 1000 AS BIGINT), 42000, 210, 'system:seed',
     CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT));
INSERT INTO billing_usage_periods (tenant_id, period_start, adjusted_tokens, adjusted_requests)
SELECT tenant_id, period_start, tokens_delta, requests_delta FROM billing_usage_adjustments WHERE actor = 'system:seed';
INSERT INTO billing_plan_changes (tenant_id, plan, effective_at, source, created_at)
VALUES ('demo', 'scale', 0, 'seed', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)),
       ('acme', 'growth', 0, 'seed', CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT));
