/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log_dir_event.c - see log_dir_event.h.
 */
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_zk.h"
#include "log_dir.h"
#include "log_dir_event.h"

#define EVENT_PATH "/log_dir_event_notification/log_dir_event_"
#define LOG_DIR_FAILURE 1

/* On the main thread: write the notification (one per failed dir; the
 * controller reads the broker id only). */
static void announce(void *arg)
{
	struct broker *b = arg;
	char json[96];
	int rc;

	snprintf(json, sizeof(json), "{\"version\":1,\"broker\":%d,\"event\":%d}",
		 (int)b->id, LOG_DIR_FAILURE);
	rc = kp_zk_create_sync(b->zk, EVENT_PATH, json, (int32_t)strlen(json),
			       KP_ZK_PERSISTENT_SEQUENTIAL, NULL);
	if (rc != KP_ZK_OK)
		KP_ERROR("cannot tell the controller of an offline log dir: %s",
			 kp_zk_strerror(rc));
	else
		KP_INFO("told the controller of an offline log dir (%s)", EVENT_PATH);
}

/* Any thread, maybe under a partition's lock: only post. */
static void on_offline(struct log_dir *ld, void *arg)
{
	struct broker *b = arg;

	(void)ld;
	if (b->loop == NULL || kp_loop_post(b->loop, announce, b) < 0)
		KP_ERROR("cannot queue the notification of an offline log dir");
}

void log_dir_event_install(struct broker *b)
{
	for (int i = 0; i < b->ndirs; i++) {
		b->dirs[i]->on_offline_arg = b;
		b->dirs[i]->on_offline = on_offline;
	}
}

int log_dir_event_offline_count(const struct broker *b)
{
	int n = 0;

	for (int i = 0; i < b->ndirs; i++)
		n += log_dir_is_offline(b->dirs[i]);
	return n;
}
