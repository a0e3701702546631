-- Monthly revenue adds up to the orders it summarises.
select r.order_month
from {{ ref('fct_monthly_revenue') }} r
join (
    select order_month, sum(paid_cents) as paid_cents from {{ ref('fct_orders') }} group by order_month
) o on o.order_month = r.order_month
where r.paid_cents <> o.paid_cents
