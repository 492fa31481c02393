## kbroker: the broker daemon.  libkbroker.a holds its modules so unit
## tests and benchmarks link them directly.

noinst_LIBRARIES += kbroker/libkbroker.a
kbroker_libkbroker_a_SOURCES = kbroker/broker_config.c kbroker/broker_config.h \
	kbroker/log.c kbroker/log.h \
	kbroker/log_segment.c kbroker/log_segment.h \
	kbroker/log_index.c kbroker/log_index.h \
	kbroker/log_epoch.c kbroker/log_epoch.h \
	kbroker/log_checkpoint.c kbroker/log_checkpoint.h \
	kbroker/log_dir.c kbroker/log_dir.h
