select
    order_month,
    count(*) as orders,
    sum(case when status_group = 'completed' then paid_cents else 0 end) as completed_cents,
    sum(case when status_group = 'returned' then paid_cents else 0 end) as returned_cents,
    sum(paid_cents) as paid_cents
from {{ ref('fct_orders') }}
group by order_month
