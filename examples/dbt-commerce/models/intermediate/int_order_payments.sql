{%- set methods = var('payment_methods') -%}
select
    order_id,
    {%- for method in methods %}
    sum(case when payment_method = '{{ method }}' then amount_cents else 0 end) as {{ method }}_cents,
    {%- endfor %}
    count(*) as payment_count,
    sum(amount_cents) as paid_cents
from {{ ref('stg_payments') }}
group by order_id
