-- raw_input holds the file's columns as written (varchar, snake_case names) and _source, a handle on the raw row
-- that must pass through unchanged (the pipeline turns it into _source_row). One row out per row in: rules filter.
with source as (
    select * from raw_input
),

typed as (
    select
        _source,
        nullif(trim(trip_id), '') as trip_id,
        -- DuckDB's casts ignore surrounding spaces.
        try_cast(pickup_at as timestamp) as pickup_at,
        try_cast(distance_km as double) as distance_km,
        try_cast(fare as decimal(12, 2)) as fare,
        -- '2.5' must not round to 3: only whole numbers become integers.
        case
            when try_cast(passengers as double) = floor(try_cast(passengers as double))
                then try_cast(passengers as double)::integer
        end as passengers,
        lower(trim(payment_type)) as payment_type,
        nullif(trim(pickup_zone), '') as pickup_zone,
    from source
)

select * from typed
