/* udp-sink: counts and checks every UDP datagram sent to it (net/netapp.c). */
#include "netapp.h"

int main(void)
{
    return net_main(false);
}
