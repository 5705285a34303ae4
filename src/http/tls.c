/* tls: HTTPS through h2o's OpenSSL sockets. The handshake is run here
 * rather than by h2o_accept so the connection layer hands the socket to
 * h2o itself once the protocol is known (ALPN "h2" -> HTTP/2, else
 * HTTP/1.1), its HTTP/1 head check in front, as on a plain connection. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "core/log.h"
#include "core/mem.h"
#include "http/server_int.h"


SSL_CTX *tls_context_new(const http_config *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
		unsigned long e = ERR_get_error();
		snprintf(err, errlen, "server.tls_cert %s: cannot read the certificate chain (%s)", cfg->tls_cert,
		         e ? ERR_reason_error_string(e) : "unknown error");
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1) {
		unsigned long e = ERR_get_error();
		snprintf(err, errlen, "server.tls_key %s: cannot read the private key (%s)", cfg->tls_key,
		         e ? ERR_reason_error_string(e) : "unknown error");
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "server.tls_key %s does not match the certificate of server.tls_cert %s", cfg->tls_key,
		         cfg->tls_cert);
		goto fail;
	}
	h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
	ERR_clear_error();
	return ctx;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

typedef struct {
	loop_t *loop;
	h2o_socket_t *sock;
	void (*on_ready)(h2o_socket_t *sock, bool h2, struct timeval at);
	h2o_timeout_entry_t timeout;
	struct timeval at;
} handshake_t;

static void handshake_free(handshake_t *h)
{
	if (h2o_timeout_is_linked(&h->timeout))
		h2o_timeout_unlink(&h->timeout);
	h->sock->data = NULL;
	free(h);
}

/* A client that opens a connection and never finishes the handshake
 * would hold it until shed: it is closed after h2o's handshake timeout. */
static void on_handshake_timeout(h2o_timeout_entry_t *entry)
{
	handshake_t *h = H2O_STRUCT_FROM_MEMBER(handshake_t, timeout, entry);
	h2o_socket_t *sock = h->sock;
	handshake_free(h);
	h2o_socket_close(sock);
}

static void on_handshake(h2o_socket_t *sock, const char *err)
{
	handshake_t *h = sock->data;
	void (*on_ready)(h2o_socket_t *, bool, struct timeval) = h->on_ready;
	struct timeval at = h->at;
	handshake_free(h);
	if (err) {
		h2o_socket_close(sock);
		return;
	}
	h2o_iovec_t proto = h2o_socket_ssl_get_selected_protocol(sock);
	bool h2 = false;
	for (const h2o_iovec_t *id = h2o_http2_alpn_protocols; id->len; id++)
		if (proto.len == id->len && !memcmp(proto.base, id->base, proto.len))
			h2 = true;
	on_ready(sock, h2, at);
}

void tls_accept(loop_t *loop, h2o_socket_t *sock, void (*on_ready)(h2o_socket_t *sock, bool h2, struct timeval at))
{
	handshake_t *h = xcalloc(1, sizeof *h);
	h->loop = loop;
	h->sock = sock;
	h->on_ready = on_ready;
	gettimeofday(&h->at, NULL);
	h->timeout.cb = on_handshake_timeout;
	h2o_timeout_link(loop->ctx.loop, &loop->ctx.handshake_timeout, &h->timeout);
	sock->data = h;
	h2o_socket_ssl_handshake(sock, loop->srv->ssl_ctx, NULL, on_handshake);
}
