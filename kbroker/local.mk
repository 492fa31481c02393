## kbroker
