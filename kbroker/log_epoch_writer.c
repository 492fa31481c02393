/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_epoch_writer.c - the epoch writer thread; see log_epoch_writer.h
 * and log_epoch.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bg_thread.h"
#include "broker.h"
#include "kp_log.h"
#include "log_epoch.h"
#include "log_epoch_writer.h"

static struct bg_thread writer;
static bool running;
static int64_t interval_ms;

static void *run(void *arg)
{
	(void)arg;
	while (bg_thread_sleep(&writer, interval_ms)) {
		int n = log_epoch_write_pending();

		if (n > 100)
			KP_DEBUG("%d leader-epoch-checkpoint files written", n);
	}
	return NULL;
}

int log_epoch_writer_start(struct broker *b, char *err, size_t n)
{
	int rc;

	interval_ms = kp_config_int(&b->cfg, "leader.epoch.checkpoint.interval.ms");
	rc = bg_thread_start(&writer, "epoch-writer", run, NULL);
	if (rc != 0) {
		snprintf(err, n, "cannot start the epoch writer: %s", strerror(rc));
		return -1;
	}
	running = true;
	return 0;
}

void log_epoch_writer_stop(void)
{
	if (!running)
		return;
	bg_thread_stop(&writer);
	running = false;
}
