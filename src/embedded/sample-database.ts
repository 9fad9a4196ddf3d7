export const SAMPLE_DATABASE = 'sample_shop';

/** A small shop with realistic data, for trying backups and restores right away. */
export const SAMPLE_SQL = `
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');
CREATE TABLE customers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL UNIQUE,
  full_name text NOT NULL,
  country char(2) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  preferences jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE products (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  name text NOT NULL,
  price numeric(10, 2) NOT NULL CHECK (price >= 0),
  stock integer NOT NULL DEFAULT 0
);
CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers(id),
  status order_status NOT NULL DEFAULT 'pending',
  placed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE order_items (
  order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  product_id bigint NOT NULL REFERENCES products(id),
  quantity integer NOT NULL CHECK (quantity > 0),
  unit_price numeric(10, 2) NOT NULL,
  PRIMARY KEY (order_id, product_id)
);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE VIEW revenue_by_country AS
  SELECT c.country, sum(i.quantity * i.unit_price) AS revenue
    FROM order_items i JOIN orders o ON o.id = i.order_id JOIN customers c ON c.id = o.customer_id
   WHERE o.status IN ('paid', 'shipped') GROUP BY c.country;

INSERT INTO customers (email, full_name, country, created_at, preferences)
SELECT 'customer' || g || '@example.com',
       (ARRAY['Ada', 'Grace', 'Linus', 'Zoë', 'José', 'Mei', 'Olu', 'Priya'])[1 + g % 8] || ' ' ||
       (ARRAY['Lovelace', 'Hopper', 'Torvalds', 'Müller', 'García', 'Chen', 'Okafor', 'Iyer'])[1 + (g / 8) % 8],
       (ARRAY['DE', 'US', 'FR', 'NG', 'IN', 'CN', 'BR', 'JP'])[1 + g % 8],
       now() - (g || ' hours')::interval,
       jsonb_build_object('newsletter', g % 3 = 0, 'language', (ARRAY['en', 'de', 'fr'])[1 + g % 3])
  FROM generate_series(1, 2000) g;
INSERT INTO products (sku, name, price, stock)
SELECT 'SKU-' || lpad(g::text, 5, '0'), 'Product ' || g, round((5 + random() * 195)::numeric, 2), (random() * 500)::int
  FROM generate_series(1, 300) g;
INSERT INTO orders (customer_id, status, placed_at)
SELECT 1 + (g * 7) % 2000, (ARRAY['pending', 'paid', 'shipped', 'cancelled'])[1 + g % 4]::order_status, now() - (g || ' minutes')::interval
  FROM generate_series(1, 8000) g;
INSERT INTO order_items (order_id, product_id, quantity, unit_price)
SELECT o.id, 1 + (o.id * k) % 300, 1 + (o.id + k) % 5, p.price
  FROM orders o CROSS JOIN generate_series(1, 3) k JOIN products p ON p.id = 1 + (o.id * k) % 300
ON CONFLICT DO NOTHING;
ANALYZE;
`;
