{%- set gold = var('gold_threshold_cents') -%}
{%- set silver = var('silver_threshold_cents') -%}
select
    c.customer_id,
    c.full_name,
    c.country_code,
    c.signup_date,
    co.first_order_date,
    co.most_recent_order_date,
    coalesce(co.order_count, 0) as order_count,
    coalesce(co.returned_count, 0) as returned_count,
    coalesce(co.lifetime_cents, 0) as lifetime_cents,
    case
        when coalesce(co.lifetime_cents, 0) >= {{ gold }} then 'gold'
        when coalesce(co.lifetime_cents, 0) >= {{ silver }} then 'silver'
        {%- if target.type != 'none' %}
        when co.customer_id is null then 'prospect'
        {%- endif %}
        else 'bronze'
    end as tier
from {{ ref('stg_customers') }} c
left join {{ ref('int_customer_orders') }} co on co.customer_id = c.customer_id
