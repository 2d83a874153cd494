#ifndef NET_NETAPP_H
#define NET_NETAPP_H

#include "types.h"

/* The program of udp-sink (echo = false) and udp-echo (echo = true). */
int net_main(bool echo);

#endif
