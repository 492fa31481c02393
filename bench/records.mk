## benchmarks for records
