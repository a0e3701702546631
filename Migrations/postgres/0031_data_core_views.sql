-- Atlas — Data: Atlas's own tables as dbt sources, read-only views named `data_core_<table>` so
-- that `{{ source('core', 'tenant_usage') }}` resolves like every other source (`data_<group>_<table>`).
-- `tokens`/`requests` are the current billing period's usage, the numbers `GET /tenants/current`
-- shows: metered events plus adjustments of the UTC month containing now.
CREATE VIEW data_core_tenants AS
SELECT t.id AS tenant, t.plan AS plan, t.status AS status, t.created_at AS created_at
FROM core_tenants t;

CREATE VIEW data_core_tenant_usage AS
SELECT t.id AS tenant, t.plan AS plan, t.status AS status,
       COALESCE(p.tokens + p.adjusted_tokens, 0) AS tokens,
       COALESCE(p.events + p.adjusted_requests, 0) AS requests
FROM core_tenants t
LEFT JOIN billing_usage_periods p
    ON p.tenant_id = t.id
   AND p.period_start = (extract(epoch FROM date_trunc('month', now() AT TIME ZONE 'UTC')) * 1000)::bigint;
