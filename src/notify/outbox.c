#include "notify/outbox.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/date.h"

struct outbox {
	store_t *store;
	char *smtp_url, *smtp_from, *smtp_user, *smtp_password;
	int timeout_ms, max_attempts, retry_base_ms;
	pthread_t tid;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool kicked, stop;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *dup_opt(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

outbox_t *outbox_new(store_t *s, const outbox_opts *o)
{
	pthread_once(&curl_once, curl_init);
	outbox_t *ob = xcalloc(1, sizeof *ob);
	ob->store = s;
	ob->smtp_url = dup_opt(o ? o->smtp_url : NULL);
	ob->smtp_from = dup_opt(o ? o->smtp_from : NULL);
	ob->smtp_user = dup_opt(o ? o->smtp_user : NULL);
	ob->smtp_password = dup_opt(o ? o->smtp_password : NULL);
	ob->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : 10000;
	ob->max_attempts = o && o->max_attempts > 0 ? o->max_attempts : 8;
	ob->retry_base_ms = o && o->retry_base_ms > 0 ? o->retry_base_ms : 5000;
	pthread_mutex_init(&ob->lock, NULL);
	pthread_cond_init(&ob->wake, NULL);
	return ob;
}

void outbox_kick(outbox_t *ob)
{
	if (!ob)
		return;
	pthread_mutex_lock(&ob->lock);
	ob->kicked = true;
	pthread_cond_signal(&ob->wake);
	pthread_mutex_unlock(&ob->lock);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int outbox_add(store_conn_t *w, int64_t org, const char *source, const char *channel, const char *target,
               const char *subject, const char *payload, const char *attachment)
{
	store_stmt_t *st = store_prepare(w, "INSERT INTO notify_outbox(org, id, source, channel, target, subject, payload, "
	                                    "attachment, next_at, created_at) SELECT ?, coalesce(max(id), 0) + 1, ?, ?, "
	                                    "?, ?, ?, ?, ?, ? FROM notify_outbox WHERE org = ?");
	if (!st)
		return -1;
	int64_t now = now_ms();
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, source, strlen(source));
	store_bind_text(st, 3, channel, strlen(channel));
	store_bind_text(st, 4, target, strlen(target));
	store_bind_text(st, 5, subject, strlen(subject));
	store_bind_text(st, 6, payload, strlen(payload));
	store_bind_text(st, 7, attachment ? attachment : "", attachment ? strlen(attachment) : 0);
	store_bind_i64(st, 8, now);
	store_bind_i64(st, 9, now / 1000);
	store_bind_i64(st, 10, org);
	return store_step(st) == STORE_DONE ? 0 : -1;
}

int outbox_secret(store_conn_t *w, int64_t org, char out[65])
{
	store_stmt_t *st = store_prepare(w, "SELECT secret FROM notify_keys WHERE org = ?");
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	store_status s = store_step(st);
	if (s == STORE_ROW) {
		size_t n;
		const char *p = store_col_text(st, 0, &n);
		snprintf(out, 65, "%.*s", (int)n, p);
	}
	store_reset(st);
	if (s == STORE_ROW)
		return 0;
	if (s != STORE_DONE)
		return -1;
	uint8_t raw[32];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(out, 65, raw, sizeof raw);
	st = store_prepare(w, "INSERT INTO notify_keys(org, secret) VALUES(?, ?)");
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	store_bind_text(st, 2, out, 64);
	return store_step(st) == STORE_DONE ? 0 : -1;
}

void outbox_sign(const char *secret, int64_t ts, const char *body, size_t len, char out[128])
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state h;
	char pre[32];
	int n = snprintf(pre, sizeof pre, "%lld.", (long long)ts);
	crypto_auth_hmacsha256_init(&h, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&h, (const unsigned char *)pre, (unsigned long long)n);
	crypto_auth_hmacsha256_update(&h, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&h, mac);
	char hex[2 * sizeof mac + 1];
	sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
	snprintf(out, 128, "t=%lld,sha256=%s", (long long)ts, hex);
}

int outbox_json(store_conn_t *c, int64_t org, int limit, buf_t *out)
{
	store_stmt_t *st = store_prepare(c, "SELECT id, source, channel, target, state, attempts, last_status, last_error, "
	                                    "created_at, sent_at FROM notify_outbox WHERE org = ? ORDER BY id DESC LIMIT ?");
	if (!st)
		return -1;
	store_bind_i64(st, 1, org);
	store_bind_i64(st, 2, limit);
	buf_puts(out, "{\"items\":[");
	store_status s;
	bool first = true;
	while ((s = store_step(st)) == STORE_ROW) {
		size_t n;
		const char *p;
		char ts[24];
		buf_printf(out, "%s{\"id\":%lld", first ? "" : ",", (long long)store_col_i64(st, 0));
		static const char *const names[] = {NULL, "source", "channel", "target", "state"};
		for (int i = 1; i <= 4; i++) {
			p = store_col_text(st, i, &n);
			buf_printf(out, ",\"%s\":", names[i]);
			buf_json_str(out, p, n);
		}
		buf_printf(out, ",\"attempts\":%lld,\"last_status\":%lld,\"last_error\":", (long long)store_col_i64(st, 5),
		           (long long)store_col_i64(st, 6));
		p = store_col_text(st, 7, &n);
		buf_json_str(out, p, n);
		date_utc_iso(store_col_i64(st, 8), ts);
		buf_printf(out, ",\"created_at\":\"%s\",\"sent_at\":", ts);
		if (store_col_is_null(st, 9))
			buf_puts(out, "null");
		else {
			date_utc_iso(store_col_i64(st, 9), ts);
			buf_printf(out, "\"%s\"", ts);
		}
		buf_putc(out, '}');
		first = false;
	}
	store_reset(st);
	buf_puts(out, "]}");
	return s == STORE_DONE ? 0 : -1;
}

/* ---- sending ---- */

typedef struct {
	int64_t org, id, next_at;
	int attempts;
	char *channel, *target, *subject, *payload, *attachment;
} delivery;

static void delivery_free(delivery *d)
{
	free(d->channel);
	free(d->target);
	free(d->subject);
	free(d->payload);
	free(d->attachment);
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	return size * n;
}

/* POSTs the payload, signed. Returns the HTTP status (0: no answer) and a
 * reason in err when it is not 2xx. */
static long send_webhook(outbox_t *ob, const delivery *d, const char *secret, char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "curl: cannot start a request");
		return 0;
	}
	char sig[160], hdr[200];
	int64_t ts = now_ms() / 1000;
	outbox_sign(secret, ts, d->payload, strlen(d->payload), sig);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	h = curl_slist_append(h, "User-Agent: brisk/" BRISK_VERSION);
	snprintf(hdr, sizeof hdr, "X-Brisk-Signature: %s", sig);
	h = curl_slist_append(h, hdr);
	snprintf(hdr, sizeof hdr, "X-Brisk-Delivery: %lld", (long long)d->id);
	h = curl_slist_append(h, hdr);
	curl_easy_setopt(c, CURLOPT_URL, d->target);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->payload);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(d->payload));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)ob->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK)
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
	else if (status < 200 || status > 299)
		snprintf(err, errlen, "the receiver answered %ld", status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

/* "Subject: ..." with RFC 2047 encoding when it is not plain ASCII. */
static void subject_header(const char *s, char *out, size_t len)
{
	bool ascii = true;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p >= 0x80 || (unsigned char)*p < 0x20)
			ascii = false;
	if (ascii) {
		snprintf(out, len, "Subject: %s", s);
		return;
	}
	char b64[400];
	size_t n = strlen(s) > 280 ? 280 : strlen(s);
	sodium_bin2base64(b64, sizeof b64, (const unsigned char *)s, n, sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, len, "Subject: =?UTF-8?B?%s?=", b64);
}

