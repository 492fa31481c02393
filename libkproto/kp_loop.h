/* kp_loop.h placeholder */
