## benchmarks for storage
