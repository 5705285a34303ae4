/* peer: client and listen addresses, IPv4 and IPv6. A client address is
 * reduced to the key the per-address limits count by (connections,
 * refused tokens, sign-in backoff): an IPv4 address as it is; an IPv6
 * address by its /64 prefix, since one subscriber or host holds a whole
 * /64 and may take any of its 2^64 addresses; an IPv4-mapped IPv6
 * address (::ffff:a.b.c.d, how a dual-stack listener sees IPv4
 * clients) as the IPv4 address it carries. */
#ifndef BRISK_PEER_H
#define BRISK_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Room for an address as peer_name writes it. */
#define PEER_NAME_BUFSZ 48

/* The limits' key of a client address; 0 when it is neither IPv4 nor
 * IPv6. IPv4 keys are 0xffff00000000 | the address (host order), inside
 * ::/8, a block no IPv6 client is ever given, so the two never meet. */
uint64_t peer_key(const struct sockaddr *sa);
/* The address as text (IPv4-mapped ones as IPv4), for logs. */
void peer_name(const struct sockaddr *sa, char out[PEER_NAME_BUFSZ]);
/* A listen address: host is IPv4 (127.0.0.1, 0.0.0.0) or IPv6 (::1, ::
 * for every address of both families; brackets allowed). Fills *ss and
 * *len; false with a reason. */
bool peer_listen_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len, char *err,
                      size_t errlen);
/* True when host is an IPv6 address (URLs put it in brackets). */
bool peer_host_is_ipv6(const char *host);

#endif
