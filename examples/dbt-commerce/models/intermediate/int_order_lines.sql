{{ config(materialized='view') }}
select
    i.order_item_id,
    i.order_id,
    p.product_id,
    p.category,
    i.quantity,
    i.quantity * p.price_cents as line_cents
from {{ ref('stg_order_items') }} i
join {{ ref('stg_products') }} p on p.product_id = i.product_id