static long send_email(outbox_t *ob, const delivery *d, char *err, size_t errlen)
{
	if (!ob->smtp_url) {
		snprintf(err, errlen, "no SMTP relay is configured (notify.smtp_url)");
		return 0;
	}
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "curl: cannot start a request");
		return 0;
	}
	char from[300], to[600], hdr[700], date[64];
	const char *sender = ob->smtp_from ? ob->smtp_from : "brisk@localhost";
	snprintf(from, sizeof from, "<%s>", sender);
	snprintf(to, sizeof to, "<%s>", d->target);
	struct curl_slist *rcpt = curl_slist_append(NULL, to);
	struct curl_slist *h = NULL;
	subject_header(d->subject, hdr, sizeof hdr);
	h = curl_slist_append(h, hdr);
	snprintf(hdr, sizeof hdr, "From: brisk <%s>", sender);
	h = curl_slist_append(h, hdr);
	snprintf(hdr, sizeof hdr, "To: %s", to);
	h = curl_slist_append(h, hdr);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "Date: %a, %d %b %Y %H:%M:%S +0000", &tm);
	h = curl_slist_append(h, date);
	curl_mime *mime = curl_mime_init(c);
	curl_mimepart *part = curl_mime_addpart(mime);
	curl_mime_data(part, d->payload, CURL_ZERO_TERMINATED);
	curl_mime_type(part, "text/plain; charset=utf-8");
	if (d->attachment && *d->attachment) {
		part = curl_mime_addpart(mime);
		curl_mime_filedata(part, d->attachment);
		curl_mime_encoder(part, "base64");
		const char *ext = strrchr(d->attachment, '.');
		curl_mime_type(part, ext && !strcmp(ext, ".pdf")    ? "application/pdf"
		                     : ext && !strcmp(ext, ".csv")  ? "text/csv"
		                     : ext && !strcmp(ext, ".xlsx") ? "application/vnd.openxmlformats-officedocument."
		                                                      "spreadsheetml.sheet"
		                                                    : "application/octet-stream");
	}
	curl_easy_setopt(c, CURLOPT_URL, ob->smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)ob->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (ob->smtp_user) {
		curl_easy_setopt(c, CURLOPT_USERNAME, ob->smtp_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, ob->smtp_password ? ob->smtp_password : "");
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	}
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK)
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
	curl_mime_free(mime);
	curl_slist_free_all(h);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? (status ? status : 250) : 0;
}

