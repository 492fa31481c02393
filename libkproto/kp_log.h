/* kp_log.h placeholder */
