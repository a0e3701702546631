-- Atlas — Billing: Stripe webhook events, customers, subscriptions and plan history.
-- Timestamps are BIGINT milliseconds since the Unix epoch, except Stripe's own `created`, kept in
-- Unix seconds as Stripe sends it.
--
-- Every verified event is stored once by its Stripe id (the primary key makes a replay a no-op) and
-- processed in the same transaction. `outcome` records what it did: applied, stale (older than an
-- applied event), ignored (a type Atlas does not act on), unresolved (no tenant yet: processed again
-- when a checkout links its customer).
CREATE TABLE billing_stripe_events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    created BIGINT NOT NULL,
    livemode BOOLEAN NOT NULL DEFAULT FALSE,
    tenant_id TEXT,
    customer_id TEXT,
    outcome TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    processed_at BIGINT
);
CREATE INDEX billing_stripe_events_unresolved ON billing_stripe_events (customer_id, created) WHERE outcome = 'unresolved';
CREATE INDEX billing_stripe_events_tenant ON billing_stripe_events (tenant_id, created);

CREATE TABLE billing_stripe_customers (
    customer_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    linked_at BIGINT NOT NULL,
    event_id TEXT NOT NULL
);
CREATE INDEX billing_stripe_customers_tenant ON billing_stripe_customers (tenant_id);

CREATE TABLE billing_subscriptions (
    tenant_id TEXT PRIMARY KEY,
    subscription_id TEXT,
    customer_id TEXT,
    status TEXT NOT NULL,
    plan TEXT,
    current_period_end BIGINT,
    past_due_since BIGINT,
    last_event_created BIGINT NOT NULL,
    last_event_id TEXT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX billing_subscriptions_subscription ON billing_subscriptions (subscription_id);

-- Plan history, for prorating a mid-period change (source: stripe, api, observed, seed).
CREATE TABLE billing_plan_changes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    plan TEXT NOT NULL,
    effective_at BIGINT NOT NULL,
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX billing_plan_changes_tenant ON billing_plan_changes (tenant_id, effective_at);
