{#- Returned and pending returns count as one status group downstream. -#}
{%- set returned_statuses = ['returned', 'return_pending'] -%}
select
    id as order_id,
    customer_id,
    order_date,
    substr(order_date, 1, 7) as order_month,
    status,
    case
        when status in ({% for s in returned_statuses %}'{{ s }}'{% if not loop.last %}, {% endif %}{% endfor %}) then 'returned'
        when status = 'completed' then 'completed'
        else 'open'
    end as status_group
from {{ ref('raw_orders') }}
