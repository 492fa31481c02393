/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker_config.h - the table of kbroker's configuration keys: every
 * key of Kafka 2.8's broker, with what kbroker does with it.
 */
#ifndef BROKER_CONFIG_H
#define BROKER_CONFIG_H

#include <stddef.h>

#include "kp_config.h"

extern const struct kp_config_def broker_config_defs[];
extern const size_t broker_config_ndefs;
/* Keys that exist only as dynamic configs (the replication throttles). */
extern const struct kp_config_def broker_dynamic_defs[];
extern const size_t broker_dynamic_ndefs;

#endif /* BROKER_CONFIG_H */
