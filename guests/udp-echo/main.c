/* udp-echo: sends every UDP datagram back to its sender (net/netapp.c). */
#include "netapp.h"

int main(void)
{
    return net_main(true);
}