static int due(outbox_t *ob, delivery *out, int cap)
{
	store_conn_t *c = store_read_begin(ob->store);
	store_stmt_t *st = store_prepare(c, "SELECT org, id, next_at, attempts, channel, target, subject, payload, "
	                                    "attachment FROM notify_outbox WHERE state = 'pending' AND next_at <= ? "
	                                    "ORDER BY next_at LIMIT ?");
	int n = 0;
	if (st) {
		store_bind_i64(st, 1, now_ms());
		store_bind_i64(st, 2, cap);
		while (n < cap && store_step(st) == STORE_ROW) {
			delivery *d = &out[n++];
			size_t len;
			const char *p;
			d->org = store_col_i64(st, 0);
			d->id = store_col_i64(st, 1);
			d->next_at = store_col_i64(st, 2);
			d->attempts = (int)store_col_i64(st, 3);
			char **fields[] = {&d->channel, &d->target, &d->subject, &d->payload, &d->attachment};
			for (int i = 0; i < 5; i++) {
				p = store_col_text(st, 4 + i, &len);
				*fields[i] = xstrndup(p, len);
			}
		}
		store_reset(st);
	}
	store_read_end(c);
	return n;
}

/* Claims d by moving its next_at past the attempt's end, so another
 * instance does not send it too; reads the org's secret for webhooks. */
