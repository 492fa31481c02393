## tools: operator command-line tools.

## kcluster: a local cluster (ZooKeeper, controllers, brokers) in one command
bin_PROGRAMS += tools/kcluster
tools_kcluster_SOURCES = tools/kcluster.c
tools_kcluster_CPPFLAGS = $(AM_CPPFLAGS) -DSBINDIR='"$(sbindir)"'
tools_kcluster_LDADD = libkproto/libkproto.la
dist_man_MANS += man/man1/kcluster.1
