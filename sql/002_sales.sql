-- salesd sales data, version 2: the POS lines of each day, the rows refused
-- on the way in, the state of each day's load, and the four KPI tables.
-- Applied inside the configured schema (the search_path when this runs).

-- One row per POS line. Partitioned by business day: the ETL builds a new
-- day's partition aside and swaps it in within one transaction, so a re-run
-- replaces a day whole, and pruning old data is a DROP. Partitions are named
-- sales_line_YYYYMMDD and created by the ETL.
CREATE TABLE sales_line (
    day             date NOT NULL,          -- business day (orderDate)
    order_type      text NOT NULL,          -- the order type it was downloaded as
    line            bigint NOT NULL,        -- line of the record in its CSV body
    invoice         text NOT NULL,
    store_invoice   text,
    order_time      text,
    store           text NOT NULL,
    product_id      text NOT NULL,
    product         text NOT NULL,
    barcode         text,
    brand           text NOT NULL,
    category        text NOT NULL,          -- top-level (subCategoryOf)
    sub_category    text,                   -- categoryName
    quantity        numeric NOT NULL,
    selling_price   numeric,
    discount        numeric,
    total           numeric NOT NULL,       -- totalProductPrice
    cost_price      numeric,                -- per unit
    gst_amount      numeric,
    payment_method  text,
    order_status    text,
    customer_name   text,                   -- NULL unless [source] customer_data keeps it
    customer_number text
) PARTITION BY RANGE (day);

-- Rows that did not pass validation, with why; replaced with each load of the day.
CREATE TABLE etl_reject (
    day         date NOT NULL,
    order_type  text NOT NULL,
    line        bigint NOT NULL,
    field       text,                       -- the offending column, if one
    reason      text NOT NULL,
    raw         text NOT NULL               -- the record as received (capped)
);
CREATE INDEX etl_reject_day ON etl_reject (day, order_type, line);

-- The outcome of the latest load of each day. Reports read a day only when
-- its state is 'loaded'; a 'quarantined' day has no lines and its reports
-- are withheld.
CREATE TABLE etl_day (
    day         date PRIMARY KEY,
    state       text NOT NULL CHECK (state IN ('loaded', 'quarantined')),
    lines       bigint NOT NULL,            -- loaded
    rejected    bigint NOT NULL,
    order_types text NOT NULL,
    error       text,                       -- why it was quarantined
    loaded_at   timestamptz NOT NULL DEFAULT now()
);

-- KPIs per day and key (excluded stores left out). orders = distinct
-- invoices; sales = sum of totals; cost = sum of cost price x quantity;
-- aov = sales / orders, rounded to 2 decimals.
CREATE TABLE kpi_store_day (
    day date NOT NULL, store text NOT NULL,
    orders bigint NOT NULL, sales numeric NOT NULL, quantity numeric NOT NULL,
    cost numeric NOT NULL, aov numeric NOT NULL,
    PRIMARY KEY (day, store)
);
CREATE TABLE kpi_category_day (
    day date NOT NULL, category text NOT NULL,
    orders bigint NOT NULL, sales numeric NOT NULL, quantity numeric NOT NULL,
    cost numeric NOT NULL, aov numeric NOT NULL,
    PRIMARY KEY (day, category)
);
CREATE TABLE kpi_brand_day (
    day date NOT NULL, brand text NOT NULL,
    orders bigint NOT NULL, sales numeric NOT NULL, quantity numeric NOT NULL,
    cost numeric NOT NULL, aov numeric NOT NULL,
    PRIMARY KEY (day, brand)
);
CREATE TABLE kpi_product_day (
    day date NOT NULL, product text NOT NULL,
    orders bigint NOT NULL, sales numeric NOT NULL, quantity numeric NOT NULL,
    cost numeric NOT NULL, aov numeric NOT NULL,
    PRIMARY KEY (day, product)
);
