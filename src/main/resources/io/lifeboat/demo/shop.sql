-- Demo data beside pgbench's tables: varied types, non-ASCII text, large objects, a view,
-- an enum, a sequence and a partitioned table: the things a backup tool must not lose.
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled');

CREATE TABLE customers (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    email       text UNIQUE,
    country     char(2),
    born        date,
    balance     numeric(14, 2) DEFAULT 0,
    tags        text[],
    profile     jsonb,
    avatar      bytea,
    created_at  timestamptz DEFAULT now(),
    ip          inet,
    score       double precision,
    active      boolean DEFAULT true
);

INSERT INTO customers (name, email, country, born, balance, tags, profile, avatar, ip, score, active)
SELECT
    (ARRAY['Анна Каренина', 'Jürgen Müller', '山田太郎', 'Zoë Ångström', 'Łukasz Żółć', 'O''Brien', 'فاطمة', 'Ελένη'])[1 + i % 8]
        || ' #' || i,
    'user' || i || '@example.org',
    (ARRAY['RU', 'DE', 'JP', 'SE', 'PL', 'IE', 'EG', 'GR'])[1 + i % 8],
    date '1950-01-01' + (i * 37 % 20000),
    round((i * 12.34) % 100000, 2),
    ARRAY['tag' || i % 5, 'группа-' || i % 3],
    jsonb_build_object('visits', i % 100, 'note', 'naïve café ☕ ' || i, 'nested', jsonb_build_object('ok', i % 2 = 0)),
    decode(md5(i::text) || md5((i * 7)::text), 'hex'),
    ('10.' || (i % 250) || '.' || (i % 200) || '.' || (i % 100))::inet,
    i * 0.001 - 17.5,
    i % 10 <> 0
FROM generate_series(1, 5000) AS i;

CREATE TABLE orders (
    id          bigserial,
    customer_id bigint NOT NULL REFERENCES customers (id),
    status      order_status NOT NULL,
    amount      numeric(12, 2) NOT NULL,
    ordered_on  date NOT NULL,
    note        text,
    PRIMARY KEY (id, ordered_on)
) PARTITION BY RANGE (ordered_on);
CREATE TABLE orders_2025 PARTITION OF orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE orders_2026 PARTITION OF orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');

INSERT INTO orders (customer_id, status, amount, ordered_on, note)
SELECT 1 + i % 5000,
       (ARRAY['new', 'paid', 'shipped', 'cancelled']::order_status[])[1 + i % 4],
       (i % 997) + 0.99,
       date '2025-01-01' + i % 700,
       CASE WHEN i % 3 = 0 THEN 'доставка до двери 🚚' ELSE NULL END
FROM generate_series(1, 20000) AS i;

CREATE VIEW paid_totals AS
    SELECT c.country, sum(o.amount) AS total
    FROM orders o JOIN customers c ON c.id = o.customer_id
    WHERE o.status = 'paid' GROUP BY c.country;

CREATE SEQUENCE invoice_numbers START 1000;
SELECT nextval('invoice_numbers') FROM generate_series(1, 42);

-- Large objects: pg_dump stores them separately, and people forget them.
CREATE TABLE documents (id serial PRIMARY KEY, title text, content oid);
INSERT INTO documents (title, content)
SELECT 'Документ ' || i, lo_from_bytea(0, convert_to(repeat('Lifeboat large object ' || i || ' — ', 200 + i), 'UTF8'))
FROM generate_series(1, 20) AS i;
