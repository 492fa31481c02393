/* kp_compress.h placeholder */
