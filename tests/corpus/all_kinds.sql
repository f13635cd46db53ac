-- A schema that uses every object kind of issue 12 at once (the shared fixture of the
-- "every PostgreSQL object" tests). Runs as a role that may create roles (the test server's
-- superuser) in a fresh database. Roles are cluster-wide, so they are created only if absent.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ak_reader') THEN
        CREATE ROLE ak_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ak_writer') THEN
        CREATE ROLE ak_writer NOLOGIN;
    END IF;
END
$$;

CREATE SCHEMA shop;
COMMENT ON SCHEMA shop IS 'The shop''s own objects';
GRANT USAGE ON SCHEMA shop TO ak_reader;

-- domains over domains
CREATE DOMAIN shop.nonempty_text AS text NOT NULL CONSTRAINT nonempty CHECK (VALUE <> '');
CREATE DOMAIN shop.sku AS shop.nonempty_text
    CONSTRAINT sku_format CHECK (VALUE ~ '^[A-Z]{3}-[0-9]+$');
CREATE DOMAIN shop.price AS numeric(12,2) DEFAULT 0 CHECK (VALUE >= 0);
COMMENT ON DOMAIN shop.price IS 'Money, never negative';

-- enum, composite and range types
CREATE TYPE shop.order_state AS ENUM ('new', 'paid', 'shipped');
CREATE TYPE shop.address AS (street text, city text COLLATE "C", zip varchar(10));
COMMENT ON TYPE shop.address IS 'A postal address';
CREATE TYPE shop.price_range AS RANGE (subtype = numeric);

-- sequences: a free-standing one and a serial column's
CREATE SEQUENCE shop.invoice_no AS integer START WITH 1000 INCREMENT BY 10 MINVALUE 1000
    MAXVALUE 999999 CYCLE CACHE 5;
COMMENT ON SEQUENCE shop.invoice_no IS 'Invoice numbers';
GRANT USAGE ON SEQUENCE shop.invoice_no TO ak_writer;

CREATE TABLE shop.products (
    id serial PRIMARY KEY,
    sku shop.sku UNIQUE,
    name text COLLATE "C" NOT NULL,
    price shop.price,
    ship_to shop.address,
    band shop.price_range
);
COMMENT ON CONSTRAINT products_sku_key ON shop.products IS 'One row per SKU';

-- a partitioned table with sub-partitions, an FK and an index declared on a partition
CREATE TABLE shop.orders (
    id bigint GENERATED ALWAYS AS IDENTITY,
    placed_at date NOT NULL,
    region text NOT NULL,
    state shop.order_state NOT NULL DEFAULT 'new',
    product_id integer NOT NULL,
    invoice integer DEFAULT nextval('shop.invoice_no'),
    PRIMARY KEY (id, placed_at, region)
) PARTITION BY RANGE (placed_at);
CREATE TABLE shop.orders_2025 PARTITION OF shop.orders
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY LIST (region);
CREATE TABLE shop.orders_2025_eu PARTITION OF shop.orders_2025 FOR VALUES IN ('eu');
CREATE TABLE shop.orders_2025_other PARTITION OF shop.orders_2025 DEFAULT;
CREATE TABLE shop.orders_2026 PARTITION OF shop.orders
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ALTER TABLE shop.orders_2026 ADD CONSTRAINT orders_2026_product_fk
    FOREIGN KEY (product_id) REFERENCES shop.products (id);
CREATE INDEX orders_2026_state_idx ON shop.orders_2026 (state);
COMMENT ON INDEX shop.orders_2026_state_idx IS 'Open orders of 2026';

-- an exclusion constraint (gist on a range type needs no extension)
CREATE TABLE shop.bookings (
    id integer PRIMARY KEY,
    during tsrange NOT NULL,
    EXCLUDE USING gist (during WITH &&)
);

-- row-level security with policies, permissive and restrictive
CREATE TABLE shop.notes (
    id integer PRIMARY KEY,
    owner_name text NOT NULL DEFAULT current_user,
    body text
);
ALTER TABLE shop.notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE shop.notes FORCE ROW LEVEL SECURITY;
CREATE POLICY notes_own ON shop.notes FOR SELECT TO ak_reader USING (owner_name = current_user);
CREATE POLICY notes_insert ON shop.notes AS RESTRICTIVE FOR INSERT
    WITH CHECK (owner_name = current_user);
COMMENT ON POLICY notes_own ON shop.notes IS 'Readers see their own notes';
GRANT SELECT ON shop.notes TO ak_reader;
GRANT SELECT (id, body), UPDATE (body) ON shop.notes TO ak_writer;

-- functions, a procedure, an aggregate, and triggers calling them
CREATE TABLE shop.audit (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    what text NOT NULL
);
CREATE FUNCTION shop.log_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog AS $$
BEGIN
    INSERT INTO shop.audit (what) VALUES (TG_TABLE_NAME || ' ' || TG_OP);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION shop.log_row() IS 'Writes one audit row';
CREATE FUNCTION shop.add_tax(amount numeric, rate numeric DEFAULT 0.2) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN amount * (1 + rate);
CREATE FUNCTION shop.add_tax(amount integer) RETURNS integer
    LANGUAGE sql IMMUTABLE AS 'SELECT amount + amount / 5';
REVOKE EXECUTE ON FUNCTION shop.add_tax(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION shop.add_tax(integer) TO ak_reader;
CREATE PROCEDURE shop.purge_audit(keep_days integer) LANGUAGE sql AS $$
    DELETE FROM shop.audit WHERE at < now() - make_interval(days => keep_days)
$$;
CREATE FUNCTION shop.sum_step(state numeric, value numeric) RETURNS numeric
    LANGUAGE sql IMMUTABLE AS 'SELECT state + value';
CREATE AGGREGATE shop.total(numeric) (SFUNC = shop.sum_step, STYPE = numeric, INITCOND = '0');

CREATE TRIGGER products_audit AFTER INSERT OR UPDATE OF price OR DELETE ON shop.products
    FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION shop.log_row();
CREATE TRIGGER notes_audit BEFORE INSERT ON shop.notes
    FOR EACH STATEMENT EXECUTE FUNCTION shop.log_row();
ALTER TABLE shop.notes DISABLE TRIGGER notes_audit;
COMMENT ON TRIGGER products_audit ON shop.products IS 'Every price change';

-- views: a plain one with a rule, a materialized one with its own index
CREATE VIEW shop.cheap_products AS SELECT id, name, price FROM shop.products WHERE price < 10;
CREATE RULE cheap_products_delete AS ON DELETE TO shop.cheap_products
    DO INSTEAD DELETE FROM shop.products WHERE id = OLD.id;
CREATE MATERIALIZED VIEW shop.order_counts AS
    SELECT region, count(*) AS n FROM shop.orders GROUP BY region;
CREATE UNIQUE INDEX order_counts_region ON shop.order_counts (region);
COMMENT ON MATERIALIZED VIEW shop.order_counts IS 'Orders per region';

GRANT SELECT, INSERT ON shop.products TO ak_writer WITH GRANT OPTION;
GRANT SELECT ON ALL TABLES IN SCHEMA shop TO ak_reader;
