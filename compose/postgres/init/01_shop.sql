-- Source tables of the `raw_pg` replication (src/ingestion/lakehouse_ingestion/defs/postgres/).
-- The container runs this once on an empty volume; the tests run it against their own server.
-- orders.updated_at is the incremental replication's update key: bump it on every change.
CREATE TABLE IF NOT EXISTS public.customers (
    id bigint PRIMARY KEY,
    first_name text NOT NULL,
    last_name text NOT NULL
);

CREATE TABLE IF NOT EXISTS public.orders (
    id bigint PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES public.customers (id),
    order_date date NOT NULL,
    status text NOT NULL,
    updated_at timestamp NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public.payments (
    id bigint PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES public.orders (id),
    payment_method text NOT NULL,
    amount bigint NOT NULL
);
