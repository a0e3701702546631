select order_id, paid_cents
from {{ ref('fct_orders') }}
where paid_cents < 0
