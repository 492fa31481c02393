# SPDX-License-Identifier: Apache-2.0
## kcontroller: the controller daemon.  libkcontroller.a holds its modules
## so unit tests can link them.

noinst_LIBRARIES += kcontroller/libkcontroller.a
kcontroller_libkcontroller_a_SOURCES = kcontroller/controller_config.c kcontroller/controller_config.h \
	kcontroller/controller.c kcontroller/controller.h \
	kcontroller/ctl_authz.c kcontroller/ctl_authz.h \
	kcontroller/ctl_event.c kcontroller/ctl_event.h \
	kcontroller/ctl_ctx.c kcontroller/ctl_ctx.h \
	kcontroller/ctl_zk.c kcontroller/ctl_zk.h \
	kcontroller/ctl_batch.c kcontroller/ctl_batch.h \
	kcontroller/ctl_partition.c kcontroller/ctl_partition.h \
	kcontroller/ctl_logdir.c kcontroller/ctl_logdir.h \
	kcontroller/ctl_topic.c kcontroller/ctl_topic.h \
	kcontroller/ctl_broker.c kcontroller/ctl_broker.h \
	kcontroller/ctl_alter_isr.c kcontroller/ctl_alter_isr.h \
	kcontroller/ctl_failover.c kcontroller/ctl_failover.h \
	kcontroller/election.c kcontroller/election.h \
	kcontroller/reassign.c kcontroller/reassign.h \
	kcontroller/channel.c kcontroller/channel.h \
	kcontroller/server.c kcontroller/server.h \
	kcontroller/ctl_metrics.c kcontroller/ctl_metrics.h \
	kbroker/transport.h kbroker/transport_plain.c \
	kbroker/transport_tls.c kbroker/transport_tls.h
## the listener's transports are the broker's (kbroker/transport_*.c)
kcontroller_libkcontroller_a_CFLAGS = $(AM_CFLAGS) $(ZOOKEEPER_CFLAGS) $(OPENSSL_CFLAGS) \
	-I$(top_srcdir)/kbroker

sbin_PROGRAMS += kcontroller/kcontroller
## the broker's table too: a Kafka broker key in kcontroller.properties
## loads without a warning (it is named as not acted on)
kcontroller_kcontroller_SOURCES = kcontroller/main.c kbroker/broker_config.c \
	kbroker/broker_config.h
kcontroller_kcontroller_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/kcontroller \
	-I$(top_srcdir)/kbroker $(OPENSSL_CFLAGS)
kcontroller_kcontroller_LDADD = kcontroller/libkcontroller.a libkproto/libkproto.la $(OPENSSL_LIBS)

## the daemon and its configuration file (etc/local.mk installs the file)
dist_man_MANS += man/man8/kcontroller.8 man/man5/kcontroller.properties.5
