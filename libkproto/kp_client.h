/* kp_client.h placeholder */
