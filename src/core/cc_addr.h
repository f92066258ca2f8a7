/*
 * cc_addr.h: may an outbound request to a tenant-controlled URL connect to
 * this address? (decisions.md section 3: only globally reachable
 * addresses, judged on the address actually connected to), httpd-free.
 *
 * "Globally reachable" follows the IANA IPv4 and IPv6 Special-Purpose
 * Address Registries (the table and its date are in cc_addr.c); addresses
 * that embed an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo) are judged
 * by the embedded address too.
 */
#ifndef CC_ADDR_H
#define CC_ADDR_H

#include <stddef.h>

struct sockaddr;

/*
 * NULL when sa is a globally reachable IPv4 or IPv6 address, else a short
 * static reason naming the range ("loopback", "private-use",
 * "IPv4-mapped loopback", "Teredo client link-local", ...), for logs.
 * Anything that is not a complete AF_INET / AF_INET6 address (another
 * family, sa NULL, salen shorter than the family's sockaddr) is refused.
 */
const char *cc_addr_refusal(const struct sockaddr *sa, size_t salen);

/* The same judgement on raw addresses in network byte order. */
const char *cc_addr_refusal_v4(const unsigned char a[4]);
const char *cc_addr_refusal_v6(const unsigned char a[16]);

/*
 * The same judgement on a textual address (inet_pton forms only: dotted
 * quad, or IPv6 without brackets or zone). Returns 0 and sets *reason (NULL
 * when global), or -1 when ip is not an address (*reason untouched).
 */
int cc_addr_refusal_str(const char *ip, const char **reason);

#endif
