-- current_rows: the latest version of every trip in the partitions being rebuilt.
with trips as (
    select * from current_rows
),

final as (
    select
        pickup_date,
        pickup_zone,
        count(*)::bigint as trips,
        sum(passengers)::bigint as passengers,
        sum(fare)::decimal(18, 2) as fare_total,
        sum(distance_km) as distance_km_total,
    from trips
    group by all
)

select * from final
order by pickup_date, pickup_zone
