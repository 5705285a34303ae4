#include "http/peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#define V4_TAG ((uint64_t)0xffff << 32)

uint64_t peer_key(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return V4_TAG | ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
	if (sa->sa_family != AF_INET6)
		return 0;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (IN6_IS_ADDR_V4MAPPED(a)) {
		uint32_t v4;
		memcpy(&v4, a->s6_addr + 12, 4);
		return V4_TAG | ntohl(v4);
	}
	uint64_t k = 0;
	for (int i = 0; i < 8; i++)
		k = k << 8 | a->s6_addr[i];
	return k ? k : 1; /* ::/64 (only ::1 and such): not "unknown" */
}

void peer_name(const struct sockaddr *sa, char out[PEER_NAME_BUFSZ])
{
	snprintf(out, PEER_NAME_BUFSZ, "?");
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, PEER_NAME_BUFSZ);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, a->s6_addr + 12, out, PEER_NAME_BUFSZ);
		else
			inet_ntop(AF_INET6, a, out, PEER_NAME_BUFSZ);
	}
}

bool peer_host_is_ipv6(const char *host)
{
	return host && strchr(host, ':') != NULL;
}

bool peer_listen_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len, char *err,
                      size_t errlen)
{
	memset(ss, 0, sizeof *ss);
	char h[INET6_ADDRSTRLEN + 2];
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof h) {
		memcpy(h, host + 1, hl - 2);
		h[hl - 2] = '\0';
	} else {
		snprintf(h, sizeof h, "%s", host);
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (hl < sizeof h && inet_pton(AF_INET, h, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof *v4;
		return true;
	}
	if (hl < sizeof h + 2 && inet_pton(AF_INET6, h, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof *v6;
		return true;
	}
	snprintf(err, errlen, "bad listen address '%s' (an IPv4 address such as 127.0.0.1 or 0.0.0.0, or an IPv6 "
	                      "one such as ::1, or :: for every address of both)", host);
	return false;
}
