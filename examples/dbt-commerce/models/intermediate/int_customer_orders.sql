select
    o.customer_id,
    min(o.order_date) as first_order_date,
    max(o.order_date) as most_recent_order_date,
    count(*) as order_count,
    sum(case when o.status_group = 'returned' then 1 else 0 end) as returned_count,
    sum(coalesce(p.paid_cents, 0)) as lifetime_cents
from {{ ref('stg_orders') }} o
left join {{ ref('int_order_payments') }} p on p.order_id = o.order_id
group by o.customer_id
