-- raw_input holds the file's columns as written (varchar, snake_case names) and _source_row (its row number in the file).
with source as (
    select * from raw_input
),

typed as (
    select
        _source_row,
        nullif(trim(trip_id), '') as trip_id,
        try_cast(trim(pickup_at) as timestamp) as pickup_at,
        try_cast(trim(distance_km) as double) as distance_km,
        try_cast(trim(fare) as decimal(12, 2)) as fare,
        -- '2.5' must not round to 3: only whole numbers become integers.
        case
            when try_cast(trim(passengers) as double) = floor(try_cast(trim(passengers) as double))
                then try_cast(trim(passengers) as double)::integer
        end as passengers,
        lower(trim(payment_type)) as payment_type,
        nullif(trim(pickup_zone), '') as pickup_zone,
    from source
)

select * from typed
