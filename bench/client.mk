## benchmarks for client
