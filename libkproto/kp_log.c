/* kp_log.c: being written (placeholder during development) */
#include "config.h"
typedef int kp_placeholder_kp_log;
