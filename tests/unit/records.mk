## tests for records (see tests/local.mk)
