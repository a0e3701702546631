select
    id as product_id,
    name as product_name,
    lower(category) as category,
    price_cents
from {{ ref('raw_products') }}
