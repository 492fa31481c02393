## tests for client (see tests/local.mk)
