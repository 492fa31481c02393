## kcontroller: the controller daemon.  Today: its configuration table.

noinst_LIBRARIES += kcontroller/libkcontroller.a
kcontroller_libkcontroller_a_SOURCES = kcontroller/controller_config.c kcontroller/controller_config.h
