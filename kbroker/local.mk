## kbroker: the broker daemon.  Today: its configuration table (the daemon
## itself arrives with the first-cluster issue).

noinst_LIBRARIES += kbroker/libkbroker.a
kbroker_libkbroker_a_SOURCES = kbroker/broker_config.c kbroker/broker_config.h