static bool claim(outbox_t *ob, delivery *d, char secret[65])
{
	char err[256];
	store_conn_t *w = store_write_begin(ob->store, err, sizeof err);
	if (!w)
		return false;
	store_stmt_t *st = store_prepare(w, "UPDATE notify_outbox SET next_at = ? WHERE org = ? AND id = ? AND "
	                                    "state = 'pending' AND next_at = ?");
	bool ok = false;
	if (st) {
		store_bind_i64(st, 1, now_ms() + 2 * (int64_t)ob->timeout_ms + 1000);
		store_bind_i64(st, 2, d->org);
		store_bind_i64(st, 3, d->id);
		store_bind_i64(st, 4, d->next_at);
		ok = store_step(st) == STORE_DONE && store_changes(w) == 1;
	}
	if (ok && !strcmp(d->channel, "webhook"))
		ok = outbox_secret(w, d->org, secret) == 0;
	if (!ok) {
		store_write_rollback(w);
		return false;
	}
	return store_write_commit(w, err, sizeof err) == 0;
}

static void record(outbox_t *ob, const delivery *d, long status, bool sent, const char *why)
{
	int attempts = d->attempts + 1;
	bool failed = !sent && attempts >= ob->max_attempts;
	int64_t backoff = (int64_t)ob->retry_base_ms << (attempts - 1 < 16 ? attempts - 1 : 16);
	for (int i = 0; i < 50; i++) {
		char err[256];
		store_conn_t *w = store_write_begin(ob->store, err, sizeof err);
		if (!w)
			continue;
		store_stmt_t *st = store_prepare(w, "UPDATE notify_outbox SET state = ?, attempts = ?, last_status = ?, "
		                                    "last_error = ?, next_at = ?, sent_at = ? WHERE org = ? AND id = ?");
		if (st) {
			const char *state = sent ? "sent" : failed ? "failed" : "pending";
			store_bind_text(st, 1, state, strlen(state));
			store_bind_i64(st, 2, attempts);
			store_bind_i64(st, 3, status);
			store_bind_text(st, 4, why, strlen(why));
			store_bind_i64(st, 5, now_ms() + backoff);
			if (sent)
				store_bind_i64(st, 6, now_ms() / 1000);
			else
				store_bind_null(st, 6);
			store_bind_i64(st, 7, d->org);
			store_bind_i64(st, 8, d->id);
			if (store_step(st) == STORE_DONE && store_write_commit(w, err, sizeof err) == 0)
				break;
		}
		store_write_rollback(w);
	}
	if (!sent)
		log_warn("notify: %s delivery %lld of org %lld to %s %s: %s", d->channel, (long long)d->id,
		         (long long)d->org, d->target, failed ? "failed for good" : "failed, will retry", why);
}

static void *run(void *arg)
{
	outbox_t *ob = arg;
	for (;;) {
		pthread_mutex_lock(&ob->lock);
		if (!ob->kicked && !ob->stop) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&ob->wake, &ob->lock, &ts);
		}
		ob->kicked = false;
		bool stop = ob->stop;
		pthread_mutex_unlock(&ob->lock);
		if (stop)
			break;
		delivery batch[16];
		int n = due(ob, batch, 16);
		for (int i = 0; i < n; i++) {
			delivery *d = &batch[i];
			char secret[65] = "", err[256] = "";
			if (claim(ob, d, secret)) {
				long status = !strcmp(d->channel, "webhook") ? send_webhook(ob, d, secret, err, sizeof err)
				                                             : send_email(ob, d, err, sizeof err);
				record(ob, d, status, !err[0], err);
			}
			delivery_free(d);
		}
	}
	return NULL;
}

void outbox_start(outbox_t *ob)
{
	if (pthread_create(&ob->tid, NULL, run, ob) == 0)
		ob->started = true;
}

void outbox_free(outbox_t *ob)
{
	if (!ob)
		return;
	if (ob->started) {
		pthread_mutex_lock(&ob->lock);
		ob->stop = true;
		pthread_cond_signal(&ob->wake);
		pthread_mutex_unlock(&ob->lock);
		pthread_join(ob->tid, NULL);
	}
	pthread_mutex_destroy(&ob->lock);
	pthread_cond_destroy(&ob->wake);
	free(ob->smtp_url);
	free(ob->smtp_from);
	free(ob->smtp_user);
	free(ob->smtp_password);
	free(ob);
}
