/* stream: streaming responses (server-sent events).
 * Any thread appends to `pending` under the lock and pokes the loop with a
 * message; the loop sends what is pending when h2o is ready for more (one
 * h2o_send in flight at a time, `inflight` alive until proceed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "http/server_int.h"


struct http_stream {
	h2o_generator_t gen; /* first: h2o hands it back to proceed/stop */
	h2o_multithread_message_t msg;
	h2o_linklist_t link; /* in loop->streams */
	loop_t *loop;
	h2o_req_t *req; /* loop thread only; NULL once finished or gone */
	pthread_mutex_t lock;
	buf_t pending, inflight;
	bool end_requested, closed, msg_queued, sending;
	atomic_int refs;
	void (*on_close)(void *);
	void *ud;
};

static void stream_unref(http_stream_t *s)
{
	if (atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&s->lock);
	buf_free(&s->pending);
	buf_free(&s->inflight);
	free(s);
}

/* The request is over (client gone or final chunk sent): loop thread. */
static void stream_finish(http_stream_t *s, bool client_gone)
{
	if (!s->req)
		return;
	s->req = NULL;
	h2o_linklist_unlink(&s->link);
	pthread_mutex_lock(&s->lock);
	s->closed = true;
	pthread_mutex_unlock(&s->lock);
	if (client_gone && s->on_close)
		s->on_close(s->ud);
	stream_unref(s); /* the server's reference */
}

static void stream_flush(http_stream_t *s)
{
	if (!s->req || s->sending)
		return;
	pthread_mutex_lock(&s->lock);
	buf_t tmp = s->inflight;
	s->inflight = s->pending;
	s->pending = tmp;
	buf_reset(&s->pending);
	bool end = s->end_requested;
	pthread_mutex_unlock(&s->lock);
	if (s->inflight.len == 0 && !end)
		return;
	h2o_iovec_t iov = h2o_iovec_init(s->inflight.p ? s->inflight.p : "", s->inflight.len);
	s->sending = true;
	h2o_send(s->req, &iov, 1, end ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
	if (end) {
		conn_after_final_send(s->req);
		stream_finish(s, false);
	}
}

static void stream_proceed(h2o_generator_t *g, h2o_req_t *req)
{
	http_stream_t *s = (http_stream_t *)g;
	s->sending = false;
	buf_reset(&s->inflight);
	stream_flush(s);
}

static void stream_stop(h2o_generator_t *g, h2o_req_t *req)
{
	stream_finish((http_stream_t *)g, true);
}

void stream_on_message(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
	while (!h2o_linklist_is_empty(messages)) {
		h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
		h2o_linklist_unlink(&m->link);
		http_stream_t *s = H2O_STRUCT_FROM_MEMBER(http_stream_t, msg, m);
		pthread_mutex_lock(&s->lock);
		s->msg_queued = false;
		pthread_mutex_unlock(&s->lock);
		stream_flush(s);
		stream_unref(s); /* the message's reference */
	}
}

void stream_end_all(loop_t *loop)
{
	for (h2o_linklist_t *l = loop->streams.next; l != &loop->streams;) {
		http_stream_t *s = H2O_STRUCT_FROM_MEMBER(http_stream_t, link, l);
		l = l->next;
		http_stream_end(s);
		if (s->on_close)
			s->on_close(s->ud);
		s->on_close = NULL;
		stream_flush(s);
	}
}

http_stream_t *http_stream_start(http_req_t *r, const char *content_type, void (*on_close)(void *ud), void *ud)
{
	h2o_req_t *req = r->priv;
	loop_t *loop = H2O_STRUCT_FROM_MEMBER(loop_t, ctx, req->conn->ctx);
	http_stream_t *s = xcalloc(1, sizeof *s);
	s->gen.proceed = stream_proceed;
	s->gen.stop = stream_stop;
	s->loop = loop;
	s->req = req;
	s->on_close = on_close;
	s->ud = ud;
	pthread_mutex_init(&s->lock, NULL);
	atomic_store(&s->refs, 2); /* the owner's and the server's */
	h2o_linklist_insert(&loop->streams, &s->link);
	req->res.status = 200;
	req->res.reason = "OK";
	h2o_mem_pool_t *pool = &req->pool;
	h2o_add_header(pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
	h2o_add_header(pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
	h2o_add_header_by_str(pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL,
	                      h2o_strdup(pool, r->request_id, SIZE_MAX).base, strlen(r->request_id));
	h2o_start_response(req, &s->gen);
	/* an empty first chunk puts the headers on the wire now */
	s->sending = true;
	h2o_send(req, NULL, 0, H2O_SEND_STATE_IN_PROGRESS);
	r->status = 200; /* as logged and measured: the stream's start */
	srv_access_log(loop->srv, req, r);
	r->status = HTTP_STATUS_STREAMING;
	return s;
}

bool http_stream_send(http_stream_t *s, const char *p, size_t n)
{
	pthread_mutex_lock(&s->lock);
	if (s->closed || s->end_requested) {
		pthread_mutex_unlock(&s->lock);
		return false;
	}
	buf_put(&s->pending, p, n);
	bool poke = !s->msg_queued;
	s->msg_queued = true;
	if (poke)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&s->lock);
	if (poke)
		h2o_multithread_send_message(&s->loop->stream_receiver, &s->msg);
	return true;
}

void http_stream_end(http_stream_t *s)
{
	pthread_mutex_lock(&s->lock);
	bool poke = !s->closed && !s->end_requested && !s->msg_queued;
	s->end_requested = true;
	if (poke) {
		s->msg_queued = true;
		atomic_fetch_add(&s->refs, 1);
	}
	pthread_mutex_unlock(&s->lock);
	if (poke)
		h2o_multithread_send_message(&s->loop->stream_receiver, &s->msg);
}

void http_stream_release(http_stream_t *s)
{
	stream_unref(s);
}

