{{ config(materialized='view') }}
{%- set categories = ['books', 'games', 'home', 'tech'] %}
select
    o.order_month,
    {%- for category in categories %}
    sum(case when l.category = '{{ category }}' then l.line_cents else 0 end) as {{ category }}_cents{{ "," if not loop.last }}
    {%- endfor %}
from {{ ref('int_order_lines') }} l
join {{ ref('stg_orders') }} o on o.order_id = l.order_id
group by o.order_month
