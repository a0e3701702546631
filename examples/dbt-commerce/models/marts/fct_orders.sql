{{ config(materialized='incremental', unique_key='order_id') }}
{%- set methods = var('payment_methods') %}
with lines as (
    select order_id, sum(line_cents) as items_cents, sum(quantity) as item_count
    from {{ ref('int_order_lines') }}
    group by order_id
)
select
    o.order_id,
    o.customer_id,
    o.order_date,
    o.order_month,
    o.status,
    o.status_group,
    coalesce(l.item_count, 0) as item_count,
    coalesce(l.items_cents, 0) as items_cents,
    {%- for method in methods %}
    coalesce(p.{{ method }}_cents, 0) as {{ method }}_cents,
    {%- endfor %}
    coalesce(p.paid_cents, 0) as paid_cents,
    case when p.order_id is null then 'unpaid' else 'paid' end as payment_state
from {{ ref('stg_orders') }} o
left join lines l on l.order_id = o.order_id
left join {{ ref('int_order_payments') }} p on p.order_id = o.order_id
{% if is_incremental() %}
where o.order_date >= (select max(order_date) from {{ this }})
{% endif %}
